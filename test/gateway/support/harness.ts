import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { loadConfig } from '../../../common/config.ts';
import { type AdmissionState, jobTopic, type TierAdmission } from '../../../common/contracts/index.ts';
import type { Infra } from '../../../common/infra.ts';
import { createLogger } from '../../../common/log.ts';
import { createMemoryInfra } from '../../../common/memory-infra.ts';
import { mergePolicyDocs } from '../../../common/policy/loader.ts';
import { StaticPolicySource } from '../../../common/policy/policy-source.ts';
import { type ActivePolicy, Policy } from '../../../common/policy/schema.ts';
import { uncappedTierAdmission } from '../../../common/policy/static-admission.ts';
import { createGateway, type Gateway, type GatewayDeps, serveGateway } from '../../../gateway/service.ts';
import { type FakeWorker, startFakeWorker } from './fake-worker.ts';

export const KEYS = {
  pro: 'sk-test-pro-0000000001',
  plus: 'sk-test-plus-000000001',
  free: 'sk-test-free-000000001',
  free2: 'sk-test-free-000000002',
  apiFree: 'sk-test-api-free-00001',
};

let versionCounter = 0;

/** The default policy with `override` merged over it (maps merge, lists replace). */
export async function testPolicy(override: Record<string, unknown> = {}): Promise<ActivePolicy> {
  const base = parse(await readFile(new URL('../../../policies/00-default.yaml', import.meta.url), 'utf8'));
  const policy = Policy.parse(mergePolicyDocs(base, override));
  return { policy, version: `test-${++versionCounter}`, files: [], loadedAt: Date.now() };
}

export function openTier(overrides: Partial<TierAdmission> = {}): TierAdmission {
  return { ...uncappedTierAdmission(600_000), ...overrides };
}

/** An admission state with every lane × tier open and uncapped, with per-tier overrides. */
export function admissionState(
  policy: ActivePolicy,
  tiers: Record<string, Partial<TierAdmission>> = {},
  version = 1,
): AdmissionState {
  const lanes: AdmissionState['lanes'] = {};
  for (const lane of Object.keys(policy.policy.lanes)) {
    lanes[lane] = {};
    for (const tier of Object.keys(policy.policy.tiers)) lanes[lane][tier] = openTier(tiers[tier] ?? {});
  }
  return {
    v: 1,
    version,
    epoch: 1,
    issuedAt: Date.now(),
    ttlMs: 60_000,
    policyVersion: policy.version,
    law: 'test',
    lanes,
    signup: { rate: null, burst: 0 },
    reasons: [],
  };
}

export interface Harness {
  infra: Infra;
  policy: StaticPolicySource;
  gateway: Gateway;
  worker: FakeWorker | null;
  /** Base URL when served over HTTP. */
  url: string;
  /** Calls the gateway (over HTTP when served, else app.fetch). */
  request(path: string, init?: RequestInit & { key?: string }): Promise<Response>;
  /** Messages published on all job topics so far (memory queue: never consumed by this group). */
  published(): Promise<number>;
  /** Tickets issued so far (a refusal must not take one). */
  tickets(): Promise<number>;
  setAdmission(tiers: Record<string, Partial<TierAdmission>>): Promise<void>;
  close(): Promise<void>;
}

export async function startHarness(
  options: {
    policy?: Record<string, unknown>;
    worker?: boolean | { passDelayMs?: number };
    serve?: boolean;
    env?: Record<string, string>;
    tuning?: GatewayDeps['tuning'];
    admission?: Record<string, Partial<TierAdmission>> | null;
    extraRoutes?: GatewayDeps['extraRoutes'];
  } = {},
): Promise<Harness> {
  const active = await testPolicy(options.policy);
  const policy = new StaticPolicySource(active);
  const infra = createMemoryInfra();
  const dir = await mkdtemp(join(tmpdir(), 'spillway-gw-'));
  const accountsFile = join(dir, 'accounts.yaml');
  await writeFile(
    accountsFile,
    [
      `- { key: ${KEYS.pro}, tier: pro, lane: chat, account: acct_pro }`,
      `- { key: ${KEYS.plus}, tier: plus, lane: chat, account: acct_plus }`,
      `- { key: ${KEYS.free}, tier: free, lane: chat, account: acct_free }`,
      `- { key: ${KEYS.free2}, tier: free, lane: chat, account: acct_free2 }`,
      `- { key: ${KEYS.apiFree}, tier: free, lane: api }`,
    ].join('\n'),
  );
  const config = loadConfig({ SPILLWAY_ACCOUNTS_FILE: accountsFile, ...options.env });
  let version = 1;
  if (options.admission !== null)
    await infra.coord.publishAdmission(admissionState(active, options.admission ?? {}, version));
  const gateway = await createGateway({
    infra,
    policy,
    log: createLogger('gateway-test', 'silent'),
    config,
    extraRoutes: options.extraRoutes,
    tuning: { signalIntervalMs: 100, ...options.tuning },
  });
  const topics = { lanes: Object.keys(active.policy.lanes), tiers: Object.keys(active.policy.tiers) };
  const worker = options.worker
    ? await startFakeWorker(infra, topics, options.worker === true ? {} : options.worker)
    : null;
  const server = options.serve
    ? await serveGateway(gateway, {
        port: 0,
        host: '127.0.0.1',
        headersTimeoutMs: 5000,
        requestTimeoutMs: 10_000,
        drainMs: 500,
      })
    : null;
  const url = server ? `http://127.0.0.1:${server.port}` : 'http://gateway.test';
  const allTopics = topics.lanes.flatMap((l) => topics.tiers.map((t) => jobTopic(l, t)));
  return {
    infra,
    policy,
    gateway,
    worker,
    url,
    request: (path, init = {}) => {
      const headers = new Headers(init.headers);
      if (init.key) headers.set('authorization', `Bearer ${init.key}`);
      const req = new Request(url + path, { ...init, headers });
      return server ? fetch(req) : Promise.resolve(gateway.fetch(req));
    },
    published: async () =>
      Object.values(await infra.queue.lag('never-consumes', allTopics)).reduce((a, b) => a + b, 0),
    tickets: async () => (await infra.jobs.queueStats()).reduce((a, s) => a + s.issued, 0),
    setAdmission: async (tiers) => {
      await infra.coord.publishAdmission(admissionState(policy.current(), tiers, ++version));
      await gateway.refreshAdmission();
    },
    close: async () => {
      await worker?.close();
      if (server) await server.close();
      else await gateway.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export function jsonInit(
  body: unknown,
  key: string | undefined,
  headers: Record<string, string> = {},
): RequestInit & { key?: string } {
  return {
    method: 'POST',
    key,
    body: JSON.stringify(body),
    headers: { 'content-type': 'application/json', ...headers },
  };
}
