import { readFile } from 'node:fs/promises';
import { relative } from 'node:path';
import { z } from 'zod';
import { SpillwayError } from '../common/errors.ts';
import { formatIssue } from '../common/policy/policy-issue.ts';
import { parseYamlText, schemaIssues } from '../common/policy/source-map.ts';
import { Duration } from '../common/policy/units.ts';

/**
 * A load-test campaign: what traffic arrives when (open model: arrivals are scheduled by time,
 * never by completions), who sends it, how clients behave, and what breaks on purpose.
 * One schema serves the runner, the k6 script (via the JSON export) and the simulator.
 */

const Fraction = z.number().min(0).max(1);

export const Delivery = z.enum(['sync', 'stream', 'async']);
export type Delivery = z.infer<typeof Delivery>;

/** One class of request in the traffic mix; weights are relative within a stage. */
export const MixEntry = z
  .object({
    lane: z.string().min(1),
    tier: z.string().min(1),
    weight: z.number().positive().describe('Relative share of the stage rate'),
    operation: z.enum(['generate', 'edit']).default('generate'),
    delivery: Delivery.default('sync'),
    size: z
      .string()
      .regex(/^\d{2,4}x\d{2,4}$/)
      .default('256x256'),
    partialImages: z.number().int().min(0).max(3).default(0),
    /** Share of these requests coming from accounts created during the campaign (sign-ups). */
    newUsers: Fraction.default(0),
  })
  .strict();
export type MixEntry = z.infer<typeof MixEntry>;

/** Multiplies the rate of every mix entry matching lane and/or tier (a viral lane, a rollout). */
export const Surge = z
  .object({
    lane: z.string().optional(),
    tier: z.string().optional(),
    factor: z.number().min(0),
  })
  .strict();
export type Surge = z.infer<typeof Surge>;

export const Stage = z
  .object({
    name: z.string().min(1),
    duration: Duration,
    rate: z.number().min(0).describe('Arrivals per second (all classes) at the start of the stage'),
    rampTo: z.number().min(0).optional().describe('Arrivals per second at the end (linear ramp)'),
    mix: z.array(MixEntry).min(1).optional().describe('Replaces the campaign mix for this stage'),
    surge: z.array(Surge).default([]),
    signups: z.number().min(0).default(0).describe('New accounts per second (simulator)'),
    capacity: z
      .number()
      .positive()
      .optional()
      .describe('Simulator only: GPU capacity in cost units per second from this stage on'),
  })
  .strict();
export type Stage = z.infer<typeof Stage>;

/** Client behaviour, defaulting to the `openai` SDK's. */
export const ClientBehaviour = z
  .object({
    giveUpAfter: Duration.prefault('120s').describe('A client abandons a request after this long'),
    maxRetries: z.number().int().min(0).max(10).default(2),
    initialRetryDelay: Duration.prefault('500ms'),
    maxRetryDelay: Duration.prefault('8s'),
    /** Hints above this are ignored (the SDK ignores retry-after over 60 s). */
    maxRetryAfter: Duration.prefault('60s'),
    pollInterval: Duration.prefault('500ms').describe('Async clients poll their job this often'),
    connections: z
      .number()
      .int()
      .min(0)
      .default(0)
      .describe(
        'HTTP connections the runner may open (0 = one per request in flight, as open-model clients do)',
      ),
  })
  .strict();
export type ClientBehaviour = z.infer<typeof ClientBehaviour>;

export const FaultKind = z.enum([
  'kill-workers',
  'add-workers',
  'slow-store',
  'slow-auth',
  'slow-blob',
  'restart-kafka',
  'restart-redis',
]);
export type FaultKind = z.infer<typeof FaultKind>;

export const Fault = z
  .object({
    at: Duration.describe('Time since the campaign start'),
    kind: FaultKind,
    fraction: Fraction.optional().describe('Share of workers killed or added'),
    latency: Duration.optional().describe('Added latency for slow-* faults'),
    for: Duration.optional().describe('Undone after this long (absent: until the end)'),
  })
  .strict();
export type Fault = z.infer<typeof Fault>;

export const Expectations = z
  .object({
    paidSuccess: Fraction.optional(),
    refusalP99: Duration.optional(),
    refusalOverHealthCheck: z
      .number()
      .min(1)
      .optional()
      .describe(
        "Largest refusal p99 as a multiple of the health-check p99 in the same seconds: refusalP99's form that holds on any machine (checked when there are refusals and health checks)",
      ),
    gpuUtilisation: Fraction.optional().describe('While demand exceeds capacity'),
    noPaidRefusalWhileFreeAdmitted: z.boolean().optional(),
    maxAbandoned: Fraction.optional().describe(
      'Largest share of requests left without any answer (no result, no refusal) until the client gave up',
    ),
    recoveryWithin: Duration.optional().describe('After the last fault/surge ends'),
  })
  .strict();
export type Expectations = z.infer<typeof Expectations>;

export const Stack = z
  .object({
    workers: z
      .number()
      .int()
      .min(1)
      .max(8)
      .describe(
        "Inference workers of a stack the runner starts itself (the command line's --worker-slots / --worker-processes win): embedded, one slot each; distributed, one process each. A fault that kills a fraction of the workers needs enough of them for the fraction to mean what it says",
      ),
  })
  .strict();

export const Simulation = z
  .object({
    capacity: z
      .number()
      .positive()
      .describe(
        'GPU capacity in policy cost units per second at the start (a 1024×1024 generation costs 1). With rateUnit capacity, a rate of 1 is as many requests/s of the reference request (the first paid entry) as this capacity serves',
      ),
    gateways: z.number().int().min(1).default(8),
    workers: z.number().int().min(1).default(100),
    passMs: z.number().positive().default(2000).describe('Idle time of one decode pass'),
    /** Share of shed requests whose clients retry (the rest give up at once). */
    retryingClients: Fraction.default(1),
  })
  .strict();

export const Campaign = z
  .object({
    name: z.string().min(1),
    description: z.string().default(''),
    seed: z.number().int().default(1),
    paidTiers: z.array(z.string()).default(['pro', 'plus']),
    rateUnit: z
      .enum(['perSecond', 'capacity'])
      .default('perSecond')
      .describe("capacity: rates are multiples of the target's measured capacity (requests/s)"),
    mix: z.array(MixEntry).min(1),
    stages: z.array(Stage).min(1),
    client: ClientBehaviour.prefault({}),
    prompts: z.array(z.string().min(1)).min(1).default(['a lighthouse at dusk, oil painting']),
    faults: z.array(Fault).default([]),
    expect: Expectations.default({}),
    stack: Stack.optional(),
    simulation: Simulation.optional(),
  })
  .strict();
export type Campaign = z.infer<typeof Campaign>;
export type CampaignInput = z.input<typeof Campaign>;

export interface CampaignOverrides {
  /** Multiplies every arrival rate (and sign-up rate and simulated capacity). */
  scale?: number;
  /** Total duration in ms: stages and fault times are compressed or stretched in proportion. */
  durationMs?: number;
}

export function campaignDurationMs(c: Campaign): number {
  return c.stages.reduce((s, st) => s + st.duration, 0);
}

/** Applies --scale and --duration; the shape of the campaign is kept. */
export function applyOverrides(c: Campaign, o: CampaignOverrides): Campaign {
  const scale = o.scale ?? 1;
  const time = o.durationMs ? o.durationMs / campaignDurationMs(c) : 1;
  const t = (ms: number) => Math.max(1, Math.round(ms * time));
  return {
    ...c,
    stages: c.stages.map((s) => ({
      ...s,
      duration: t(s.duration),
      rate: s.rate * scale,
      rampTo: s.rampTo === undefined ? undefined : s.rampTo * scale,
      signups: s.signups * scale,
      capacity: s.capacity === undefined ? undefined : s.capacity * scale,
    })),
    faults: c.faults.map((f) => ({
      ...f,
      at: Math.round(f.at * time),
      for: f.for === undefined ? undefined : t(f.for),
    })),
    expect: {
      ...c.expect,
      recoveryWithin: c.expect.recoveryWithin === undefined ? undefined : t(c.expect.recoveryWithin),
    },
    simulation: c.simulation && { ...c.simulation, capacity: c.simulation.capacity * scale },
  };
}

export function parseCampaign(doc: unknown, source = 'campaign'): Campaign {
  const parsed = Campaign.safeParse(doc);
  if (parsed.success) return parsed.data;
  throw campaignError(
    parsed.error.issues.map((i) => `${source}: ${i.path.join('.') || '(root)'}: ${i.message}`),
  );
}

/** Every problem, one per line; the CLI prints the message. */
function campaignError(lines: string[]): SpillwayError {
  return new SpillwayError('campaign_invalid', lines.join('\n'), { issues: lines });
}

/**
 * A campaign file's text → the campaign, or a `campaign_invalid` error listing every problem as
 * `file:line:col: field: message` (YAML syntax first; then the schema, pointing at the value).
 */
export function parseCampaignText(text: string, file: string): Campaign {
  const { file: parsedFile, issues } = parseYamlText(text, file);
  const parsed = issues.length > 0 ? null : Campaign.safeParse(parsedFile.doc.toJS());
  if (parsed?.success) return parsed.data;
  const problems = parsed ? schemaIssues(parsed.error, [parsedFile]) : issues;
  // The field in place of the rule: `stages.0.duration` tells a campaign's author more than `schema/…`.
  throw campaignError(problems.map((i) => formatIssue({ ...i, rule: i.path || i.rule })));
}

/** Loads a YAML campaign by path, or by name from loadtests/campaigns/. */
export async function loadCampaign(pathOrName: string, overrides: CampaignOverrides = {}): Promise<Campaign> {
  const path = resolveCampaignPath(pathOrName);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new SpillwayError('campaign_missing', `${pathOrName}: no such campaign file (looked at ${path})`);
  }
  // As given when a path was, else the shipped file relative to here, so editors can follow it.
  const shown = path === pathOrName ? path : relative(process.cwd(), path) || path;
  return applyOverrides(parseCampaignText(text, shown), overrides);
}

export function resolveCampaignPath(pathOrName: string): string {
  if (/[/\\]|\.ya?ml$/.test(pathOrName)) return pathOrName;
  return new URL(`./campaigns/${pathOrName}.yaml`, import.meta.url).pathname;
}

/** The JSON Schema editors use (loadtests/campaign.schema.json), generated from the zod schema. */
export function campaignJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(Campaign, { io: 'input', unrepresentable: 'any' }),
    title: 'Spillway load-test campaign',
  };
}
