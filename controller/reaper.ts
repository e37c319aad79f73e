import type { JobMessage, JobRecord } from '../common/contracts/index.ts';
import { jobTopic } from '../common/contracts/index.ts';
import { finishAndAnnounce } from '../common/store/finish-and-announce.ts';
import type { Infra } from '../common/infra.ts';

export interface ReaperResult {
  requeued: number;
  expired: number;
  skipped: number;
}

/**
 * Finds jobs nobody is working on and gets them to a worker or to a terminal state (leader only):
 * a queued job past its deadline is expired (with its terminal event); a running job whose
 * worker's lease lapsed, or a queued job the workers passed over, is re-published with attempt+1
 * so another worker claims it (a claim takes over a lapsed lease). Each job is re-published at
 * most once per `unclaimedMs` unless a worker claimed it since.
 */
export class Reaper {
  /** Job id → when it was last re-published and how many claims it had then. */
  private readonly requeued = new Map<string, { at: number; claims: number }>();

  constructor(
    private readonly infra: Pick<Infra, 'jobs' | 'queue' | 'events'>,
    private readonly opts: { unclaimedMs: number; limit: number },
  ) {}

  async sweep(now: number): Promise<ReaperResult> {
    const result: ReaperResult = { requeued: 0, expired: 0, skipped: 0 };
    const overdue = await this.infra.jobs.listOverdue(now, this.opts.unclaimedMs, this.opts.limit);
    const served = await this.servedTickets();
    for (const record of overdue) {
      if (record.state === 'queued' && record.deadline < now) {
        if (await this.expire(record, now)) result.expired++;
        continue;
      }
      if (record.state === 'queued' && record.ticket > (served.get(`${record.lane}/${record.tier}`) ?? 0)) {
        // Still behind the backlog: it is waiting its turn, not lost.
        result.skipped++;
        continue;
      }
      if (this.recentlyRequeued(record, now)) {
        result.skipped++;
        continue;
      }
      await this.requeue(record, now);
      result.requeued++;
    }
    this.forget(now);
    return result;
  }

  private async servedTickets(): Promise<Map<string, number>> {
    const stats = await this.infra.jobs.queueStats();
    return new Map(stats.map((s) => [`${s.lane}/${s.tier}`, s.served]));
  }

  private recentlyRequeued(record: JobRecord, now: number): boolean {
    const last = this.requeued.get(record.id);
    return !!last && last.claims === record.claims && now - last.at < this.opts.unclaimedMs;
  }

  private async expire(record: JobRecord, now: number): Promise<boolean> {
    const r = await finishAndAnnounce(
      this.infra,
      record.id,
      null,
      'expired',
      {
        error: {
          code: 'expired',
          message: 'the job waited past its deadline before a worker could start it',
        },
      },
      now,
    );
    if (!r.ok) return false;
    this.requeued.delete(record.id);
    return true;
  }

  private async requeue(record: JobRecord, now: number) {
    const message: JobMessage = {
      ...record.message,
      attempt: Math.max(record.message.attempt, record.claims) + 1,
    };
    await this.infra.queue.publish(jobTopic(record.lane, record.tier), {
      key: record.id,
      value: Buffer.from(JSON.stringify(message)),
      headers: { 'x-spillway-requeue': 'reaper' },
    });
    this.requeued.set(record.id, { at: now, claims: record.claims });
  }

  private forget(now: number) {
    for (const [id, r] of this.requeued)
      if (now - r.at > 10 * this.opts.unclaimedMs) this.requeued.delete(id);
  }
}
