import { type AdmissionState, isFresh, type TierAdmission } from '../common/contracts/index.ts';
import type { CoordinationStore } from '../common/store/coordination-store.ts';
import type { Logger } from '../common/log.ts';
import type { PolicySource } from '../common/policy/policy-source.ts';
import { staticAdmission } from '../common/policy/static-admission.ts';
import { admissionFallback } from './gateway-metrics.ts';

export const ADMISSION_REFRESH_MS = 300;

/**
 * The controller's admission state held in process and refreshed in the background, so a request
 * never waits for the store. When the published state is older than its ttl or absent (controller
 * or Redis gone), the policy's static limits apply: fail safe, not open.
 */
export class AdmissionCache {
  private published: AdmissionState | null = null;
  private fallback: AdmissionState;
  private timer: NodeJS.Timeout | null = null;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly coord: CoordinationStore,
    private readonly policy: PolicySource,
    private readonly log: Logger,
    private readonly refreshMs = ADMISSION_REFRESH_MS,
  ) {
    this.fallback = staticAdmission(policy.current().policy, Date.now());
    this.unsubscribe = policy.onChange((a) => {
      this.fallback = staticAdmission(a.policy, Date.now());
    });
  }

  async start(): Promise<void> {
    await this.refresh();
    this.timer = setInterval(() => void this.refresh(), this.refreshMs);
    this.timer.unref();
  }

  async refresh(): Promise<void> {
    try {
      const state = await this.coord.readAdmission();
      if (
        state &&
        (!this.published || state.version !== this.published.version || state.epoch !== this.published.epoch)
      ) {
        this.log.debug({ version: state.version, law: state.law }, 'admission state updated');
      }
      this.published = state;
    } catch (err) {
      // Keep the last state: it is used until its ttl runs out, then the static fallback.
      this.log.warn({ err: (err as Error).message }, 'admission state read failed');
    }
    admissionFallback.set(this.published && isFresh(this.published, Date.now()) ? 0 : 1);
  }

  current(now: number): AdmissionState {
    const p = this.published;
    return p && isFresh(p, now) ? p : this.fallback;
  }

  tier(lane: string, tier: string, now: number): TierAdmission | null {
    return this.current(now).lanes[lane]?.[tier] ?? null;
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.unsubscribe();
  }
}
