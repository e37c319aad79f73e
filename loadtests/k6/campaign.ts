/**
 * Runs any Spillway campaign with k6's arrival-rate executors (open model, like the project's own
 * runner): one ramping-arrival-rate scenario per request class, following the campaign's stages.
 * k6 reads no YAML, so export the campaign first:
 *
 *   spillway loadtest launch-day --duration 30s --export-json /tmp/launch-day.json
 *   k6 run -e CAMPAIGN=/tmp/launch-day.json -e BASE_URL=http://127.0.0.1:8080 \
 *          -e KEYS=/tmp/accounts.json -e CAPACITY=12 loadtests/k6/campaign.ts
 *
 * KEYS is a JSON list of {key, tier, lane}; CAPACITY is what one rate unit means for campaigns
 * whose rates are multiples of capacity. Thresholds come from the campaign's `expect` block.
 * Type-checked in CI with @types/k6 (tsc -p loadtests/k6); k6 itself is not installed there.
 */
import { check } from 'k6';
import http from 'k6/http';
import { Rate, Trend } from 'k6/metrics';
import type { Options, Scenario } from 'k6/options';

interface MixEntry {
  lane: string;
  tier: string;
  weight: number;
  operation: 'generate' | 'edit';
  delivery: 'sync' | 'stream' | 'async';
  size: string;
  partialImages: number;
}

interface Stage {
  name: string;
  duration: number;
  rate: number;
  rampTo?: number;
  mix?: MixEntry[];
  surge: { lane?: string; tier?: string; factor: number }[];
}

interface Campaign {
  name: string;
  rateUnit: 'perSecond' | 'capacity';
  paidTiers: string[];
  mix: MixEntry[];
  stages: Stage[];
  prompts: string[];
  client: { giveUpAfter: number };
  expect: { paidSuccess?: number; refusalP99?: number };
}

interface Key {
  key: string;
  tier: string;
  lane: string;
}

const campaign: Campaign = JSON.parse(open(__ENV.CAMPAIGN ?? 'campaign.json'));
const keys: Key[] = __ENV.KEYS ? JSON.parse(open(__ENV.KEYS)) : [];
const baseUrl = (__ENV.BASE_URL ?? 'http://127.0.0.1:8080').replace(/\/+$/, '');
const unit = campaign.rateUnit === 'capacity' ? Number(__ENV.CAPACITY ?? '1') : 1;

const paidSuccess = new Rate('spillway_paid_success');
const refusalLatency = new Trend('spillway_refusal_latency', true);
const admitted = new Rate('spillway_admitted');

/** Every distinct request class across the campaign, by a stable name. */
function classes(): Map<string, MixEntry> {
  const out = new Map<string, MixEntry>();
  for (const e of [campaign.mix, ...campaign.stages.map((s) => s.mix ?? [])].flat()) {
    out.set(`${e.lane}_${e.tier}_${e.operation}_${e.delivery}`, e);
  }
  return out;
}

function rateOf(stage: Stage, name: string, at: number): number {
  const mix = stage.mix ?? campaign.mix;
  const total = mix.reduce((s, e) => s + e.weight, 0);
  const rate = at === 0 ? stage.rate : (stage.rampTo ?? stage.rate);
  let r = 0;
  for (const e of mix) {
    if (`${e.lane}_${e.tier}_${e.operation}_${e.delivery}` !== name) continue;
    let f = 1;
    for (const s of stage.surge) {
      if ((s.lane === undefined || s.lane === e.lane) && (s.tier === undefined || s.tier === e.tier))
        f *= s.factor;
    }
    r += ((rate * e.weight) / total) * f * unit;
  }
  return r;
}

function scenarios(): Record<string, Scenario> {
  const out: Record<string, Scenario> = {};
  for (const name of classes().keys()) {
    // Rates are per minute so classes below 1 req/s still get their share.
    const stages = campaign.stages.flatMap((s) => [
      { target: Math.round(rateOf(s, name, 0) * 60), duration: '1s' },
      {
        target: Math.round(rateOf(s, name, 1) * 60),
        duration: `${Math.max(1, Math.round(s.duration / 1000) - 1)}s`,
      },
    ]);
    out[name] = {
      executor: 'ramping-arrival-rate',
      startRate: 0,
      timeUnit: '1m',
      preAllocatedVUs: 50,
      maxVUs: 2000,
      stages,
      exec: 'request',
      env: { CLASS: name },
    };
  }
  return out;
}

const thresholds: Record<string, string[]> = {};
if (campaign.expect.paidSuccess !== undefined)
  thresholds.spillway_paid_success = [`rate>=${campaign.expect.paidSuccess}`];
if (campaign.expect.refusalP99 !== undefined)
  thresholds.spillway_refusal_latency = [`p(99)<=${campaign.expect.refusalP99}`];

export const options: Options = { scenarios: scenarios(), thresholds, discardResponseBodies: false };

const all = classes();
let counter = 0;

export function request(): void {
  const entry = all.get(__ENV.CLASS)!;
  const mine = keys.filter((k) => k.lane === entry.lane && k.tier === entry.tier);
  const key = mine.length ? mine[counter++ % mine.length].key : 'missing-key';
  const headers: Record<string, string> = {
    authorization: `Bearer ${key}`,
    'content-type': 'application/json',
  };
  if (entry.delivery === 'async') headers.prefer = 'respond-async';
  const body: Record<string, unknown> = {
    model: 'gpt-image-1',
    prompt: campaign.prompts[counter % campaign.prompts.length],
    size: entry.size,
    n: 1,
  };
  if (entry.delivery === 'stream') Object.assign(body, { stream: true, partial_images: entry.partialImages });
  const res = http.post(`${baseUrl}/v1/images/generations`, JSON.stringify(body), {
    headers,
    timeout: `${Math.round(campaign.client.giveUpAfter / 1000)}s`,
    tags: { lane: entry.lane, tier: entry.tier },
  });
  const refused = res.status === 429 || res.status === 503;
  if (refused) refusalLatency.add(res.timings.duration, { tier: entry.tier });
  admitted.add(!refused, { tier: entry.tier });
  const ok = res.status === 200 || res.status === 202;
  if (campaign.paidTiers.includes(entry.tier)) paidSuccess.add(ok);
  check(res, { 'answered without a server error': (r) => r.status < 500 || r.status === 503 });
}
