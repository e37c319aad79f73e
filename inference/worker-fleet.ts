import { SpillwayError } from '../common/errors.ts';
import { workersFor } from '../common/fault-size.ts';
import { type GatedAdapter, gatedInfra } from '../common/gated-infra.ts';
import type { Infra } from '../common/infra.ts';
import type { ModelRunner } from './model-runner.ts';

/** One running worker as the fleet drives it (InferenceWorker with its signal reports). */
export interface FleetWorker {
  /** SIGTERM: running jobs stop at their checkpoint and are handed off. */
  close(): Promise<void>;
  /** kill -9 (InferenceWorker.crash). */
  crash(): Promise<void>;
}

export interface FleetDeps {
  /** Worker ids are this, a dash and a serial number never given twice. */
  baseId: string;
  infra: Infra;
  /** The stack's model threads, shared by the workers it starts with. */
  models: ModelRunner;
  /** Starts one worker of one slot. */
  startWorker(id: string, infra: Infra, models: ModelRunner): Promise<FleetWorker>;
  /** Model threads of its own for an added worker, as a new inference process brings its own. */
  startModels(): Promise<ModelRunner>;
}

interface Member {
  id: string;
  worker: FleetWorker;
  /** Models of its own (an added worker), closed with it; null when it shares the stack's. */
  ownModels: ModelRunner | null;
  /** Cuts its stores and queue off: every call it makes from then on fails. */
  sever(): void;
}

/** Who a kill took, so its undo starts the same kinds of worker again. */
export interface Killed {
  count: number;
  of: number;
  withOwnModels: number;
}

const ADAPTERS: GatedAdapter[] = ['jobs', 'events', 'accounts', 'coord', 'blobs', 'queue'];

/**
 * The embedded stack's inference as workers of one slot each, so that faults can kill a fraction
 * of them, or add some, where the distributed stack kills and starts whole inference processes.
 * Used only with fault hooks on; without them one worker holds every slot. Victims are the newest
 * workers, as on the distributed stack; every worker started gets a new id.
 */
export class WorkerFleet {
  private members: Member[] = [];
  private serial = 0;

  constructor(private readonly d: FleetDeps) {}

  ids(): string[] {
    return this.members.map((m) => m.id);
  }

  /** Starts `n` workers on the stack's models. */
  async start(n: number): Promise<string[]> {
    return this.grow(n, false);
  }

  /**
   * kill -9 of a fraction of the workers (one at least, as a fault asked for): each is cut off
   * from its stores and queue first, since a dead process writes nothing more, then crashed.
   */
  async kill(fraction: number): Promise<Killed> {
    const of = this.members.length;
    if (of === 0) throw new SpillwayError('fault_failed', 'no live inference worker to kill');
    const n = workersFor(fraction, of);
    const victims = this.members.slice(-n);
    this.members = this.members.slice(0, of - n);
    for (const v of victims) v.sever();
    await Promise.all(victims.map((v) => v.worker.crash()));
    await Promise.all(victims.map((v) => v.ownModels?.close()));
    return { count: n, of, withOwnModels: victims.filter((v) => v.ownModels).length };
  }

  /** Starts fresh workers (new ids) in place of killed ones. */
  async restore(killed: Killed): Promise<string[]> {
    const own = await this.grow(killed.withOwnModels, true);
    return [...own, ...(await this.grow(killed.count - killed.withOwnModels, false))];
  }

  /** Adds `n` workers, each with model threads of its own. */
  async add(n: number): Promise<string[]> {
    return this.grow(n, true);
  }

  /** Stops the given workers gracefully (those still live); the rest keep running. */
  async remove(ids: string[]): Promise<void> {
    const leaving = this.members.filter((m) => ids.includes(m.id));
    this.members = this.members.filter((m) => !ids.includes(m.id));
    await Promise.all(leaving.map((m) => this.stop(m)));
  }

  async close(): Promise<void> {
    const all = this.members;
    this.members = [];
    await Promise.all(all.map((m) => this.stop(m)));
  }

  private async stop(m: Member): Promise<void> {
    await m.worker.close();
    await m.ownModels?.close();
  }

  private async grow(n: number, ownModels: boolean): Promise<string[]> {
    const started = await Promise.all(Array.from({ length: n }, () => this.startMember(ownModels)));
    this.members.push(...started);
    return started.map((m) => m.id);
  }

  private async startMember(withOwnModels: boolean): Promise<Member> {
    const id = `${this.d.baseId}-${++this.serial}`;
    let severed = false;
    const gone = () =>
      severed ? Promise.reject(new SpillwayError('worker_killed', `${id} was killed`)) : undefined;
    const infra = gatedInfra(this.d.infra, Object.fromEntries(ADAPTERS.map((a) => [a, gone])));
    const ownModels = withOwnModels ? await this.d.startModels() : null;
    try {
      const worker = await this.d.startWorker(id, infra, ownModels ?? this.d.models);
      const sever = () => {
        severed = true;
      };
      return { id, worker, ownModels, sever };
    } catch (err) {
      await ownModels?.close();
      throw err;
    }
  }
}
