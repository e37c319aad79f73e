import { fileURLToPath } from 'node:url';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { loadConfig } from '../common/config.ts';
import type { AdmissionState } from '../common/contracts/index.ts';
import { createLogger } from '../common/log.ts';
import { createMemoryInfra } from '../common/memory-infra.ts';
import { loadPolicyDir } from '../common/policy/loader.ts';
import { StaticPolicySource } from '../common/policy/policy-source.ts';
import { hashKey } from './api-keys.ts';
import { createGateway, serveGateway } from './service.ts';

/**
 * The benchmark's server process (started by bench.ts so the load generator does not share its
 * event loop): a bare Hono handler and the gateway on memory infra, with one account whose
 * requests are admitted and one whose tier the admission state sheds. Prints its ports as JSON.
 */
export const BENCH_KEYS = { admitted: 'sk-bench-admitted-0000001', shed: 'sk-bench-shed-000000001' };

async function main() {
  const active = await loadPolicyDir(fileURLToPath(new URL('../policies', import.meta.url)));
  // The admitted account must never hit its own limit: the benchmark measures the path, not the limit.
  active.policy.tiers.pro = { ...active.policy.tiers.pro, rateLimit: 1e9, burst: 1e9 };
  const infra = createMemoryInfra();
  const now = Date.now();
  await infra.accounts.put(hashKey(BENCH_KEYS.admitted), {
    id: 'acct_bench_a',
    tier: 'pro',
    lane: 'chat',
    createdAt: now,
    source: 'admin',
    disabled: false,
  });
  await infra.accounts.put(hashKey(BENCH_KEYS.shed), {
    id: 'acct_bench_s',
    tier: 'free',
    lane: 'chat',
    createdAt: now,
    source: 'admin',
    disabled: false,
  });
  const open = {
    mode: 'open' as const,
    rate: null,
    burst: 0,
    brownout: { level: 0 },
    edits: true,
    expectedWaitMs: 0,
    maxWaitMs: 600_000,
  };
  const state: AdmissionState = {
    v: 1,
    version: 1,
    epoch: 1,
    issuedAt: now,
    ttlMs: 3_600_000,
    policyVersion: active.version,
    law: 'bench',
    lanes: {
      chat: { pro: open, plus: open, free: { ...open, mode: 'shed' } },
      api: { pro: open, plus: open, free: open },
    },
    signup: { rate: null, burst: 0 },
    reasons: [],
  };
  await infra.coord.publishAdmission(state);
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
  const barePort = (bareServer.address() as { port: number }).port;
  process.stdout.write(`${JSON.stringify({ gateway: served.port, bare: barePort })}\n`);
  process.stdin.resume();
  process.stdin.on('end', async () => {
    bareServer.close();
    await served.close();
    process.exit(0);
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) void main();
