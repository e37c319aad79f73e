import type { GatewaySignal } from '../common/contracts/index.ts';

/**
 * Offered, admitted and shed rates per `lane/tier` (cost units per second, as gateways count them),
 * derived from the gateways' counters since start: the sum over gateways of each counter's growth
 * since the previous interval, smoothed. A gateway that restarted counts from zero again.
 */
export interface GatewayMemory {
  at: number;
  offered: Record<string, number>;
  admitted: Record<string, number>;
  shed: Record<string, number>;
  signups: number;
  /** This gateway's rates from its last two distinct reports (kept while it has not reported again). */
  rates: TrafficRates | null;
}

export interface TrafficRates {
  offered: Record<string, number>;
  admitted: Record<string, number>;
  shed: Record<string, number>;
  signups: number;
  /** False when no gateway reported recently: demand is then unknown. */
  known: boolean;
}

export interface DemandMemory {
  gateways: Record<string, GatewayMemory>;
  rates: TrafficRates | null;
}

/**
 * Demand moves fast in a spike; by default half of each new interval's measurement is enough to
 * follow it (policy `control.demandSmoothing`).
 */
const DEFAULT_DEMAND_SMOOTHING = 0.5;

export function estimateDemand(
  signals: GatewaySignal[],
  prev: DemandMemory | null,
  now: number,
  maxAgeMs: number,
  smoothing = DEFAULT_DEMAND_SMOOTHING,
): { rates: TrafficRates; memory: DemandMemory } {
  const gateways: Record<string, GatewayMemory> = {};
  const sample: TrafficRates = { offered: {}, admitted: {}, shed: {}, signups: 0, known: false };
  for (const s of signals) {
    if (now - s.at > maxAgeMs) continue;
    sample.known = true;
    const before = prev?.gateways[s.id];
    const mem = before && s.at <= before.at ? before : advance(s, before);
    gateways[s.id] = mem;
    if (!mem.rates) continue;
    addAll(sample.offered, mem.rates.offered);
    addAll(sample.admitted, mem.rates.admitted);
    addAll(sample.shed, mem.rates.shed);
    sample.signups += mem.rates.signups;
  }
  const rates = smooth(prev?.rates ?? null, sample, smoothing);
  return { rates, memory: { gateways, rates } };
}

function advance(s: GatewaySignal, before: GatewayMemory | undefined): GatewayMemory {
  const mem: GatewayMemory = {
    at: s.at,
    offered: s.offered,
    admitted: s.admitted,
    shed: s.shed,
    signups: s.signups,
    rates: null,
  };
  if (!before) return mem;
  const dt = (s.at - before.at) / 1000;
  const rates: TrafficRates = { offered: {}, admitted: {}, shed: {}, signups: 0, known: true };
  addGrowth(rates.offered, s.offered, before.offered, dt);
  addGrowth(rates.admitted, s.admitted, before.admitted, dt);
  addGrowth(rates.shed, s.shed, before.shed, dt);
  rates.signups = growth(s.signups, before.signups) / dt;
  return { ...mem, rates };
}

function addAll(into: Record<string, number>, from: Record<string, number>) {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
}

function growth(now: number, before: number | undefined): number {
  if (before === undefined || now < before) return now;
  return now - before;
}

function addGrowth(
  into: Record<string, number>,
  now: Record<string, number>,
  before: Record<string, number>,
  dt: number,
) {
  for (const [k, v] of Object.entries(now)) into[k] = (into[k] ?? 0) + growth(v, before[k]) / dt;
}

function smooth(prev: TrafficRates | null, sample: TrafficRates, k: number): TrafficRates {
  if (!prev?.known || !sample.known) return sample;
  const mix = (a: Record<string, number>, b: Record<string, number>) => {
    const out: Record<string, number> = {};
    for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
      out[key] = (a[key] ?? 0) + k * ((b[key] ?? 0) - (a[key] ?? 0));
    }
    return out;
  };
  return {
    offered: mix(prev.offered, sample.offered),
    admitted: mix(prev.admitted, sample.admitted),
    shed: mix(prev.shed, sample.shed),
    signups: prev.signups + k * (sample.signups - prev.signups),
    known: true,
  };
}
