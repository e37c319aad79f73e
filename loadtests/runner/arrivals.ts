import type { Campaign, MixEntry, Stage } from '../campaign-schema.ts';
import { poisson, type Random } from './random.ts';

/** A request class: one mix entry of one stage, keyed for statistics by lane/tier. */
export interface ClassRate {
  entry: MixEntry;
  key: string;
  /** Arrivals per second. */
  rate: number;
}

export interface StageAt {
  stage: Stage;
  index: number;
  startMs: number;
  endMs: number;
}

export function classKey(lane: string, tier: string): string {
  return `${lane}/${tier}`;
}

export function stageAt(c: Campaign, tMs: number): StageAt | null {
  let start = 0;
  for (const [index, stage] of c.stages.entries()) {
    const end = start + stage.duration;
    if (tMs < end) return { stage, index, startMs: start, endMs: end };
    start = end;
  }
  return null;
}

function surgeFactor(stage: Stage, entry: MixEntry): number {
  let f = 1;
  for (const s of stage.surge) {
    if ((s.lane === undefined || s.lane === entry.lane) && (s.tier === undefined || s.tier === entry.tier)) {
      f *= s.factor;
    }
  }
  return f;
}

/**
 * Arrival rates per class at time t. The stage rate (ramped linearly) is split by weight, then
 * surges multiply their classes on top: a ×10 viral lane adds load, it does not take others' share.
 * `unit` converts campaign rates into requests per second (1, or the measured capacity).
 */
export function classRatesAt(c: Campaign, tMs: number, unit = 1): ClassRate[] {
  const at = stageAt(c, tMs);
  if (!at) return [];
  const { stage } = at;
  const progress = (tMs - at.startMs) / Math.max(1, stage.duration);
  const total = (stage.rate + ((stage.rampTo ?? stage.rate) - stage.rate) * progress) * unit;
  const mix = stage.mix ?? c.mix;
  const weights = mix.reduce((s, e) => s + e.weight, 0);
  return mix.map((entry) => ({
    entry,
    key: classKey(entry.lane, entry.tier),
    rate: ((total * entry.weight) / weights) * surgeFactor(stage, entry),
  }));
}

export interface Arrival {
  /** Scheduled send time, ms since the campaign start. */
  at: number;
  entry: MixEntry;
  key: string;
}

/**
 * Open-model arrivals: a Poisson process per class, drawn slot by slot so ramps are followed.
 * Arrivals depend only on time and the seed, never on how fast the target answers.
 */
export function* arrivals(c: Campaign, random: Random, unit = 1, slotMs = 10): Generator<Arrival> {
  const end = c.stages.reduce((s, st) => s + st.duration, 0);
  for (let t = 0; t < end; t += slotMs) {
    const batch: Arrival[] = [];
    for (const cls of classRatesAt(c, t + slotMs / 2, unit)) {
      const n = poisson((cls.rate * slotMs) / 1000, random);
      for (let i = 0; i < n; i++) batch.push({ at: t + random() * slotMs, entry: cls.entry, key: cls.key });
    }
    batch.sort((a, b) => a.at - b.at);
    yield* batch;
  }
}

/** The largest total rate of each lane/tier over the campaign (sizes the account pool). */
export function peakRates(c: Campaign, unit = 1, stepMs = 1000): Map<string, number> {
  const peaks = new Map<string, number>();
  const end = c.stages.reduce((s, st) => s + st.duration, 0);
  for (let t = 0; t < end; t += Math.max(1, Math.min(stepMs, end / 200))) {
    const sums = new Map<string, number>();
    for (const cls of classRatesAt(c, t, unit)) sums.set(cls.key, (sums.get(cls.key) ?? 0) + cls.rate);
    for (const [k, v] of sums) peaks.set(k, Math.max(peaks.get(k) ?? 0, v));
  }
  return peaks;
}
