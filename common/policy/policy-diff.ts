import { isPaidTier, tiersByPriority } from './paid-tiers.ts';
import { type BrownoutStep, Policy, type RolloutGate, type TierPolicy } from './schema.ts';
import { policyJsonSchema } from './json-schema.ts';
import { DURATION_PATTERN, formatDuration, formatRate, RATE_PATTERN } from './units.ts';

/*
 * What changes between two policies, in the words ops use ("free max wait 5m → 2m"). Pure; the
 * CLI prints it and the controller may log it on activation.
 */

type Fmt = (v: unknown) => string;
const num: Fmt = (v) => String(v);
const ms: Fmt = (v) => formatDuration(v as number);
const rate: Fmt = (v) => formatRate(v as number);
// Per-account limits read best per minute (600/min), sign-ups per client per hour.
const perMin: Fmt = (v) => formatRate(v as number, 'min');
const perHour: Fmt = (v) => formatRate(v as number, 'h');
const pct: Fmt = (v) => `${Math.round((v as number) * 1000) / 10}%`;
const yesNo: Fmt = (v) => (v ? 'yes' : 'no');

const TIER_FIELDS: [keyof TierPolicy, string, Fmt][] = [
  ['priority', 'priority', num],
  ['weight', 'weight', num],
  ['minShare', 'min share', pct],
  ['maxWait', 'max wait', ms],
  ['syncWait', 'sync wait', ms],
  ['rateLimit', 'rate limit', perMin],
  ['burst', 'burst', num],
  ['maxConnections', 'max connections', num],
];

export function describeBrownoutStep(s: BrownoutStep): string {
  const parts: string[] = [];
  if (s.passes !== undefined) parts.push(`${s.passes} pass${s.passes === 1 ? '' : 'es'}`);
  if (s.maxSize !== undefined) parts.push(`max ${s.maxSize}`);
  if (s.partialImages !== undefined)
    parts.push(`${s.partialImages} partial image${s.partialImages === 1 ? '' : 's'}`);
  if (s.edits === false) parts.push('no edits');
  return parts.length > 0 ? parts.join(', ') : 'no change';
}

function describeBrownout(steps: BrownoutStep[]): string {
  return steps.length === 0 ? 'none' : steps.map((s, i) => `${i + 1}) ${describeBrownoutStep(s)}`).join('; ');
}

export function describeGate(g: RolloutGate): string {
  if (!g.enabled) return 'off';
  const from = g.startAt ? ` from ${g.startAt}` : '';
  return `${g.percent}% of accounts${from}`;
}

function tierChanges(a: Policy, b: Policy): string[] {
  const out: string[] = [];
  const names = [...new Set([...tiersByPriority(b.tiers), ...tiersByPriority(a.tiers)])];
  for (const name of names) {
    const ta = a.tiers[name];
    const tb = b.tiers[name];
    if (!ta) {
      out.push(
        `tier ${name} added (priority ${tb.priority}, max wait ${ms(tb.maxWait)}, rate limit ${rate(tb.rateLimit)})`,
      );
      continue;
    }
    if (!tb) {
      out.push(`tier ${name} removed`);
      continue;
    }
    for (const [field, label, fmt] of TIER_FIELDS) {
      if (ta[field] !== tb[field]) out.push(`${name} ${label} ${fmt(ta[field])} → ${fmt(tb[field])}`);
    }
    const paidA = isPaidTier(a.tiers, name);
    const paidB = isPaidTier(b.tiers, name);
    if (paidA !== paidB) out.push(`${name} paid ${yesNo(paidA)} → ${yesNo(paidB)}`);
    const brownA = describeBrownout(ta.brownout);
    const brownB = describeBrownout(tb.brownout);
    if (brownA !== brownB) out.push(`${name} brownout ${brownA} → ${brownB}`);
  }
  return out;
}

function gateChanges(a: Policy, b: Policy): string[] {
  const key = (g: RolloutGate) => `${g.feature} for ${g.tier}`;
  const before = new Map(a.rollout.map((g) => [key(g), g]));
  const after = new Map(b.rollout.map((g) => [key(g), g]));
  const out: string[] = [];
  for (const [k, g] of after) {
    const old = before.get(k);
    if (!old) out.push(`gate added: ${k} ${describeGate(g)}`);
    else if (describeGate(old) !== describeGate(g))
      out.push(`gate ${k}: ${describeGate(old)} → ${describeGate(g)}`);
  }
  for (const k of before.keys()) if (!after.has(k)) out.push(`gate removed: ${k} (now open)`);
  return out;
}

function laneChanges(a: Policy, b: Policy): string[] {
  const out: string[] = [];
  for (const name of new Set([...Object.keys(a.lanes), ...Object.keys(b.lanes)])) {
    const la = a.lanes[name];
    const lb = b.lanes[name];
    if (!la) out.push(`lane ${name} added (share ${pct(lb.share)})`);
    else if (!lb) out.push(`lane ${name} removed`);
    else if (la.share !== lb.share) out.push(`lane ${name} share ${pct(la.share)} → ${pct(lb.share)}`);
  }
  for (const lane of new Set([...Object.keys(a.fallback), ...Object.keys(b.fallback)])) {
    const tiers = new Set([...Object.keys(a.fallback[lane] ?? {}), ...Object.keys(b.fallback[lane] ?? {})]);
    for (const tier of tiers) {
      const ra = a.fallback[lane]?.[tier];
      const rb = b.fallback[lane]?.[tier];
      if (ra === rb) continue;
      const show = (r: number | undefined) => (r === undefined ? 'unset (0)' : rate(r));
      out.push(`fallback ${lane}/${tier} ${show(ra)} → ${show(rb)}`);
    }
  }
  return out;
}

function flatten(v: unknown, prefix: string, out: Map<string, unknown>) {
  if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
    for (const [k, x] of Object.entries(v)) flatten(x, prefix ? `${prefix}.${k}` : k, out);
    return out;
  }
  out.set(prefix, v);
  return out;
}

type JsonSchema = {
  pattern?: string;
  properties?: Record<string, JsonSchema>;
  additionalProperties?: JsonSchema | boolean;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
};

/**
 * Where the policy holds a Duration (ms once parsed) or a Rate (per second), read from the JSON
 * Schema the editors use rather than guessed from field names: a field added to the zod schema is
 * shown in its units here with no list to keep up. `*` stands for a map key (a lane, a tier).
 */
function unitFields(schema: JsonSchema, path: string, out: [RegExp, 'duration' | 'rate'][]) {
  const at = () => new RegExp(`^${path.replaceAll('.', '\\.').replaceAll('*', '[^.]+')}$`);
  if (schema.pattern === DURATION_PATTERN.source) out.push([at(), 'duration']);
  if (schema.pattern === RATE_PATTERN.source) out.push([at(), 'rate']);
  const join = (k: string) => (path ? `${path}.${k}` : k);
  for (const [k, x] of Object.entries(schema.properties ?? {})) unitFields(x, join(k), out);
  if (typeof schema.additionalProperties === 'object')
    unitFields(schema.additionalProperties, join('*'), out);
  for (const x of [...(schema.anyOf ?? []), ...(schema.oneOf ?? []), ...(schema.allOf ?? [])])
    unitFields(x, path, out);
  return out;
}

let units: [RegExp, 'duration' | 'rate'][] | null = null;

function unitOf(key: string): 'duration' | 'rate' | null {
  units ??= unitFields(policyJsonSchema() as JsonSchema, '', []);
  return units.find(([re]) => re.test(key))?.[1] ?? null;
}

function show(key: string, v: unknown): string {
  if (typeof v !== 'number') return String(v);
  const unit = unitOf(key);
  if (unit === 'duration') return ms(v);
  if (unit === 'rate') return key.endsWith('.perClient') ? perHour(v) : rate(v);
  return num(v);
}

function modelChanges(a: Policy, b: Policy): string[] {
  const out: string[] = [];
  if (a.models.default !== b.models.default)
    out.push(`default model ${a.models.default} → ${b.models.default}`);
  const before = new Map(a.models.available.map((m) => [m.name, m]));
  const after = new Map(b.models.available.map((m) => [m.name, m]));
  for (const [name, m] of after) {
    const old = before.get(name);
    if (!old) {
      out.push(`model ${name} added (${m.sizes.join(', ')}; ${m.passes} passes)`);
      continue;
    }
    if (old.sizes.join() !== m.sizes.join())
      out.push(`model ${name} sizes ${old.sizes.join(', ')} → ${m.sizes.join(', ')}`);
    if (old.defaultSize !== m.defaultSize)
      out.push(`model ${name} default size ${old.defaultSize} → ${m.defaultSize}`);
    if (old.passes !== m.passes) out.push(`model ${name} passes ${old.passes} → ${m.passes}`);
  }
  for (const name of before.keys()) if (!after.has(name)) out.push(`model ${name} removed`);
  return out;
}

/** Every section but those with a describer of their own above: a section added later is never silent. */
const DESCRIBED = new Set(['tiers', 'rollout', 'lanes', 'fallback', 'models']);
const OTHER_SECTIONS = Object.keys(Policy.shape).filter((k) => !DESCRIBED.has(k)) as (keyof Policy)[];

function otherChanges(a: Policy, b: Policy): string[] {
  const out: string[] = [];
  for (const section of OTHER_SECTIONS) {
    const fa = flatten(a[section], section, new Map());
    const fb = flatten(b[section], section, new Map());
    for (const key of new Set([...fa.keys(), ...fb.keys()])) {
      const va = JSON.stringify(fa.get(key));
      const vb = JSON.stringify(fb.get(key));
      if (va === vb) continue;
      out.push(
        `${key} ${fa.has(key) ? show(key, fa.get(key)) : 'unset'} → ${fb.has(key) ? show(key, fb.get(key)) : 'unset'}`,
      );
    }
  }
  return out;
}

/** One line per change, tiers first (highest priority first), then gates, lanes, the rest. */
export function describePolicyDiff(a: Policy, b: Policy): string[] {
  return [
    ...tierChanges(a, b),
    ...gateChanges(a, b),
    ...laneChanges(a, b),
    ...modelChanges(a, b),
    ...otherChanges(a, b),
  ];
}
