import { z } from 'zod';
import type { PolicyIssue } from './policy-issue.ts';
import { Duration, Rate } from './units.ts';

/**
 * The capacity policy ops edit in policies/*.yaml. This one schema validates the files, types the
 * code, and is exported as policies/policy.schema.json for editors (`spillway policy schema`).
 * Every field has a default so a file may override only what it changes.
 */

const Fraction = z.number().min(0).max(1);

export const BrownoutStep = z
  .object({
    passes: z.number().int().min(1).optional().describe('Decode passes to run at this step'),
    maxSize: z
      .string()
      .regex(/^\d{2,4}x\d{2,4}$/)
      .optional()
      .describe('Largest size rendered at this step'),
    partialImages: z.number().int().min(0).max(3).optional().describe('Cap on streamed partial images'),
    edits: z.boolean().default(true).describe('Whether edits are still admitted at this step'),
  })
  .strict();
export type BrownoutStep = z.infer<typeof BrownoutStep>;

/** Tier and lane names become topic names and metric labels: short, lower case, bounded. */
export const Name = z
  .string()
  .regex(/^[a-z][a-z0-9_-]{0,31}$/, 'must be lower case letters, digits, - or _ (at most 32)');

export const TierPolicy = z
  .object({
    priority: z.number().int().min(0).describe('Higher is served first and shed last; unique per tier'),
    paid: z
      .boolean()
      .optional()
      .describe('Whether the tier is paid; if omitted, every tier but the lowest-priority one is paid'),
    weight: z.number().positive().describe('Share of worker pulls when several tiers wait'),
    minShare: Fraction.default(0.05).describe(
      'Least share of pulls this tier keeps under load (0 = may starve)',
    ),
    maxWait: Duration.describe('Longest a job may wait in the queue before it is refused or expires'),
    syncWait: Duration.describe('Longest a synchronous request is held open (at most maxWait)'),
    rateLimit: Rate.describe('Requests per account'),
    burst: z
      .number()
      .int()
      .min(1)
      .default(10)
      .describe('Requests an account may make at once above its rate'),
    maxConnections: z.number().int().min(1).default(16).describe('Open sync/stream requests per account'),
    brownout: z
      .array(BrownoutStep)
      .default([])
      .describe('Degradation steps, mildest first, each at least as harsh as the one before'),
  })
  .strict();
export type TierPolicy = z.infer<typeof TierPolicy>;

export const LanePolicy = z
  .object({
    share: Fraction.describe('Share of capacity this lane is guaranteed (bulkhead)'),
  })
  .strict();

export const OperationPolicy = z
  .object({
    cost: z.number().positive().describe('Cost units; a 1024x1024 generation is 1'),
  })
  .strict();

export const ModelPolicy = z
  .object({
    name: z.string().min(1),
    sizes: z.array(z.string().regex(/^\d{2,4}x\d{2,4}$/)).min(1),
    defaultSize: z.string().regex(/^\d{2,4}x\d{2,4}$/),
    passes: z.number().int().min(1).max(8).describe('Decode passes at full quality'),
  })
  .strict();

export const RolloutFeature = z.enum(['generate', 'edit', 'stream', 'sync']);
export type RolloutFeature = z.infer<typeof RolloutFeature>;

export const RolloutGate = z
  .object({
    feature: RolloutFeature,
    tier: Name,
    enabled: z.boolean().default(true),
    percent: z.number().min(0).max(100).default(100).describe('Share of accounts let in, by stable hash'),
    startAt: z.iso.datetime({ offset: true }).optional().describe('Closed before this instant'),
  })
  .strict();
export type RolloutGate = z.infer<typeof RolloutGate>;

export const SaturationTargets = z
  .object({
    gpuUtilization: Fraction.default(0.95).describe('Busy slots / total slots the controller aims at'),
    passLatencyRatio: z
      .number()
      .min(1)
      .default(3)
      .describe('Pass latency over its idle baseline considered saturated'),
    storeLatency: Duration.prefault('50ms'),
    authLatency: Duration.prefault('100ms'),
    authErrorRate: Fraction.default(0.05),
    blobLatency: Duration.prefault('200ms'),
    signalMaxAge: Duration.prefault('5s').describe('A signal older than this counts as unknown'),
  })
  .strict();

export const CapacityLearning = z
  .object({
    smoothing: Fraction.default(0.6).describe(
      "How far one new sample moves a worker's learned capacity (1 = trust the last sample only)",
    ),
    sampleJobs: z
      .number()
      .int()
      .min(1)
      .default(3)
      .describe('Finished jobs a capacity sample spans at least (or sampleWindow, whichever comes first)'),
    sampleWindow: Duration.prefault('10s').describe(
      'Longest a capacity sample waits for sampleJobs finished jobs before it is taken anyway',
    ),
    minUse: Fraction.default(0.1).describe(
      'Slot use below which a lightly loaded worker teaches nothing about its capacity',
    ),
    workerLateIntervals: z
      .number()
      .min(1)
      .default(1.5)
      .describe('A worker silent for this many control intervals (at least 1 s each) counts for no capacity'),
    holdAfterLoss: Duration.prefault('60s').describe(
      'After the last live worker stops reporting (a restart, a network split), how long its learned capacity still stands in, so the queue it lets grow limits admission; then the static fallback rates apply. 0s: at once',
    ),
  })
  .strict();

export const ControlPolicy = z
  .object({
    law: z.enum(['aimd', 'gradient']).default('aimd'),
    interval: Duration.prefault('1s'),
    ttl: Duration.prefault('10s').describe('Gateways fall back to static limits when the state is older'),
    targetWait: z
      .number()
      .gt(0)
      .max(1)
      .default(0.25)
      .describe(
        "Queue wait the laws aim at, as a fraction of each tier's syncWait (0.25: losing half the capacity still answers sync requests)",
      ),
    minFactor: z
      .number()
      .gt(0)
      .max(1)
      .default(0.1)
      .describe('Least share of capacity admitted for queue congestion alone (the queue drains anyway)'),
    drainLimit: Fraction.default(0.5).describe(
      'Largest queue overshoot the laws act on, in target waits past the target: caps how far a long queue cuts admission below capacity',
    ),
    demandSmoothing: Fraction.default(0.5).describe(
      "How far one interval's measured demand moves the controller's estimate",
    ),
    capacity: CapacityLearning.prefault({}).describe('How capacity is learned from what workers finish'),
    aimd: z
      .object({ increase: z.number().positive().default(0.1), decrease: z.number().gt(0).lt(1).default(0.7) })
      .strict()
      .default({ increase: 0.1, decrease: 0.7 }),
    gradient: z
      .object({
        gain: z.number().positive().default(0.5),
        smoothing: Fraction.default(0.2),
        queueAuthority: Fraction.default(0.2).describe(
          'Most a queue correction moves admission away from capacity (the queue is a buffer, not a goal)',
        ),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export const SignupPolicy = z
  .object({
    perClient: Rate.prefault('5/h').describe('Sign-ups per client address'),
    global: Rate.prefault('300/s').describe('Sign-ups across all gateways'),
    tier: Name.default('free').describe('Tier a new account starts in'),
    lane: Name.default('chat').describe('Lane a new account starts in'),
  })
  .strict();

export const WorkerPolicy = z
  .object({
    lease: Duration.prefault('15s').describe(
      "How long a running job stays a dead worker's before another may take it over; renewed every third of it",
    ),
    maxAttempts: z
      .number()
      .int()
      .min(1)
      .max(20)
      .default(3)
      .describe('Claims after which a job is dead-lettered'),
    deliveryRetry: Duration.prefault('30s').describe(
      'How long a delivery is retried while the store fails before it is released back to the queue',
    ),
  })
  .strict();

export const GatewayLimits = z
  .object({
    maxBodyBytes: z.number().int().positive().default(1_048_576),
    maxPromptChars: z.number().int().positive().default(32_000),
    maxImageBytes: z.number().int().positive().default(8_388_608),
    maxImageDimension: z.number().int().positive().default(2048),
    maxParts: z.number().int().positive().default(16),
    headersTimeout: Duration.prefault('10s'),
    requestTimeout: Duration.prefault('30s'),
    idempotencyTtl: Duration.prefault('24h'),
    urlTtl: Duration.prefault('1h'),
    retryHeadroom: z
      .number()
      .min(1)
      .max(16)
      .default(2)
      .describe(
        "A retry is admitted only while its tier's bucket holds this many times its cost, and takes only its cost: retries are shed before first attempts (1: retries are treated as first attempts)",
      ),
  })
  .strict();

const Models = z
  .object({
    default: z.string().describe('Model used when a request names none'),
    available: z.array(ModelPolicy).min(1),
  })
  .strict();
const Operations = z
  .object({ generate: OperationPolicy, edit: OperationPolicy })
  .strict()
  .describe('Cost of each operation; an edit costs at least as much as a generation');
const Fallback = z
  .record(Name, z.record(Name, Rate))
  .describe('Static cost-unit rates per lane then tier, used when the controller state is stale or absent');

/**
 * One file in policies/. Files merge (see loader.ts), so a file may set only what it changes: every
 * section is optional and a tier may override single fields. List items (models, gates, brownout
 * steps) are complete because lists replace rather than merge. The merged result must be a Policy.
 */
export const PolicyFile = z
  .object({
    models: Models.partial().optional(),
    tiers: z.record(Name, TierPolicy.partial()).optional().describe('Service tiers by name'),
    lanes: z.record(Name, LanePolicy).optional().describe('Lanes (bulkheads) by name'),
    operations: Operations.partial().optional(),
    rollout: z.array(RolloutGate).optional().describe('Rollout gates, feature × tier; none = all open'),
    saturation: SaturationTargets.optional(),
    control: ControlPolicy.optional(),
    signup: SignupPolicy.optional(),
    fallback: Fallback.optional(),
    limits: GatewayLimits.optional(),
    workers: WorkerPolicy.optional(),
  })
  .strict();
export type PolicyFile = z.input<typeof PolicyFile>;

/** A merged, complete policy: what the services run on. */
export const Policy = z
  .object({
    models: Models,
    tiers: z.record(Name, TierPolicy),
    lanes: z.record(Name, LanePolicy),
    operations: Operations,
    rollout: z.array(RolloutGate).default([]),
    saturation: SaturationTargets.prefault({}),
    control: ControlPolicy.prefault({}),
    signup: SignupPolicy.prefault({}),
    fallback: Fallback.default({}),
    limits: GatewayLimits.prefault({}),
    workers: WorkerPolicy.prefault({}),
  })
  .strict();
export type Policy = z.infer<typeof Policy>;
export type PolicyInput = z.input<typeof Policy>;

/** The active policy plus its identity, as services hold it. */
export interface ActivePolicy {
  policy: Policy;
  /** Content hash of the merged policy: published with every admission state. */
  version: string;
  files: { path: string; sha256: string }[];
  loadedAt: number;
  /** Valid but probably not meant (see shadowing.ts); printed by `policy check`, logged on load. */
  warnings?: PolicyIssue[];
}
