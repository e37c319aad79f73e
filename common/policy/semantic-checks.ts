import { fallbackRate, isPaidTier } from './paid-tiers.ts';
import type { BrownoutStep, Policy } from './schema.ts';

/** A rule the schema alone cannot express, broken at `path` of the merged policy. */
export interface SemanticIssue {
  path: (string | number)[];
  /** Point at the key rather than its value (a name that refers to nothing). */
  atKey?: boolean;
  rule: string;
  message: string;
}

type Check = (p: Policy) => SemanticIssue[];

const SHARE_EPSILON = 1e-9;

const tiersExist: Check = (p) => {
  const out: SemanticIssue[] = [];
  const known = Object.keys(p.tiers).join(', ');
  p.rollout.forEach((g, i) => {
    if (!p.tiers[g.tier])
      out.push({
        path: ['rollout', i, 'tier'],
        rule: 'tier-exists',
        message: `no tier "${g.tier}" (${known})`,
      });
  });
  if (!p.tiers[p.signup.tier])
    out.push({
      path: ['signup', 'tier'],
      rule: 'tier-exists',
      message: `no tier "${p.signup.tier}" (${known})`,
    });
  for (const [lane, rates] of Object.entries(p.fallback)) {
    for (const tier of Object.keys(rates)) {
      if (!p.tiers[tier])
        out.push({
          path: ['fallback', lane, tier],
          atKey: true,
          rule: 'tier-exists',
          message: `no tier "${tier}" (${known})`,
        });
    }
  }
  return out;
};

const lanesExist: Check = (p) => {
  const out: SemanticIssue[] = [];
  const known = Object.keys(p.lanes).join(', ');
  if (!p.lanes[p.signup.lane])
    out.push({
      path: ['signup', 'lane'],
      rule: 'lane-exists',
      message: `no lane "${p.signup.lane}" (${known})`,
    });
  for (const lane of Object.keys(p.fallback)) {
    if (!p.lanes[lane])
      out.push({
        path: ['fallback', lane],
        atKey: true,
        rule: 'lane-exists',
        message: `no lane "${lane}" (${known})`,
      });
  }
  return out;
};

const notEmpty: Check = (p) => {
  const out: SemanticIssue[] = [];
  if (Object.keys(p.tiers).length === 0)
    out.push({ path: ['tiers'], rule: 'tiers-empty', message: 'at least one tier is needed' });
  if (Object.keys(p.lanes).length === 0)
    out.push({ path: ['lanes'], rule: 'lanes-empty', message: 'at least one lane is needed' });
  return out;
};

const laneShares: Check = (p) => {
  const sum = Object.values(p.lanes).reduce((s, l) => s + l.share, 0);
  if (sum <= 1 + SHARE_EPSILON) return [];
  return [
    { path: ['lanes'], rule: 'lane-shares', message: `lane shares add up to ${round(sum)}, more than 1` },
  ];
};

const minShares: Check = (p) => {
  const sum = Object.values(p.tiers).reduce((s, t) => s + t.minShare, 0);
  if (sum <= 1 + SHARE_EPSILON) return [];
  return [
    { path: ['tiers'], rule: 'min-shares', message: `tier minShares add up to ${round(sum)}, more than 1` },
  ];
};

const models: Check = (p) => {
  const out: SemanticIssue[] = [];
  const seen = new Set<string>();
  p.models.available.forEach((m, i) => {
    if (seen.has(m.name))
      out.push({
        path: ['models', 'available', i, 'name'],
        rule: 'model-unique',
        message: `model "${m.name}" twice`,
      });
    seen.add(m.name);
    if (!m.sizes.includes(m.defaultSize))
      out.push({
        path: ['models', 'available', i, 'defaultSize'],
        rule: 'default-size',
        message: `${m.defaultSize} is not one of ${m.name}'s sizes (${m.sizes.join(', ')})`,
      });
  });
  if (!seen.has(p.models.default))
    out.push({
      path: ['models', 'default'],
      rule: 'model-default',
      message: `no model "${p.models.default}" in models.available`,
    });
  return out;
};

const priorities: Check = (p) => {
  const out: SemanticIssue[] = [];
  const byPriority = new Map<number, string>();
  for (const [name, t] of Object.entries(p.tiers)) {
    const other = byPriority.get(t.priority);
    if (other !== undefined)
      out.push({
        path: ['tiers', name, 'priority'],
        rule: 'priority-unique',
        message: `priority ${t.priority} is also ${other}'s: the shedding order would be ambiguous`,
      });
    else byPriority.set(t.priority, name);
  }
  return out;
};

const paidAboveUnpaid: Check = (p) => {
  const out: SemanticIssue[] = [];
  const names = Object.keys(p.tiers);
  for (const paid of names.filter((n) => isPaidTier(p.tiers, n))) {
    const above = names.find((n) => !isPaidTier(p.tiers, n) && p.tiers[n].priority > p.tiers[paid].priority);
    if (above)
      out.push({
        path: ['tiers', paid, 'priority'],
        rule: 'paid-priority',
        message: `paid tier ${paid} ranks below unpaid tier ${above}: paid work would be shed first`,
      });
  }
  return out;
};

const INFINITE = Number.POSITIVE_INFINITY;
function harshness(s: BrownoutStep): number[] {
  const area = s.maxSize ? s.maxSize.split('x').reduce((a, b) => a * Number(b), 1) : INFINITE;
  // Higher number = milder, per dimension.
  return [s.passes ?? INFINITE, area, s.partialImages ?? INFINITE, s.edits === false ? 0 : 1];
}

const brownoutMonotonic: Check = (p) => {
  const out: SemanticIssue[] = [];
  for (const [name, t] of Object.entries(p.tiers)) {
    for (let i = 1; i < t.brownout.length; i++) {
      const prev = harshness(t.brownout[i - 1]);
      const cur = harshness(t.brownout[i]);
      const milder = cur.some((v, d) => v > prev[d]);
      const same = cur.every((v, d) => v === prev[d]);
      if (milder || same)
        out.push({
          path: ['tiers', name, 'brownout', i],
          rule: 'brownout-monotonic',
          message: `step ${i + 1} must be harsher than step ${i} on some setting and milder on none`,
        });
    }
  }
  return out;
};

const syncWait: Check = (p) =>
  Object.entries(p.tiers)
    .filter(([, t]) => t.syncWait > t.maxWait)
    .map(([name]) => ({
      path: ['tiers', name, 'syncWait'],
      rule: 'sync-wait',
      message: `syncWait exceeds maxWait: the job would expire while the client still waits`,
    }));

/** The guarantee that matters most: a valid policy never turns every paid request away. */
const paidServed: Check = (p) => {
  const out: SemanticIssue[] = [];
  for (const [name, t] of Object.entries(p.tiers)) {
    if (!isPaidTier(p.tiers, name)) continue;
    const refuses = (path: SemanticIssue['path'], why: string) =>
      out.push({
        path,
        rule: 'paid-refused',
        message: `${why}: every request of paid tier ${name} would be refused`,
      });
    if (t.maxWait <= 0) refuses(['tiers', name, 'maxWait'], 'maxWait is 0');
    if (t.rateLimit <= 0) refuses(['tiers', name, 'rateLimit'], 'rateLimit is 0');
    p.rollout.forEach((g, i) => {
      if (g.tier !== name || g.feature !== 'generate') return;
      if (!g.enabled) refuses(['rollout', i, 'enabled'], 'the generate gate is off');
      else if (g.percent <= 0) refuses(['rollout', i, 'percent'], 'the generate gate admits 0%');
    });
    for (const lane of Object.keys(p.lanes)) {
      if (fallbackRate(p, lane, name) > 0) continue;
      const set = p.fallback[lane]?.[name] !== undefined;
      refuses(
        set ? ['fallback', lane, name] : ['fallback'],
        `the ${lane} fallback rate is ${set ? '0' : 'missing (0)'}; while the controller is unreachable`,
      );
    }
  }
  return out;
};

const gatesUnique: Check = (p) => {
  const out: SemanticIssue[] = [];
  const seen = new Set<string>();
  p.rollout.forEach((g, i) => {
    const key = `${g.feature}/${g.tier}`;
    if (seen.has(key))
      out.push({
        path: ['rollout', i],
        rule: 'gate-duplicate',
        message: `a second gate for ${g.feature} × ${g.tier}`,
      });
    seen.add(key);
  });
  return out;
};

const editCost: Check = (p) =>
  p.operations.edit.cost >= p.operations.generate.cost
    ? []
    : [
        {
          path: ['operations', 'edit', 'cost'],
          rule: 'edit-cost',
          message: 'an edit must cost at least a generation',
        },
      ];

const controlTtl: Check = (p) =>
  p.control.ttl > p.control.interval
    ? []
    : [
        {
          path: ['control', 'ttl'],
          rule: 'control-ttl',
          message: 'ttl must exceed the control interval, or every admission state is stale on arrival',
        },
      ];

const CHECKS: Check[] = [
  notEmpty,
  tiersExist,
  lanesExist,
  laneShares,
  minShares,
  models,
  priorities,
  paidAboveUnpaid,
  brownoutMonotonic,
  syncWait,
  paidServed,
  gatesUnique,
  editCost,
  controlTtl,
];

/** Pure: every rule a schema-valid policy still breaks, in a stable order. */
export function checkPolicy(policy: Policy): SemanticIssue[] {
  return CHECKS.flatMap((check) => check(policy));
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}
