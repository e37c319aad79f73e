import type { Redis } from 'ioredis';
import { canTransition, type JobRecord, type JobState, type TerminalState } from '../contracts/index.ts';
import { TRANSITIONS } from '../contracts/index.ts';
import type {
  ClaimResult,
  FinishPatch,
  IdempotencyScope,
  JobStore,
  TerminalPass,
  UpdateFailure,
  UpdateResult,
} from './job-store.ts';
import { isOverdue } from './job-transitions.ts';
import type { EventAppend, EventStream } from './redis-event-log.ts';
import { DEFAULT_TERMINAL_RETENTION_MS } from './retention.ts';
import {
  ADD_PARTIAL,
  ADMIT_JOB,
  CLAIM_JOB,
  CREATE_JOB,
  FINISH_JOB,
  MARK_SERVED,
  PROGRESS_JOB,
  SAVE_CHECKPOINT,
} from './redis-scripts.ts';

export interface RedisJobStoreOptions {
  prefix?: string;
  /** How long a finished record (and its idempotency answer) stays readable. */
  terminalRetentionMs?: number;
}

/**
 * Job records in Redis. A record is a hash (scalars as fields, nested parts as JSON fields) so
 * the Lua scripts change only the fields a transition touches and never re-encode JSON. Every
 * transition is one script call, hence atomic. Two sorted sets index the non-terminal jobs for
 * the reaper: `attention` by the time a job next needs a look (a running job's lease end, a
 * queued job's deadline) and `queued` by creation time (for "never claimed for too long").
 */
export class RedisJobStore implements JobStore {
  private readonly prefix: string;
  private readonly retentionMs: number;

  constructor(
    readonly redis: Redis,
    options: RedisJobStoreOptions = {},
  ) {
    this.prefix = options.prefix ?? 'spillway:';
    this.retentionMs = options.terminalRetentionMs ?? DEFAULT_TERMINAL_RETENTION_MS;
  }

  private jobKey(id: string) {
    return `${this.prefix}job:${id}`;
  }

  private checkpointKey(id: string) {
    return `${this.prefix}checkpoint:${id}`;
  }

  private get attentionKey() {
    return `${this.prefix}jobs:attention`;
  }

  private get queuedKey() {
    return `${this.prefix}jobs:queued`;
  }

  private ticketKey(lane: string, tier: string) {
    return `${this.prefix}tickets:${lane}:${tier}`;
  }

  private get ticketIndexKey() {
    return `${this.prefix}tickets`;
  }

  private idempotencyKey(idem?: IdempotencyScope) {
    return idem
      ? `${this.prefix}idem:${idem.account.length}:${idem.account}:${idem.key}`
      : `${this.prefix}idem:-`;
  }

  /** CREATE_JOB's (and ADMIT_JOB's) first keys and arguments. */
  private createHead(record: JobRecord, idem?: IdempotencyScope) {
    return {
      keys: [this.jobKey(record.id), this.attentionKey, this.queuedKey, this.idempotencyKey(idem)],
      args: [
        idem ? String(Math.max(1, Math.round(idem.ttlMs))) : '',
        record.id,
        String(record.deadline),
        String(record.createdAt),
        this.jobKey(''),
      ],
    };
  }

  async create(record: JobRecord, idem?: IdempotencyScope) {
    const head = this.createHead(record, idem);
    const reply = (await CREATE_JOB.run(this.redis, head.keys, [...head.args, ...toFields(record)])) as [
      number,
      string[],
    ];
    return { created: reply[0] === 1, record: fromFields(reply[1]) };
  }

  /**
   * nextTicket, create and the event log's append of `event` as one atomic script (one round trip
   * instead of three). The record's own ticket is replaced by the issued one; a repeat (same
   * idempotency key, or an id that exists) issues no ticket and appends nothing. The event goes to
   * the stream `event` names, so the event log must live on this store's Redis.
   */
  async admit(record: JobRecord, idem: IdempotencyScope | undefined, event: EventAppend) {
    const head = this.createHead(record, idem);
    const reply = (await ADMIT_JOB.run(
      this.redis,
      [...head.keys, this.ticketKey(record.lane, record.tier), this.ticketIndexKey, event.stream],
      [
        ...head.args,
        ticketMember(record.lane, record.tier),
        event.maxLength,
        event.json,
        event.retentionMs,
        event.channel,
        ...toFields(record),
      ],
    )) as [1, string] | [0, string[]];
    if (reply[0] === 1) return { created: true, record: { ...record, ticket: Number(reply[1]) } };
    return { created: false, record: fromFields(reply[1]) };
  }

  async get(id: string) {
    const fields = await this.redis.hgetall(this.jobKey(id));
    return Object.keys(fields).length > 0 ? fromHash(fields) : null;
  }

  async claim(id: string, owner: string, leaseMs: number, now: number): Promise<ClaimResult> {
    const reply = (await CLAIM_JOB.run(
      this.redis,
      [this.jobKey(id), this.attentionKey, this.queuedKey],
      [owner, String(now + leaseMs), String(now), id],
    )) as [string, string[]?];
    const record = reply[1] ? fromFields(reply[1]) : null;
    if (reply[0] === 'ok' && record) return { ok: true, fence: record.fence, record };
    return { ok: false, code: reply[0] as 'not_found' | 'terminal' | 'owned', record };
  }

  async progress(id: string, fence: number, pass: number, passes: number, leaseUntil: number, now: number) {
    return updateResult(
      await PROGRESS_JOB.run(
        this.redis,
        [this.jobKey(id), this.attentionKey],
        [String(fence), String(pass), String(passes), String(leaseUntil), String(now), id],
      ),
    );
  }

  async addPartial(id: string, fence: number, blob: string, now: number) {
    return updateResult(
      await ADD_PARTIAL.run(
        this.redis,
        [this.jobKey(id)],
        [String(fence), JSON.stringify(blob), String(now)],
      ),
    );
  }

  async finish(id: string, fence: number | null, to: TerminalState, patch: FinishPatch, now: number) {
    return this.runFinish(id, fence, to, patch, now, null);
  }

  /**
   * finish, and for a finish that wins the event log's append of its terminal state event, as one
   * atomic script. `at` gives the event's pass and passes; without it, the record's. The event goes
   * to the stream `announce` names, so the event log must live on this store's Redis.
   */
  async finishAnnounced(
    id: string,
    fence: number | null,
    to: TerminalState,
    patch: FinishPatch,
    now: number,
    announce: EventStream,
    at?: TerminalPass,
  ) {
    return this.runFinish(id, fence, to, patch, now, { announce, at });
  }

  private async runFinish(
    id: string,
    fence: number | null,
    to: TerminalState,
    patch: FinishPatch,
    now: number,
    event: { announce: EventStream; at?: TerminalPass } | null,
  ) {
    // The legal sources come from the contract's TRANSITIONS, so the script holds no second copy.
    const from = (Object.keys(TRANSITIONS) as JobState[]).filter((s) => canTransition(s, to));
    const keys = [this.jobKey(id), this.attentionKey, this.queuedKey, this.checkpointKey(id)];
    const args = [
      fence === null ? '' : String(fence),
      to,
      `,${from.join(',')},`,
      patch.result ? JSON.stringify(patch.result) : '',
      patch.error ? JSON.stringify(patch.error) : '',
      String(now),
      id,
      String(this.retentionMs),
    ];
    if (event) {
      const { announce, at } = event;
      keys.push(announce.stream);
      args.push(announce.maxLength, announce.retentionMs, announce.channel);
      args.push(at ? String(at.pass) : '', at ? String(at.passes) : '');
    }
    return updateResult(await FINISH_JOB.run(this.redis, keys, args));
  }

  async saveCheckpoint(id: string, fence: number, data: Uint8Array) {
    return updateResult(
      await SAVE_CHECKPOINT.run(
        this.redis,
        [this.jobKey(id), this.checkpointKey(id)],
        [String(fence), Buffer.from(data.buffer, data.byteOffset, data.byteLength), String(this.retentionMs)],
      ),
    );
  }

  async loadCheckpoint(id: string) {
    const data = await this.redis.getBuffer(this.checkpointKey(id));
    return data ? new Uint8Array(data) : null;
  }

  async listOverdue(now: number, unclaimedMs: number, limit: number) {
    const [byAttention, byAge] = await Promise.all([
      this.redis.zrangebyscore(this.attentionKey, '-inf', `(${now}`, 'LIMIT', 0, limit),
      this.redis.zrangebyscore(this.queuedKey, '-inf', `(${now - unclaimedMs}`, 'LIMIT', 0, limit),
    ]);
    const ids = [...new Set([...byAttention, ...byAge])];
    if (ids.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const id of ids) pipeline.hgetall(this.jobKey(id));
    const replies = (await pipeline.exec()) ?? [];
    const out: JobRecord[] = [];
    for (const [err, fields] of replies) {
      if (err || !fields || Object.keys(fields).length === 0) continue;
      // The index may lag a record by a transition; the record itself decides.
      const record = fromHash(fields as Record<string, string>);
      if (isOverdue(record, now, unclaimedMs)) out.push(record);
      if (out.length >= limit) break;
    }
    return out;
  }

  async nextTicket(lane: string, tier: string) {
    const reply = await this.redis
      .multi()
      .hincrby(this.ticketKey(lane, tier), 'issued', 1)
      .sadd(this.ticketIndexKey, ticketMember(lane, tier))
      .exec();
    const [err, issued] = reply?.[0] ?? [new Error('transaction aborted'), 0];
    if (err) throw err;
    return Number(issued);
  }

  async markServed(lane: string, tier: string, ticket: number) {
    await MARK_SERVED.run(this.redis, [this.ticketKey(lane, tier)], [String(ticket)]);
  }

  async queueStats() {
    const members = await this.redis.smembers(this.ticketIndexKey);
    const pairs = members.map((m) => JSON.parse(m) as [string, string]);
    const pipeline = this.redis.pipeline();
    for (const [lane, tier] of pairs) pipeline.hmget(this.ticketKey(lane, tier), 'issued', 'served');
    const replies = (await pipeline.exec()) ?? [];
    return pairs.map(([lane, tier], i) => {
      const [issued, served] = (replies[i]?.[1] as (string | null)[]) ?? [];
      return { lane, tier, issued: Number(issued ?? 0), served: Number(served ?? 0) };
    });
  }

  async ping() {
    const started = performance.now();
    await this.redis.ping();
    return performance.now() - started;
  }
}

/** A lane × tier in the ticket index: queueStats parses it back. */
const ticketMember = (lane: string, tier: string) => JSON.stringify([lane, tier]);

function updateResult(reply: unknown): UpdateResult {
  const [code, fields] = reply as [string, string[]?];
  const record = fields ? fromFields(fields) : null;
  if (code === 'ok' && record) return { ok: true, record };
  return { ok: false, code: code as UpdateFailure, record };
}

const nullableInt = (n: number | null) => (n === null ? '' : String(n));

/** The record as HSET's field/value list (built flat: it is on every admission's path). */
function toFields(r: JobRecord): string[] {
  return [
    'v',
    String(r.v),
    'id',
    r.id,
    'account',
    r.account,
    'tier',
    r.tier,
    'lane',
    r.lane,
    'state',
    r.state,
    'pass',
    String(r.pass),
    'passes',
    String(r.passes),
    'owner',
    r.owner ?? '',
    'fence',
    String(r.fence),
    'leaseUntil',
    String(r.leaseUntil),
    'claims',
    String(r.claims),
    'ticket',
    String(r.ticket),
    'createdAt',
    String(r.createdAt),
    'updatedAt',
    String(r.updatedAt),
    'startedAt',
    nullableInt(r.startedAt),
    'finishedAt',
    nullableInt(r.finishedAt),
    'deadline',
    String(r.deadline),
    'result',
    r.result ? JSON.stringify(r.result) : '',
    'partials',
    JSON.stringify(r.partials),
    'error',
    r.error ? JSON.stringify(r.error) : '',
    'message',
    JSON.stringify(r.message),
  ];
}

function fromFields(flat: string[]): JobRecord {
  const hash: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) hash[flat[i]] = flat[i + 1];
  return fromHash(hash);
}

function fromHash(f: Record<string, string>): JobRecord {
  const maybeInt = (s: string) => (s === '' ? null : Number(s));
  return {
    v: 1,
    id: f.id,
    account: f.account,
    tier: f.tier,
    lane: f.lane,
    state: f.state as JobState,
    pass: Number(f.pass),
    passes: Number(f.passes),
    owner: f.owner === '' ? null : f.owner,
    fence: Number(f.fence),
    leaseUntil: Number(f.leaseUntil),
    claims: Number(f.claims),
    ticket: Number(f.ticket),
    createdAt: Number(f.createdAt),
    updatedAt: Number(f.updatedAt),
    startedAt: maybeInt(f.startedAt),
    finishedAt: maybeInt(f.finishedAt),
    deadline: Number(f.deadline),
    result: f.result ? JSON.parse(f.result) : null,
    partials: JSON.parse(f.partials),
    error: f.error ? JSON.parse(f.error) : null,
    message: JSON.parse(f.message),
  };
}
