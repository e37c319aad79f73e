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
import { createGateway, serveGateway } from './service.ts';

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

export interface BenchPorts {
  gateway: number;
  bare: number;
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
  await infra.accounts.put(hashKey(BENCH_KEYS.admitted), account('acct_bench_a', 'pro'));
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
  bare.post('/v1/images/generations', (c) => c.json({ ok: true }, 202));
  const bareServer = serve({ fetch: bare.fetch, port: 0, hostname: '127.0.0.1' });
  await new Promise<void>((r) => bareServer.once('listening', () => r()));
  const ports: BenchPorts = {
    gateway: served.port,
    bare: (bareServer.address() as { port: number }).port,
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
    await served.close();
    await infra.close();
    rmSync(dataDir, { recursive: true, force: true });
    process.exit(0);
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) void main();
