import type { Redis } from 'ioredis';
import {
  type AdmissionState,
  type ControllerHandover,
  parseHandover,
  type SignalReport,
} from '../contracts/index.ts';
import type { BucketSpec, CoordinationStore, Lease, TokenOutcome } from './coordination-store.ts';
import {
  ACQUIRE_LEASE,
  PUBLISH_ADMISSION,
  READ_SIGNALS,
  RELEASE_LEASE,
  REPORT_SIGNAL,
  TAKE_TOKENS,
} from './redis-scripts.ts';

/** Lease, admission state, signals and global token buckets in Redis, each step one Lua call. */
export class RedisCoordinationStore implements CoordinationStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix = 'spillway:',
  ) {}

  async acquireLease(name: string, holder: string, ttlMs: number, now: number): Promise<Lease> {
    const [held, who, epoch, expiresAt] = (await ACQUIRE_LEASE.run(
      this.redis,
      [`${this.prefix}lease:${name}`, `${this.prefix}lease-epoch:${name}`],
      [holder, String(ttlMs), String(now)],
    )) as [number, string, string, string];
    return { held: held === 1, holder: who, epoch: Number(epoch), expiresAt: Number(expiresAt) };
  }

  async releaseLease(name: string, holder: string) {
    await RELEASE_LEASE.run(this.redis, [`${this.prefix}lease:${name}`], [holder]);
  }

  async publishAdmission(state: AdmissionState, handover?: ControllerHandover) {
    const ok = await PUBLISH_ADMISSION.run(
      this.redis,
      [`${this.prefix}admission`],
      [String(state.epoch), JSON.stringify(state), handover ? JSON.stringify(handover) : ''],
    );
    return ok === 1;
  }

  async readHandover() {
    const raw = await this.redis.hget(`${this.prefix}admission`, 'handover');
    return raw ? parseHandover(raw) : null;
  }

  async readAdmission() {
    const raw = await this.redis.hget(`${this.prefix}admission`, 'state');
    return raw ? (JSON.parse(raw) as AdmissionState) : null;
  }

  async reportSignal(signal: SignalReport, ttlMs: number) {
    await REPORT_SIGNAL.run(
      this.redis,
      [`${this.prefix}signals`, `${this.prefix}signals:expiry`],
      [`${signal.source}/${signal.id}`, JSON.stringify(signal), String(ttlMs)],
    );
  }

  async readSignals() {
    const values = (await READ_SIGNALS.run(
      this.redis,
      [`${this.prefix}signals`, `${this.prefix}signals:expiry`],
      [],
    )) as string[];
    return values.map((v) => JSON.parse(v) as SignalReport);
  }

  async takeTokens(
    bucket: string,
    cost: number,
    ratePerSec: number,
    burst: number,
    now: number,
    fallbacks: readonly BucketSpec[] = [],
    need = cost,
  ): Promise<TokenOutcome> {
    const buckets = [{ bucket, ratePerSec, burst }, ...fallbacks];
    const [ok, wait, from] = (await TAKE_TOKENS.run(
      this.redis,
      buckets.map((b) => `${this.prefix}bucket:${b.bucket}`),
      [
        String(cost),
        String(now),
        String(need),
        ...buckets.flatMap((b) => [String(b.ratePerSec), String(b.burst)]),
      ],
    )) as [number, string, number];
    if (ok === 1)
      return from > 1
        ? { ok: true, waitMs: 0, borrowedFrom: buckets[from - 1].bucket }
        : { ok: true, waitMs: 0 };
    const waitMs = Number(wait);
    return { ok: false, waitMs: waitMs < 0 ? Number.POSITIVE_INFINITY : waitMs };
  }
}
