import type { AdmissionState, ControllerHandover, SignalReport } from '../contracts/index.ts';

export interface Lease {
  held: boolean;
  holder: string | null;
  /** Grows each time the lease changes hands; publications carry it as their fence. */
  epoch: number;
  expiresAt: number;
}

/**
 * What services share to coordinate: the leader lease, the published admission state (with the
 * leader's handover for its successor), the saturation signals, and the global token buckets
 * that make admission global across gateways.
 * Implementations: RedisCoordinationStore, MemoryCoordinationStore.
 */
export interface CoordinationStore {
  /** Acquires the lease if free or expired, renews it if held by `holder`. */
  acquireLease(name: string, holder: string, ttlMs: number, now: number): Promise<Lease>;
  releaseLease(name: string, holder: string): Promise<void>;
  /**
   * Publishes unless a publication with a higher epoch exists (a deposed leader is refused), with
   * the leader's handover for its successor when given (stored in the same step, so a refused
   * leader leaves neither).
   */
  publishAdmission(state: AdmissionState, handover?: ControllerHandover): Promise<boolean>;
  readAdmission(): Promise<AdmissionState | null>;
  /** The last handover published, as JSON would give it back; null when none or not a handover. */
  readHandover(): Promise<ControllerHandover | null>;
  reportSignal(signal: SignalReport, ttlMs: number): Promise<void>;
  readSignals(): Promise<SignalReport[]>;
  /**
   * Global token bucket: takes `cost` tokens from `bucket` refilled at `ratePerSec` up to
   * `burst`, if it holds `need` (default `cost`; held to [cost, burst], as takeFromBucket); when
   * it is short, from the first of `fallbacks` that has them (a paid tier borrows a lower tier's
   * tokens, so the lower tier is refused instead). Returns whether they were taken (and from
   * which fallback), and if not, how long until `bucket` would hold `need`.
   */
  takeTokens(
    bucket: string,
    cost: number,
    ratePerSec: number,
    burst: number,
    now: number,
    fallbacks?: readonly BucketSpec[],
    need?: number,
  ): Promise<TokenOutcome>;
}

export interface BucketSpec {
  bucket: string;
  ratePerSec: number;
  burst: number;
}

export interface TokenOutcome {
  ok: boolean;
  waitMs: number;
  /** The fallback bucket the tokens came from; absent when from `bucket` itself or refused. */
  borrowedFrom?: string;
}
