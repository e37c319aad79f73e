import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { loadConfig } from '../common/config.ts';
import type { AdmissionState } from '../common/contracts/index.ts';
import type { Infra } from '../common/infra.ts';
import { createLogger } from '../common/log.ts';
import { createMemoryInfra } from '../common/memory-infra.ts';
import { loadPolicyDir } from '../common/policy/loader.ts';
import { StaticPolicySource } from '../common/policy/policy-source.ts';
import { uncappedTierAdmission } from '../common/policy/static-admission.ts';
import { hashKey } from './api-keys.ts';
import { ioFloorApp } from './bench-floor.ts';
import { createGateway, type Gateway, serveGateway } from './service.ts';

/**
 * The benchmark's server process (started by bench.ts so the load generator does not share its
 * event loop or its core): a bare Hono handler and the gateway, with one account whose requests
 * are admitted and one whose tier the admission state sheds. The gateway runs on memory infra, or
 * on real Redis and Kafka when SPILLWAY_REDIS_URL and SPILLWAY_KAFKA_BROKERS are set.
 *
 * Protocol on stdio: prints its ports as one JSON line; then each `cpu` line read on stdin is
 * answered with this process's CPU time so far (µs) as one JSON line; end of stdin stops it.
 */
export const BENCH_KEYS = { admitted: 'sk-bench-admitted-0000001', shed: 'sk-bench-shed-000000001' };

/** The request every target gets (with one of the keys as its bearer token). */
export const BENCH_REQUEST = {
  path: '/v1/images/generations',
  body: JSON.stringify({ prompt: 'a lighthouse at dawn', size: '1024x1024' }),
  headers: { 'content-type': 'application/json', prefer: 'respond-async' },
};

export interface BenchPorts {
  gateway: number;
  bare: number;
  bare429: number;
  /** The admitted path's store and queue work alone (bench-floor.ts). */
  ioFloor: number;
  variant: 'memory' | 'distributed';
}

async function benchInfra(dataDir: string): Promise<Infra> {
  const redisUrl = process.env.SPILLWAY_REDIS_URL;
  const brokers = process.env.SPILLWAY_KAFKA_BROKERS;
  if (!redisUrl || !brokers) return createMemoryInfra();
  const { createDistributedInfra } = await import('../common/distributed-infra.ts');
  const config = loadConfig({
    SPILLWAY_MODE: 'distributed',
    SPILLWAY_REDIS_URL: redisUrl,
    SPILLWAY_KAFKA_BROKERS: brokers,
    SPILLWAY_KAFKA_PARTITIONS: '1',
    SPILLWAY_DATA_DIR: dataDir,
  });
  return createDistributedInfra(config, createLogger('bench', 'silent'), { clientId: 'spillway-bench' });
}

function openAdmission(now: number, policyVersion: string): AdmissionState {
  const open = uncappedTierAdmission(600_000);
  return {
    v: 1,
    version: 1,
    epoch: 1,
    issuedAt: now,
    ttlMs: 3_600_000,
    policyVersion,
    law: 'bench',
    lanes: {
      chat: { pro: open, plus: open, free: { ...open, mode: 'shed' } },
      api: { pro: open, plus: open, free: open },
    },
    signup: { rate: null, burst: 0 },
    reasons: [],
  };
}

/**
 * A bare Hono handler answering with the gateway's own shed refusal, taken once from the gateway
 * (status, every header, body) and sent unchanged: what HTTP and Hono charge for a 429 of that
 * shape. The shed path's throughput over this one is what the gateway's own work leaves (auth,
 * admission, counters, tracing); over the plain bare handler it also pays for the response the
 * API requires (OpenAI's envelope, retry and rate-limit headers, traceparent).
 */
export async function bareRefusalApp(gateway: Gateway, shedKey: string): Promise<Hono> {
  const res = await gateway.fetch(
    new Request(`http://127.0.0.1${BENCH_REQUEST.path}`, {
      method: 'POST',
      headers: { ...BENCH_REQUEST.headers, authorization: `Bearer ${shedKey}` },
      body: BENCH_REQUEST.body,
    }),
  );
  if (res.status !== 429) throw new Error(`the bench's shed key was answered ${res.status}, not 429`);
  const headers: Record<string, string> = {};
  res.headers.forEach((value, name) => {
    headers[name] = value;
  });
  const body = await res.text();
  const app = new Hono();
  // A Response with a plain header record, as the gateway's refusals are built (request-trace.ts).
  app.post(BENCH_REQUEST.path, () => new Response(body, { status: 429, headers }));
  return app;
}

async function listen(app: Hono): Promise<{ port: number; close(): void }> {
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  return { port: (server.address() as { port: number }).port, close: () => server.close() };
}

async function main() {
  const active = await loadPolicyDir(fileURLToPath(new URL('../policies', import.meta.url)));
  // The admitted account must never hit its own limit: the benchmark measures the path, not the limit.
  active.policy.tiers.pro = { ...active.policy.tiers.pro, rateLimit: 1e9, burst: 1e9 };
  const dataDir = mkdtempSync(join(tmpdir(), 'spillway-bench-'));
  const infra = await benchInfra(dataDir);
  const now = Date.now();
  const account = (id: string, tier: string) => ({
    id,
    tier,
    lane: 'chat',
    createdAt: now,
    source: 'admin' as const,
    disabled: false,
  });
  const admitted = account('acct_bench_a', 'pro');
  await infra.accounts.put(hashKey(BENCH_KEYS.admitted), admitted);
  await infra.accounts.put(hashKey(BENCH_KEYS.shed), account('acct_bench_s', 'free'));
  await infra.coord.publishAdmission(openAdmission(now, active.version));
  const gateway = await createGateway({
    infra,
    policy: new StaticPolicySource(active),
    log: createLogger('bench', 'silent'),
    config: loadConfig({}),
  });
  const served = await serveGateway(gateway, {
    port: 0,
    host: '127.0.0.1',
    headersTimeoutMs: 10_000,
    requestTimeoutMs: 30_000,
  });
  const bare = new Hono();
  bare.post(BENCH_REQUEST.path, (c) => c.json({ ok: true }, 202));
  const bareServer = await listen(bare);
  const bare429Server = await listen(await bareRefusalApp(gateway, BENCH_KEYS.shed));
  // Its own account, so its rate-limit count is not the gateway's.
  const floorAccount = { ...admitted, id: 'acct_bench_floor' };
  const floorServer = await listen(
    ioFloorApp(infra, active.policy, floorAccount, BENCH_REQUEST.path, BENCH_REQUEST.body),
  );
  const ports: BenchPorts = {
    gateway: served.port,
    bare: bareServer.port,
    bare429: bare429Server.port,
    ioFloor: floorServer.port,
    variant: infra.mode === 'distributed' ? 'distributed' : 'memory',
  };
  process.stdout.write(`${JSON.stringify(ports)}\n`);
  const commands = createInterface({ input: process.stdin });
  commands.on('line', (line) => {
    if (line.trim() !== 'cpu') return;
    const { user, system } = process.cpuUsage();
    process.stdout.write(`${JSON.stringify({ cpuUs: user + system })}\n`);
  });
  commands.on('close', async () => {
    bareServer.close();
    bare429Server.close();
    floorServer.close();
    await served.close();
    await infra.close();
    rmSync(dataDir, { recursive: true, force: true });
    process.exit(0);
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) void main();
