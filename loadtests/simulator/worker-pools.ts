import type { WorkerSignal } from '../../common/contracts/index.ts';

/**
 * The simulated inference workers, grouped in pools that each report like one worker. Killing a
 * fraction of the workers kills whole pools (their signals stop, as a dead process's would);
 * bringing them back restarts their counters from zero, as a restarted process does.
 */
const MIN_REPORTED_USE = 0.1;

/**
 * A pool stands for many workers. At low load some of them are busy and learn their capacity
 * from what they finish; a pool reporting the fleet's average use would stay below the
 * controller's learning threshold for ever. So a pool with any work reports at least 10 % busy
 * (snapshot and cumulative alike): its capacity is then under-estimated (safe) until admission
 * lets more work in.
 */
function reportedUse(utilisation: number): number {
  return utilisation > 0 ? Math.max(utilisation, MIN_REPORTED_USE) : 0;
}

interface Pool {
  id: string;
  alive: boolean;
  costFinished: number;
  jobsFinished: number;
  jobsStarted: number;
  jobsAborted: number;
  /** Cumulative slot-milliseconds busy, as a real worker reports it (WorkerSignal.busySlotMs). */
  busySlotMs: number;
}

export class WorkerPools {
  private readonly pools: Pool[] = [];
  private generation = 0;

  constructor(
    count: number,
    private readonly lanes: string[],
    private readonly passMs: number,
    private readonly passes: number,
  ) {
    for (let i = 0; i < count; i++) this.pools.push(this.fresh(i));
  }

  private fresh(i: number): Pool {
    return {
      id: `sim-worker-${i}-${this.generation}`,
      alive: true,
      costFinished: 0,
      jobsFinished: 0,
      jobsStarted: 0,
      jobsAborted: 0,
      busySlotMs: 0,
    };
  }

  get alive(): number {
    return this.pools.filter((p) => p.alive).length;
  }

  get size(): number {
    return this.pools.length;
  }

  /** Kills `n` live pools; returns their indexes so the fault can bring them back. */
  kill(n: number): number[] {
    const killed: number[] = [];
    for (let i = this.pools.length - 1; i >= 0 && killed.length < n; i--) {
      if (!this.pools[i].alive) continue;
      this.pools[i].alive = false;
      killed.push(i);
    }
    return killed;
  }

  revive(indexes: number[]) {
    this.generation++;
    for (const i of indexes) this.pools[i] = this.fresh(i);
  }

  add(n: number): number[] {
    const added: number[] = [];
    for (let k = 0; k < n; k++) {
      added.push(this.pools.length);
      this.pools.push(this.fresh(this.pools.length));
    }
    return added;
  }

  remove(indexes: number[]) {
    for (const i of indexes) this.pools[i].alive = false;
  }

  /**
   * Books one step's work on the live pools, evenly: `utilisation` of their GPU time was busy
   * for `dtMs` with the slots `perPoolCapacity` gives them.
   */
  book(
    servedCost: number,
    jobsStarted: number,
    jobsAborted: number,
    busy: { utilisation: number; dtMs: number; perPoolCapacity: number },
  ) {
    const live = this.pools.filter((p) => p.alive);
    if (live.length === 0) return;
    const slotMs = reportedUse(busy.utilisation) * busy.dtMs * this.slotsFor(busy.perPoolCapacity);
    for (const p of live) {
      p.busySlotMs += slotMs;
      p.costFinished += servedCost / live.length;
      p.jobsFinished += jobsStarted / live.length;
      p.jobsStarted += jobsStarted / live.length;
      p.jobsAborted += jobsAborted / live.length;
    }
  }

  /**
   * Slots: one job holds a slot for all its passes, so a pool finishing C cost units a second
   * with jobs of `passes × passMs` has C × that many slots.
   */
  private slotsFor(perPoolCapacity: number): number {
    return Math.max(1, Math.round((perPoolCapacity * this.passes * this.passMs) / 1000));
  }

  signals(
    now: number,
    perPoolCapacity: number,
    utilisation: number,
    extra: { storeMs: number; blobMs: number; oldestMs: number },
  ): WorkerSignal[] {
    const slotsTotal = this.slotsFor(perPoolCapacity);
    const slotsBusy = Math.min(slotsTotal, Math.ceil(reportedUse(utilisation) * slotsTotal));
    return this.pools
      .filter((p) => p.alive)
      .map((p) => ({
        source: 'worker' as const,
        id: p.id,
        at: now,
        lanes: this.lanes,
        slotsBusy,
        slotsTotal,
        passLatencyEwmaMs: this.passMs,
        passLatencyP95Ms: this.passMs * 1.2,
        baselinePassMs: this.passMs,
        jobsStarted: Math.round(p.jobsStarted),
        jobsFinished: Math.round(p.jobsFinished),
        jobsAborted: Math.round(p.jobsAborted),
        costFinished: p.costFinished,
        busySlotMs: p.busySlotMs,
        oldestJobAgeMs: extra.oldestMs,
        blobWriteMs: extra.blobMs,
        storeLatencyMs: extra.storeMs,
      }));
  }
}
