/** Kafka topic names: one per lane × tier so lanes are bulkheads and tiers can be pulled by weight. */
export function jobTopic(lane: string, tier: string): string {
  return `spillway.jobs.${lane}.${tier}`;
}

export const DEAD_LETTER_TOPIC = 'spillway.jobs.dead-letter';

export function parseJobTopic(topic: string): { lane: string; tier: string } | null {
  const m = /^spillway\.jobs\.([^.]+)\.([^.]+)$/.exec(topic);
  if (!m || topic === DEAD_LETTER_TOPIC) return null;
  return { lane: m[1], tier: m[2] };
}
