import type { Hono } from 'hono';
import type { AdmissionState } from '../common/contracts/index.ts';
import type { Infra } from '../common/infra.ts';
import { type Logger, rateLimitedLog } from '../common/log.ts';
import type { PolicySource } from '../common/policy/policy-source.ts';
import { BlobSweeper, type BlobSweeperOptions } from './blob-sweeper.ts';
import { type ControllerMemory, type ControlView, controlStep } from './control-step.ts';
import { resumeFrom, toHandover } from './handover.ts';
import { ControlHistory } from './history.ts';
import { LeaderLease, leaseTtlMs } from './leader-lease.ts';
import { controllerMetrics } from './metrics.ts';
import type { ControlInputs } from './observation.ts';
import { Reaper } from './reaper.ts';
import { statusApp } from './status-app.ts';

export interface ControllerStatus {
  id: string;
  leader: boolean;
  epoch: number;
  /** Version of the last state this controller published (0 = none yet). */
  version: number;
  lastPublishedAt: number | null;
  law: string;
  policyVersion: string;
  lastError: string | null;
  /** When this leader carried on from its predecessor's memory: whose, and how old it was. */
  resumedFrom: { epoch: number; ageMs: number } | null;
}

export interface ControllerDeps {
  infra: Infra;
  policy: PolicySource;
  log: Logger;
  id: string;
  /** Clock; tests may pass a fake one. */
  now?: () => number;
  /** When old images are deleted (defaults: a day past the job store's terminal retention, hourly). */
  blobSweep?: BlobSweeperOptions;
}

/** Jobs the reaper handles per interval, so a huge backlog of overdue jobs cannot stall the loop. */
const REAPER_BATCH = 500;

/**
 * The controller process part: every interval renews the leader lease and, as leader, reads the
 * signals, runs the control step, publishes the admission state, runs the reaper and, when one is
 * due, starts the sweep of old images. Standbys only keep trying the lease. Everything it decides
 * comes from controlStep, which is pure.
 */
export class Controller {
  readonly history = new ControlHistory();
  private memory: ControllerMemory | null = null;
  private lastState: AdmissionState | null = null;
  private lastView: ControlView | null = null;
  private version = 0;
  private lastPublishedAt: number | null = null;
  private lastError: string | null = null;
  /** Whether the last interval found this controller leading (a change means a takeover). */
  private leading = false;
  private resumedFrom: ControllerStatus['resumedFrom'] = null;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;
  private readonly lease: LeaderLease;
  private readonly reaper: Reaper;
  private readonly blobSweeper: BlobSweeper;
  private readonly now: () => number;
  private readonly logError = rateLimitedLog(1);

  constructor(private readonly deps: ControllerDeps) {
    this.now = deps.now ?? Date.now;
    this.lease = new LeaderLease(deps.infra.coord, deps.id);
    const tiers = Object.values(deps.policy.current().policy.tiers);
    this.reaper = new Reaper(deps.infra, {
      // A passed-over job should still get the chance to be answered synchronously.
      unclaimedMs: Math.min(...tiers.map((t) => t.syncWait)) / 2,
      limit: REAPER_BATCH,
    });
    this.blobSweeper = new BlobSweeper(deps.infra.blobs, deps.log, deps.blobSweep);
  }

  start() {
    const loop = async () => {
      if (this.stopped) return;
      this.running = this.tick();
      await this.running;
      if (!this.stopped) this.timer = setTimeout(loop, this.deps.policy.current().policy.control.interval);
    };
    void loop();
  }

  /** One interval; exposed so tests can drive the controller without waiting for timers. */
  async tick(): Promise<void> {
    const active = this.deps.policy.current();
    const interval = active.policy.control.interval;
    try {
      const now = this.now();
      await this.lease.renew(leaseTtlMs(interval), now);
      controllerMetrics.leader(this.deps.id, this.lease.isLeader(now));
      if (!this.lease.isLeader(now)) {
        this.leading = false;
        return;
      }
      if (!this.leading) await this.takeOver(now, active.policy.control.ttl);
      const inputs = await this.readInputs(now);
      if (this.version === 0) this.version = (await this.deps.infra.coord.readAdmission())?.version ?? 0;
      const out = controlStep(inputs, this.memory, active, {
        version: this.version + 1,
        epoch: this.lease.epoch,
      });
      const handover = toHandover(out.memory, this.lease.epoch, now);
      const ok = await this.deps.infra.coord.publishAdmission(out.state, handover);
      controllerMetrics.published(ok);
      if (!ok) {
        this.lease.depose();
        this.leading = false;
        this.deps.log.warn({ epoch: out.state.epoch }, 'admission publication fenced: a newer leader exists');
        return;
      }
      this.version = out.state.version;
      this.memory = out.memory;
      this.lastState = out.state;
      this.lastView = out.view;
      this.lastPublishedAt = now;
      this.history.record(out.state, out.view);
      controllerMetrics.state(out.state, out.view);
      controllerMetrics.policy(active.version);
      const reaped = await this.reaper.sweep(now);
      controllerMetrics.reaped(reaped.requeued, reaped.expired);
      void this.blobSweeper.maybeStart(now);
      this.lastError = null;
    } catch (err) {
      this.lastError = (err as Error).message;
      this.logError((dropped) => this.deps.log.error({ err, dropped }, 'controller interval failed'));
    }
  }

  /**
   * Becoming leader: carry on from the predecessor's memory when it handed over a usable one, so
   * a failover keeps the learned capacity, demand and law state; otherwise start cold (capacity
   * unknown until workers are learned again, the static fallback rates meanwhile). Whatever this
   * controller remembered from an earlier term is older than that handover and is dropped.
   */
  private async takeOver(now: number, maxAgeMs: number) {
    const epoch = this.lease.epoch;
    const r = resumeFrom(await this.deps.infra.coord.readHandover(), epoch, now, maxAgeMs);
    this.memory = r.resumed ? r.memory : null;
    this.resumedFrom = r.resumed ? { epoch: r.fromEpoch, ageMs: r.ageMs } : null;
    this.leading = true;
    controllerMetrics.tookOver(r.resumed);
    if (r.resumed)
      this.deps.log.info(
        { epoch, from: r.fromEpoch, ageMs: r.ageMs },
        "leading: resumed the predecessor's memory",
      );
    else this.deps.log.info({ epoch, why: r.why }, 'leading: starting cold');
  }

  private async readInputs(now: number): Promise<ControlInputs> {
    const { infra } = this.deps;
    const [signals, queue, storePingMs] = await Promise.all([
      infra.coord.readSignals(),
      infra.jobs.queueStats(),
      infra.jobs.ping().catch(() => null),
    ]);
    return { now, signals, queue, storePingMs };
  }

  status(): ControllerStatus {
    const active = this.deps.policy.current();
    return {
      id: this.deps.id,
      leader: this.lease.isLeader(this.now()),
      epoch: this.lease.epoch,
      version: this.version,
      lastPublishedAt: this.lastPublishedAt,
      law: active.policy.control.law,
      policyVersion: active.version,
      lastError: this.lastError,
      resumedFrom: this.resumedFrom,
    };
  }

  snapshot() {
    return { status: this.status(), state: this.lastState, view: this.lastView, history: this.history.all() };
  }

  policySource(): PolicySource {
    return this.deps.policy;
  }

  /** Stops the loop; `release` hands the lease over at once (a killed process cannot). */
  async stop(release: boolean) {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
    await this.blobSweeper.stop();
    if (release) await this.lease.release().catch(() => {});
    controllerMetrics.leader(this.deps.id, false);
  }
}

export async function startController(deps: ControllerDeps): Promise<{
  close(): Promise<void>;
  /** Stops without releasing the lease, as a killed process would (tests of the takeover). */
  crash(): Promise<void>;
  status(): ControllerStatus;
  app: Hono;
  controller: Controller;
}> {
  const controller = new Controller(deps);
  controller.start();
  deps.log.info({ id: deps.id }, 'controller started');
  return {
    close: () => controller.stop(true),
    crash: () => controller.stop(false),
    status: () => controller.status(),
    app: statusApp(controller),
    controller,
  };
}
