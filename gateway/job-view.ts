import type { JobRecord, QueueStats, TierAdmission } from '../common/contracts/index.ts';
import type { Policy } from '../common/policy/schema.ts';
import { imagesResponse, type ResultContext } from './image-results.ts';
import type { JobView } from './openai-schemas.ts';

/**
 * Queue position of a queued job: its ticket minus the tickets served in its lane × tier
 * (1 = next), plus the backlog of higher-priority tiers in the same lane, which run first.
 */
export function queuePosition(
  record: JobRecord,
  stats: readonly QueueStats[],
  policy: Policy,
): number | null {
  if (record.state !== 'queued') return null;
  const own = stats.find((s) => s.lane === record.lane && s.tier === record.tier);
  let position = Math.max(1, record.ticket - (own?.served ?? 0));
  const priority = policy.tiers[record.tier]?.priority ?? 0;
  for (const s of stats) {
    if (s.lane !== record.lane || s.tier === record.tier) continue;
    if ((policy.tiers[s.tier]?.priority ?? 0) > priority) position += Math.max(0, s.issued - s.served);
  }
  return position;
}

/** Estimated wait: position over the admitted rate when there is one, else the controller's estimate. */
export function estimatedWaitMs(position: number | null, admission: TierAdmission | null): number | null {
  if (position === null || !admission) return null;
  if (admission.rate && admission.rate > 0) return Math.round((position * 1000) / admission.rate);
  return Math.round(admission.expectedWaitMs);
}

export async function jobView(
  record: JobRecord,
  position: number | null,
  admission: TierAdmission | null,
  ctx: ResultContext,
): Promise<JobView> {
  return {
    id: record.id,
    object: 'image.job',
    status: record.state,
    operation: record.message.operation,
    created_at: Math.floor(record.createdAt / 1000),
    lane: record.lane,
    tier: record.tier,
    pass: record.pass,
    passes: record.passes,
    queue_position: position,
    estimated_wait_ms: estimatedWaitMs(position, admission),
    deadline: record.deadline,
    result: record.state === 'completed' && record.result ? await imagesResponse(record, ctx) : null,
    error: record.error,
  };
}
