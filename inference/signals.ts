import type { WorkerSignal } from '../common/contracts/index.ts';
import type { CoordinationStore } from '../common/store/coordination-store.ts';

/** Passes smaller than this are mostly fixed overhead and would skew a per-pixel latency. */
const MIN_SAMPLE_PIXELS = 256 * 256;
const WINDOW = 256;
const ALPHA = 0.2;

/**
 * The worker's saturation numbers. Pass latency (passLatencyEwmaMs, passLatencyP95Ms and
 * baselinePassMs alike) is in milliseconds per megapixel of decoded output, so passes of different
 * sizes are comparable: the controller only reads the ratio of latency to baseline (controller/
 * saturation.ts), which is then how contended the "GPU" (here: the cores) is, whatever the mix of
 * sizes. costFinished is in policy cost units, the same units admission charges.
 */
export class WorkerStats {
  slotsBusy = 0;
  jobsStarted = 0;
  jobsFinished = 0;
  jobsAborted = 0;
  costFinished = 0;
  private ewma = 0;
  private baseline = 0;
  private readonly recent: number[] = [];
  private blobMs = 0;
  private storeMs = 0;
  private readonly started = new Map<string, number>();
  /** Jobs holding a slot, with when they took it: a job's tail runs after it gave the slot back. */
  private readonly holding = new Map<string, number>();
  /** Slot-milliseconds of slots given back (busySlotMs adds the ones still held). */
  private busyMs = 0;

  constructor(
    readonly slotsTotal: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** A pass measured with nothing else running sets the baseline (a slow moving average). */
  recordPass(width: number, height: number, ms: number): void {
    const pixels = width * height;
    if (pixels < MIN_SAMPLE_PIXELS) return;
    const perMp = (ms * 1e6) / pixels;
    this.ewma = this.ewma === 0 ? perMp : this.ewma + ALPHA * (perMp - this.ewma);
    this.recent.push(perMp);
    if (this.recent.length > WINDOW) this.recent.shift();
    if (this.slotsBusy <= 1) this.calibrate(perMp);
  }

  calibrate(perMp: number): void {
    this.baseline = this.baseline === 0 ? perMp : this.baseline + 0.05 * (perMp - this.baseline);
  }

  recordBlobWrite(ms: number): void {
    this.blobMs = this.blobMs === 0 ? ms : this.blobMs + ALPHA * (ms - this.blobMs);
  }

  recordStore(ms: number): void {
    this.storeMs = this.storeMs === 0 ? ms : this.storeMs + ALPHA * (ms - this.storeMs);
  }

  jobStarted(id: string): void {
    this.jobsStarted++;
    this.slotsBusy++;
    const now = this.now();
    this.holding.set(id, now);
    this.started.set(id, now);
  }

  /** The job's models are done; its slot serves the next job while it finishes. */
  slotReleased(id: string): void {
    const since = this.holding.get(id);
    if (since === undefined) return;
    this.holding.delete(id);
    this.busyMs += Math.max(0, this.now() - since);
    this.slotsBusy = Math.max(0, this.slotsBusy - 1);
  }

  jobEnded(id: string, outcome: 'finished' | 'aborted', cost: number): void {
    this.slotReleased(id);
    this.started.delete(id);
    if (outcome === 'finished') {
      this.jobsFinished++;
      this.costFinished += cost;
    } else {
      this.jobsAborted++;
    }
  }

  private p95(): number {
    if (this.recent.length === 0) return 0;
    const sorted = [...this.recent].sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.95))];
  }

  /**
   * Cumulative slot-busy time, exact between reports: the controller divides its growth by
   * elapsed time × slots for the worker's mean use, where a slotsBusy snapshot would read a
   * worker that is busy at report time as busy all the time.
   */
  busySlotMs(now = this.now()): number {
    let held = 0;
    for (const since of this.holding.values()) held += Math.max(0, now - since);
    return this.busyMs + held;
  }

  signal(id: string, lanes: string[]): WorkerSignal {
    const now = this.now();
    const oldest = Math.min(now, ...this.started.values());
    return {
      source: 'worker',
      id,
      at: now,
      lanes,
      slotsBusy: this.slotsBusy,
      slotsTotal: this.slotsTotal,
      busySlotMs: this.busySlotMs(now),
      passLatencyEwmaMs: this.ewma,
      passLatencyP95Ms: this.p95(),
      baselinePassMs: this.baseline,
      jobsStarted: this.jobsStarted,
      jobsFinished: this.jobsFinished,
      jobsAborted: this.jobsAborted,
      costFinished: this.costFinished,
      oldestJobAgeMs: now - oldest,
      blobWriteMs: this.blobMs,
      storeLatencyMs: this.storeMs,
    };
  }
}

/** Reports the worker's signal every interval; a failed report is retried on the next tick. */
export function startSignalReporter(
  coord: CoordinationStore,
  build: () => WorkerSignal,
  intervalMs = 1000,
  onError: (err: unknown) => void = () => {},
): () => void {
  const tick = () => {
    coord.reportSignal(build(), intervalMs * 5).catch(onError);
  };
  tick();
  const timer = setInterval(tick, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
