import { createHash } from 'node:crypto';
import {
  DEAD_LETTER_TOPIC,
  isTerminal,
  JobMessage,
  type JobRecord,
  jobTopic,
  parseJobTopic,
} from '../common/contracts/index.ts';
import { SpillwayError } from '../common/errors.ts';
import type { Infra } from '../common/infra.ts';
import type { Logger } from '../common/log.ts';
import type { PolicySource } from '../common/policy/policy-source.ts';
import type { Consumer, Delivery } from '../common/queue/queue.ts';
import { guardJob } from './job-guard.ts';
import {
  deadLettered,
  deliveriesReleased,
  deliveryRetries,
  jobDuration,
  jobsByOutcome,
  jobsSkipped,
  passDuration,
  queueWait,
  reportBusySlots,
  slotsBusy,
} from './metrics.ts';
import type { ModelRunner } from './model-runner.ts';
import { type Outcome, runPipeline } from './pipeline.ts';
import { planRender } from './render-plan.ts';
import { chooseTier, initialSchedulerState, type SchedulerState, type TierWeight } from './scheduler.ts';
import { WorkerStats } from './signals.ts';
import { announceTerminal, finishAndAnnounce } from '../common/store/finish-and-announce.ts';

export interface WorkerOptions {
  infra: Infra;
  policy: PolicySource;
  log: Logger;
  workerId: string;
  slots: number;
  /** Lanes served; absent = every lane of the policy, followed as the policy changes. */
  lanes?: string[];
  models: ModelRunner;
  categories: { text: string[]; visual: string[] };
  leaseMs?: number;
  heartbeatMs?: number;
  /** Claims (or in-process exceptions) after which a job is dead-lettered and failed. */
  maxAttempts?: number;
  /**
   * Deliveries buffered per topic beyond the running ones; the topic is paused at it and resumed
   * once half of it is left, so a resume fetches a batch and the half still buffered covers the
   * fetch (up to the consumer's long-poll wait when the other topics are empty). Default
   * max(8, 4 × slots). Measured on distributed launch-day, 1 slot, 20 jobs/s in the spike: one per
   * slot, busy 40 % while jobs waited in Kafka; max(4, 2 × slots) resumed after every job, busy
   * dipping to 43 % for half a second at a time.
   */
  bufferPerTopic?: number;
  /**
   * How long a delivery is retried in place while the store (or queue) fails outside a run before
   * it is released: published again at the back of its topic and acked, so the partition's
   * commits move on and any worker may take it. Retries back off from 100 ms to 2 s.
   */
  deliveryRetryMs?: number;
  now?: () => number;
}

interface Buffered {
  delivery: Delivery;
  lane: string;
  tier: string;
  /** The lane's subscription it came from; a replaced subscription's deliveries are dropped. */
  generation: number;
}

interface RunningJob {
  abort: AbortController;
  done: Promise<void>;
  /** Its models are done; only storing the result is left. */
  tail: boolean;
}

interface Subscription {
  consumer: Consumer;
  topics: string[];
  generation: number;
}

const RETRY_BASE_MS = 100;
const RETRY_CAP_MS = 2_000;
const RELEASED_HEADER = 'x-spillway-released';

/** Failures that retrying cannot fix: the job fails at once. */
const PERMANENT = new Set(['edit_input_missing']);

export type SkipReason = 'cancelled' | 'expired' | 'terminal' | 'owned' | 'missing' | 'invalid';

/**
 * The consumer loop of one worker process: one consumer group per lane, tiers pulled by weight
 * from small local buffers, up to `slots` jobs at once. A delivery is acked only once its job is
 * terminal (or owned by someone else); on shutdown running jobs stop at their last checkpoint,
 * their leases are released and the unacked deliveries go back to the group.
 */
export class InferenceWorker {
  readonly stats: WorkerStats;
  private stopBusyReport: () => void = () => {};
  private readonly subscriptions = new Map<string, Subscription>();
  private generation = 0;
  private following: Promise<void> = Promise.resolve();
  private stopFollowing: () => void = () => {};
  private readonly buffers = new Map<string, Buffered[]>();
  private readonly paused = new Set<string>();
  private readonly running = new Map<string, RunningJob>();
  private schedule = new Map<string, SchedulerState>();
  private laneCursor = 0;
  private accepting = true;
  private busy = 0;
  /** Jobs that gave their slot back and are storing their result. */
  private finishing = 0;
  private readonly bufferPerTopic: number;
  private readonly now: () => number;

  constructor(private readonly o: WorkerOptions) {
    this.bufferPerTopic = o.bufferPerTopic ?? Math.max(8, 4 * o.slots);
    this.now = o.now ?? Date.now;
    this.stats = new WorkerStats(o.slots, this.now);
  }

  // Lease, attempts and delivery retry are policy (`workers:`), read at use so an edit applies to
  // the next claim; explicit options (tests) win.
  private get leaseMs(): number {
    return this.o.leaseMs ?? this.o.policy.current().policy.workers.lease;
  }

  private get maxAttempts(): number {
    return this.o.maxAttempts ?? this.o.policy.current().policy.workers.maxAttempts;
  }

  private get deliveryRetryMs(): number {
    return this.o.deliveryRetryMs ?? this.o.policy.current().policy.workers.deliveryRetry;
  }

  private tiers(): TierWeight[] {
    return Object.entries(this.o.policy.current().policy.tiers).map(([tier, t]) => ({
      tier,
      priority: t.priority,
      weight: t.weight,
      minShare: t.minShare,
    }));
  }

  private wantedLanes(): string[] {
    return this.o.lanes ?? Object.keys(this.o.policy.current().policy.lanes);
  }

  private topicsFor(lane: string): string[] {
    return this.tiers().map((t) => jobTopic(lane, t.tier));
  }

  async start(): Promise<void> {
    this.stopBusyReport = reportBusySlots(this.o.workerId, () => this.stats.busySlotMs());
    await this.followPolicy();
    // Topics are per lane × tier: a tier or lane added or removed by ops changes what to consume.
    this.stopFollowing = this.o.policy.onChange(() => {
      this.following = this.following
        .then(() => this.followPolicy())
        .catch((err) => this.o.log.error({ err }, 'resubscribing after a policy change failed'));
    });
  }

  /** Brings every lane's subscription in line with the policy's tiers (and lanes, when followed). */
  private async followPolicy(): Promise<void> {
    if (!this.accepting) return;
    const wanted = this.wantedLanes();
    for (const lane of wanted) {
      const topics = this.topicsFor(lane);
      const current = this.subscriptions.get(lane);
      if (current && sameSet(current.topics, topics)) continue;
      if (current) await this.unsubscribe(lane);
      await this.subscribe(lane, topics);
    }
    for (const lane of [...this.subscriptions.keys()]) {
      if (!wanted.includes(lane)) await this.unsubscribe(lane);
    }
  }

  private async subscribe(lane: string, topics: string[]): Promise<void> {
    await this.o.infra.queue.ensureTopics(topics);
    const generation = ++this.generation;
    const consumer = await this.o.infra.queue.consume({
      groupId: `spillway-workers-${lane}`,
      topics,
      onMessage: (d) => this.receive(d, generation),
    });
    this.subscriptions.set(lane, { consumer, topics, generation });
  }

  /**
   * Leaves the lane's group. Its unacked deliveries go back to the group (to this worker's next
   * subscription, or another member): buffered ones are dropped here, running ones finish, and
   * their redelivery is skipped as owned or terminal.
   */
  private async unsubscribe(lane: string): Promise<void> {
    const sub = this.subscriptions.get(lane);
    if (!sub) return;
    this.subscriptions.delete(lane);
    for (const topic of sub.topics) {
      this.paused.delete(topic);
      const kept = (this.buffers.get(topic) ?? []).filter((b) => b.generation !== sub.generation);
      this.buffers.set(topic, kept);
    }
    await sub.consumer.close();
  }

  private receive(delivery: Delivery, generation: number): void {
    const route = parseJobTopic(delivery.topic);
    if (!route || !this.accepting) return; // Not acked: it goes back to the group.
    const sub = this.subscriptions.get(route.lane);
    // A replaced subscription's late delivery: it is redelivered to the current one.
    if (!sub || sub.generation !== generation) return;
    const buffer = this.buffers.get(delivery.topic) ?? [];
    buffer.push({ delivery, lane: route.lane, tier: route.tier, generation });
    this.buffers.set(delivery.topic, buffer);
    if (buffer.length >= this.bufferPerTopic && !this.paused.has(delivery.topic)) {
      this.paused.add(delivery.topic);
      sub.consumer.pause([delivery.topic]);
    }
    this.dispatch();
  }

  /**
   * A slot is one job's claim on the models. It is given back when the delivery is handled, or
   * earlier, once the job needs no more model calls: storing its final image and finishing it
   * then overlap the next job's passes instead of leaving the models idle. At most `slots` jobs
   * finish that way at once, which bounds the frames held in memory.
   */
  private dispatch(): void {
    while (this.accepting && this.busy < this.o.slots) {
      const next = this.takeNext();
      if (!next) return;
      this.busy++;
      slotsBusy.set({ worker: this.o.workerId }, this.busy);
      let held = true;
      let early = false;
      const giveBack = () => {
        if (!held) return;
        held = false;
        this.busy--;
        slotsBusy.set({ worker: this.o.workerId }, this.busy);
        this.dispatch();
      };
      const releaseEarly = (): boolean => {
        if (!held || this.finishing >= this.o.slots) return false;
        early = true;
        this.finishing++;
        giveBack();
        return true;
      };
      void this.handle(next, releaseEarly).finally(() => {
        if (early) this.finishing--;
        giveBack();
      });
    }
  }

  /** Lanes in turn (bulkheads share this process's slots fairly), tiers by the scheduler. */
  private takeNext(): Buffered | null {
    const lanes = [...this.subscriptions.keys()];
    for (let i = 0; i < lanes.length; i++) {
      const lane = lanes[(this.laneCursor + i) % lanes.length];
      const waiting = new Set(
        this.tiers()
          .map((t) => t.tier)
          .filter((tier) => (this.buffers.get(jobTopic(lane, tier))?.length ?? 0) > 0),
      );
      const choice = chooseTier(this.tiers(), waiting, this.schedule.get(lane) ?? initialSchedulerState());
      if (!choice.tier) continue;
      this.schedule.set(lane, choice.state);
      this.laneCursor = (this.laneCursor + i + 1) % lanes.length;
      const topic = jobTopic(lane, choice.tier);
      const item = this.buffers.get(topic)!.shift()!;
      if (this.paused.has(topic) && this.buffers.get(topic)!.length <= this.bufferPerTopic / 2) {
        this.paused.delete(topic);
        this.subscriptions.get(lane)?.consumer.resume([topic]);
      }
      return item;
    }
    return null;
  }

  private skip(delivery: Delivery, reason: SkipReason): void {
    jobsSkipped.inc({ reason });
    delivery.ack();
  }

  /**
   * One delivery to its end: acked once handled, or left unacked only while this worker shuts down
   * (the group hands it on). A store or queue failure outside the run is retried in place with
   * backoff, then the delivery is released, so it never sits unacked holding back its partition.
   */
  private async handle(item: Buffered, releaseSlot: () => boolean): Promise<void> {
    const started = this.now();
    for (let attempt = 1; ; attempt++) {
      try {
        await this.handleOnce(item, releaseSlot);
        return;
      } catch (err) {
        deliveryRetries.inc();
        this.o.log.warn(
          { err, topic: item.delivery.topic, key: item.delivery.key, attempt },
          'delivery failed',
        );
      }
      if (!this.accepting) return;
      if (this.now() - started >= this.deliveryRetryMs && (await this.release(item.delivery))) return;
      await new Promise((r) => setTimeout(r, Math.min(RETRY_CAP_MS, RETRY_BASE_MS * 2 ** (attempt - 1))));
      if (!this.accepting) return;
    }
  }

  /** Publishes the message again at the back of its topic, then acks this delivery. */
  private async release(delivery: Delivery): Promise<boolean> {
    try {
      const times = Number(delivery.headers[RELEASED_HEADER] ?? 0) + 1;
      await this.o.infra.queue.publish(delivery.topic, {
        key: delivery.key,
        value: delivery.value,
        headers: { ...delivery.headers, [RELEASED_HEADER]: String(times) },
      });
    } catch (err) {
      this.o.log.warn({ err, topic: delivery.topic, key: delivery.key }, 'delivery release failed');
      return false;
    }
    deliveriesReleased.inc();
    delivery.ack();
    return true;
  }

  private async handleOnce(item: Buffered, releaseSlot: () => boolean): Promise<void> {
    const { delivery } = item;
    let message: JobMessage;
    try {
      message = JobMessage.parse(JSON.parse(delivery.value.toString('utf8')));
    } catch (err) {
      await this.deadLetter(null, delivery.value.toString('utf8'), 'invalid_message', String(err));
      return this.skip(delivery, 'invalid');
    }
    const log = this.o.log.child({
      jobId: message.id,
      // The same pseudonym the gateway logs, so one account's lines join up without its id.
      account: createHash('sha256').update(message.account).digest('hex').slice(0, 12),
      lane: message.lane,
      tier: message.tier,
      traceId: message.trace.traceparent.split('-')[1],
      traceparent: message.trace.traceparent,
    });
    // Only store/queue outages throw out of here; handle() retries them.
    await this.handleMessage(message, delivery, log, releaseSlot);
  }

  private async handleMessage(
    message: JobMessage,
    delivery: Delivery,
    log: Logger,
    releaseSlot: () => boolean,
  ): Promise<void> {
    const { jobs } = this.o.infra;
    const record = await jobs.get(message.id);
    if (!record) return this.skip(delivery, 'missing');
    if (isTerminal(record.state)) {
      await announceTerminal(this.o.infra.events, record);
      return this.skip(delivery, record.state === 'cancelled' ? 'cancelled' : 'terminal');
    }
    const now = this.now();
    if (record.state === 'queued' && now > record.deadline) {
      const error = { code: 'expired', message: 'the job waited past its deadline' };
      await finishAndAnnounce(this.o.infra, message.id, null, 'expired', { error }, now);
      log.info({ state: 'expired' }, 'job expired before it started');
      return this.skip(delivery, 'expired');
    }
    if (record.claims >= this.maxAttempts) {
      await this.deadLetter(
        record,
        message,
        'too_many_attempts',
        `claimed ${record.claims} times without finishing`,
      );
      return this.skip(delivery, 'terminal');
    }
    // Shutting down: leave it unacked for the group rather than start a run close() cannot see.
    if (!this.accepting) return;
    const claim = await jobs.claim(message.id, this.o.workerId, this.leaseMs, now);
    if (!claim.ok) {
      return this.skip(
        delivery,
        claim.code === 'owned' ? 'owned' : claim.code === 'terminal' ? 'terminal' : 'missing',
      );
    }
    // Queue positions only: a failure here must not send a claimed job back round the retry loop.
    await jobs
      .markServed(message.lane, message.tier, claim.record.ticket)
      .catch((err) => log.warn({ err }, 'mark served failed'));
    queueWait.observe(
      { lane: message.lane, tier: message.tier },
      Math.max(0, now - message.createdAt) / 1000,
    );
    log.debug({ attempt: claim.record.claims, fence: claim.fence }, 'job claimed');
    const outcome = await this.runClaimed(claim.record, claim.fence, log, releaseSlot);
    // Not acked: the group hands it to another worker.
    if (outcome === 'handed_off' || outcome === 'abandoned') return;
    delivery.ack();
  }

  private async runClaimed(
    record: JobRecord,
    fence: number,
    log: Logger,
    releaseSlot: () => boolean,
  ): Promise<string> {
    const abort = new AbortController();
    let progress = { pass: record.pass, passes: record.passes };
    const stopGuard = guardJob(
      {
        jobs: this.o.infra.jobs,
        events: this.o.infra.events,
        leaseMs: this.leaseMs,
        heartbeatMs: this.o.heartbeatMs,
        now: this.now,
      },
      record.id,
      fence,
      () => progress,
      abort,
    );
    let resolveDone!: () => void;
    const job: RunningJob = { abort, done: new Promise((r) => (resolveDone = r)), tail: false };
    this.running.set(record.id, job);
    this.stats.jobStarted(record.id);
    const started = performance.now();
    let label = 'failed';
    try {
      const onModelsDone = () => {
        job.tail = true;
        if (releaseSlot()) this.stats.slotReleased(record.id);
      };
      label = await this.runWithRetries(record, fence, abort, (p) => (progress = p), onModelsDone, log);
      return label;
    } finally {
      stopGuard();
      const finished = label === 'completed' || label === 'blocked' || label === 'failed';
      // The controller learns capacity as admitted cost retired per second and the cost per job as
      // cost over jobs finished: every finished job (blocked and failed too) retires its cost.
      this.stats.jobEnded(record.id, finished ? 'finished' : 'aborted', finished ? record.message.cost : 0);
      jobsByOutcome.inc({ lane: record.lane, tier: record.tier, outcome: label });
      jobDuration.observe(
        { lane: record.lane, tier: record.tier, operation: record.message.operation, outcome: label },
        (performance.now() - started) / 1000,
      );
      log.info({ outcome: label, ms: Math.round(performance.now() - started) }, 'job finished');
      this.running.delete(record.id);
      resolveDone();
    }
  }

  private async runWithRetries(
    claimed: JobRecord,
    fence: number,
    abort: AbortController,
    onProgress: (p: { pass: number; passes: number }) => void,
    onModelsDone: () => void,
    log: Logger,
  ): Promise<string> {
    let record = claimed;
    const plan = planRender(record.message, record, this.o.policy.current().policy);
    for (let attempt = 1; ; attempt++) {
      try {
        const outcome = await runPipeline(
          {
            jobs: this.o.infra.jobs,
            events: this.o.infra.events,
            blobs: this.o.infra.blobs,
            models: this.o.models,
            categories: this.o.categories,
            leaseMs: this.leaseMs,
            now: this.now,
            observer: {
              onPass: (w, h, ms) => {
                this.stats.recordPass(w, h, ms);
                passDuration.observe({ size: String(Math.max(w, h)) }, ms / 1000);
              },
              onBlobWrite: (ms) => this.stats.recordBlobWrite(ms),
              onStoreWrite: (ms) => this.stats.recordStore(ms),
            },
          },
          {
            record,
            fence,
            plan,
            signal: abort.signal,
            onProgress: (pass, passes) => onProgress({ pass, passes }),
            onModelsDone,
          },
        );
        return this.afterOutcome(record, fence, outcome, abort);
      } catch (err) {
        const code = err instanceof SpillwayError ? err.code : 'internal_error';
        log.warn({ err, attempt }, 'pipeline failed');
        if (abort.signal.aborted)
          return this.afterOutcome(record, fence, { kind: 'aborted', reason: 'signal' }, abort);
        if (PERMANENT.has(code) || attempt >= this.maxAttempts) {
          await this.deadLetter(
            record,
            record.message,
            code,
            err instanceof Error ? err.message : String(err),
            fence,
          );
          return 'failed';
        }
        await new Promise((r) => setTimeout(r, 50 * attempt));
        record = (await this.o.infra.jobs.get(record.id)) ?? record;
        // A write that timed out may have been applied: a job already terminal is done, and its
        // end must be announced rather than run again.
        if (isTerminal(record.state)) {
          await announceTerminal(this.o.infra.events, record);
          return record.state;
        }
      }
    }
  }

  private async afterOutcome(
    record: JobRecord,
    fence: number,
    outcome: Outcome,
    abort: AbortController,
  ): Promise<string> {
    if (outcome.kind !== 'aborted') return outcome.kind;
    // Crashed (see crash()): the lease stays as it was and lapses, as a dead process leaves it.
    if (abort.signal.reason === 'crash') return 'abandoned';
    if (abort.signal.reason !== 'shutdown') {
      // Aborted because the job ended (a finish whose reply or announcement was lost, a cancel):
      // its end must be in the event log, or its followers wait for it until they give up.
      const latest = await this.o.infra.jobs.get(record.id);
      if (latest) await announceTerminal(this.o.infra.events, latest);
      return 'aborted';
    }
    // Shutting down: the last checkpoint stands; give the lease up so another worker claims now.
    const latest = await this.o.infra.jobs.get(record.id);
    const now = this.now();
    if (latest) await this.o.infra.jobs.progress(record.id, fence, latest.pass, latest.passes, now - 1, now);
    return 'handed_off';
  }

  /** Parks a poisoned job on the dead-letter topic with its error and ends it `failed`. */
  private async deadLetter(
    record: JobRecord | null,
    message: JobMessage | string,
    code: string,
    detail: string,
    fence: number | null = null,
  ): Promise<void> {
    const id = record?.id ?? 'unknown';
    await this.o.infra.queue.publish(DEAD_LETTER_TOPIC, {
      key: id,
      value: Buffer.from(
        JSON.stringify({
          message,
          error: { code, message: detail },
          worker: this.o.workerId,
          at: this.now(),
        }),
      ),
      headers: { 'x-spillway-error': code },
    });
    deadLettered.inc();
    if (!record) return;
    const error = { code: 'job_failed', message: 'The image could not be generated. Please retry.' };
    await finishAndAnnounce(this.o.infra, record.id, fence, 'failed', { error }, this.now());
  }

  /**
   * SIGTERM: stop taking jobs, stop running ones at their checkpoint and hand them off, leave.
   * A job whose models are done is let finish: its image is rendered, only writes are left.
   */
  async close(): Promise<void> {
    this.accepting = false;
    this.stopFollowing();
    this.stopBusyReport();
    await this.following;
    for (const sub of this.subscriptions.values()) sub.consumer.pause(sub.topics);
    for (const job of this.running.values()) if (!job.tail) job.abort.abort('shutdown');
    await Promise.all([...this.running.values()].map((j) => j.done));
    await Promise.all([...this.subscriptions.values()].map((s) => s.consumer.close()));
    this.subscriptions.clear();
    this.buffers.clear();
  }

  /**
   * kill -9 of this worker alone, for the embedded stack's fault hooks: its workers share one
   * process, which a real kill would take down whole. It stops taking deliveries and leaves its
   * groups, so its unacked deliveries go back to the group (what the broker does once a dead
   * member's session lapses); running jobs are abandoned where they stand, with no checkpoint
   * hand-off and no lease release, so another worker takes one over only once its lease lapsed.
   * A dead process writes nothing more: the caller cuts this worker's stores and queue off first
   * (inference/worker-fleet.ts), so an abandoned run fails at its next write.
   */
  async crash(): Promise<void> {
    this.accepting = false;
    this.stopFollowing();
    this.stopBusyReport();
    for (const job of this.running.values()) job.abort.abort('crash');
    // A resubscription under way would otherwise leave a live member behind.
    await this.following;
    const subscriptions = [...this.subscriptions.values()];
    this.subscriptions.clear();
    this.buffers.clear();
    await Promise.all(subscriptions.map((s) => s.consumer.close()));
  }

  /** Lanes consumed now. */
  lanes(): string[] {
    return [...this.subscriptions.keys()];
  }

  /** Topics consumed now, by lane (for tests and the status of a worker). */
  topics(): Record<string, string[]> {
    return Object.fromEntries([...this.subscriptions].map(([lane, s]) => [lane, [...s.topics]]));
  }
}

function sameSet(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}
