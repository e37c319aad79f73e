import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../common/dev-services/free-port.ts';
import { type KafkaBroker, startKafkaBroker } from '../../common/dev-services/kafka-broker.ts';
import { type RedisServer, startRedisServer } from '../../common/dev-services/redis-server.ts';
import type { JobRecord, ProgressEvent } from '../../common/contracts/index.ts';
import { connectRedis, createRedisClient } from '../../common/store/redis-client.ts';
import { RedisJobStore } from '../../common/store/redis-job-store.ts';
import { DelayProxy } from './support/delay-proxy.ts';
import { Ledger, terminal, terminalEvents } from './support/ledger.ts';
import { SpillwayProcess } from './support/spillway-process.ts';

/**
 * The distributed mode under faults, with real processes: two gateways, two controllers (one
 * leader), two inference workers, a Kafka broker and a Redis of this file's own (AOF, fsync
 * always), Redis reached through a delaying TCP proxy. One set of processes lives through every
 * fault in turn while clients keep submitting jobs. The ledger holds every id a client was given;
 * at the end each must have exactly one terminal state, each completed image must be served to its
 * owner and to no one else, and every job record in the store must be terminal — including jobs of
 * clients that were cut off. Results per fault go to test-results/chaos.json.
 */

const ACCOUNTS = [
  { key: 'sk-chaos-pro-a-0000000000000000000001', tier: 'pro', lane: 'api', account: 'acct_chaos_a' },
  { key: 'sk-chaos-pro-b-0000000000000000000002', tier: 'pro', lane: 'api', account: 'acct_chaos_b' },
  { key: 'sk-chaos-plus-c-000000000000000000003', tier: 'plus', lane: 'chat', account: 'acct_chaos_c' },
  { key: 'sk-chaos-pro-d-0000000000000000000004', tier: 'pro', lane: 'chat', account: 'acct_chaos_d' },
];
const BODY = { prompt: 'a lighthouse on a cliff at dusk', size: '256x256', quality: 'low' };
/** Client timeouts: an answer later than this is a hang (the service must answer, maybe 503). */
const POST_TIMEOUT_MS = 15_000;
const HELD_TIMEOUT_MS = 90_000;
const RECOVERY_LIMIT_MS = 75_000;

interface FaultResult {
  fault: string;
  issued: number;
  terminal: number;
  lost: number;
  duplicates: number;
  recoverySeconds: number | null;
  answers: unknown;
  note?: string;
}

const ledger = new Ledger();
const results: FaultResult[] = [];
const procs: Record<string, SpillwayProcess> = {};
let dir: string;
let redisServer: RedisServer;
let kafka: KafkaBroker;
let proxy: DelayProxy;
let direct: Redis;
let store: RedisJobStore;
const gatewayUrls: Record<string, string> = {};
let stopTraffic = false;
let traffic: Promise<void> | null = null;
const held: Promise<void>[] = [];
let tick = 0;

function liveGateways(): string[] {
  return ['g1', 'g2'].filter((g) => procs[g]?.alive()).map((g) => gatewayUrls[g]);
}

function isCut(err: unknown): boolean {
  const e = err as { name?: string; cause?: { code?: string } };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return false;
  return true;
}

async function post(
  url: string,
  acct: (typeof ACCOUNTS)[number],
  extra: Record<string, string>,
  body: Record<string, unknown>,
  timeoutMs: number,
): Promise<Response | null> {
  try {
    const res = await fetch(`${url}/v1/images/generations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${acct.key}`, 'content-type': 'application/json', ...extra },
      body: JSON.stringify({ ...BODY, ...body }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    ledger.answer('status', res.status, res.headers.has('retry-after'));
    return res;
  } catch (err) {
    ledger.answer(isCut(err) ? 'cut' : 'hang');
    return null;
  }
}

async function submitAsync(url: string, acct: (typeof ACCOUNTS)[number]): Promise<void> {
  const res = await post(url, acct, { prefer: 'respond-async' }, {}, POST_TIMEOUT_MS);
  if (!res) return;
  const body = (await res.json().catch(() => null)) as { id?: string } | null;
  if (res.status === 202 && body?.id) ledger.issue(body.id, acct.account, acct.key, 'async');
}

async function submitLarge(acct: (typeof ACCOUNTS)[number]): Promise<void> {
  const res = await post(
    liveGateways()[0],
    acct,
    { prefer: 'respond-async' },
    { size: '1024x1024', quality: 'high' },
    POST_TIMEOUT_MS,
  );
  const body = res ? ((await res.json().catch(() => null)) as { id?: string } | null) : null;
  if (res?.status === 202 && body?.id) ledger.issue(body.id, acct.account, acct.key, 'async');
}

/** A streaming request held open until the job ends; its id comes in the response headers. */
async function submitStream(url: string, acct: (typeof ACCOUNTS)[number]): Promise<void> {
  const res = await post(url, acct, {}, { stream: true, partial_images: 2 }, HELD_TIMEOUT_MS);
  if (!res) return;
  const id = res.headers.get('x-spillway-job-id');
  if (res.status === 200 && id) ledger.issue(id, acct.account, acct.key, 'stream');
  try {
    const text = await res.text();
    if (id && text.includes('image_generation.completed')) ledger.entries.get(id)?.seen.add('completed');
  } catch {
    // Cut mid-stream (the gateway was killed): the job goes on; the client follows it by id.
  }
}

/** A sync request with an Idempotency-Key; if its gateway dies, the client retries elsewhere. */
async function submitSync(url: string, acct: (typeof ACCOUNTS)[number], key: string): Promise<number> {
  for (let attempt = 0; attempt < 4; attempt++) {
    const target = attempt === 0 ? url : (liveGateways()[0] ?? url);
    const res = await post(target, acct, { 'idempotency-key': key }, {}, HELD_TIMEOUT_MS);
    if (res) {
      await res.arrayBuffer().catch(() => {});
      if (res.status === 200) return 200;
      if (res.status !== 503 && res.status !== 429) return res.status;
    }
    await sleep(500);
  }
  return 0;
}

function startTraffic() {
  stopTraffic = false;
  traffic = (async () => {
    while (!stopTraffic) {
      const urls = liveGateways();
      if (urls.length > 0) {
        const url = urls[tick % urls.length];
        const acct = ACCOUNTS[tick % ACCOUNTS.length];
        if (tick % 6 === 5) held.push(submitStream(url, acct));
        else held.push(submitAsync(url, acct));
        tick++;
      }
      await sleep(250);
    }
  })();
}

async function records(ids: string[]): Promise<Map<string, JobRecord | null>> {
  const out = new Map<string, JobRecord | null>();
  for (const id of ids) out.set(id, await store.get(id).catch(() => null));
  return out;
}

async function allTerminal(ids: string[]): Promise<boolean> {
  for (const [, r] of await records(ids)) if (!terminal(r)) return false;
  return true;
}

async function probe(): Promise<boolean> {
  const url = liveGateways()[0];
  if (!url) return false;
  try {
    const res = await fetch(`${url}/v1/images/generations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ACCOUNTS[0].key}`, 'content-type': 'application/json' },
      body: JSON.stringify(BODY),
      signal: AbortSignal.timeout(10_000),
    });
    await res.arrayBuffer();
    return res.status === 200;
  } catch {
    return false;
  }
}

/**
 * Recovery: from the fault until every job that was in flight at the fault is terminal and a
 * new sync job completes end to end. Null when that did not happen within RECOVERY_LIMIT_MS.
 */
const ISSUE_WAIT_MS = 10_000;

async function recovery(injectedAt: number, pending: string[]): Promise<number | null> {
  const until = injectedAt + RECOVERY_LIMIT_MS;
  while (performance.now() < until) {
    if ((await allTerminal(pending)) && (await probe())) {
      const secs = (performance.now() - injectedAt) / 1000;
      await firstIssued(ledger.fault, ISSUE_WAIT_MS);
      return secs;
    }
    await sleep(250);
  }
  return null;
}

/**
 * The phase stays open (at most `ms`) until the clients were handed a job id in it: a fault the
 * services recover from within half a second (Redis restarted: 3.5 s in all, every answer during
 * the outage a 503) otherwise closes with no job of its own for the ledger to follow.
 */
async function firstIssued(fault: string, ms: number): Promise<void> {
  const until = performance.now() + ms;
  while (ledger.ids(fault).length === 0 && performance.now() < until) await sleep(100);
}

async function inFlight(): Promise<string[]> {
  const ids = ledger.ids();
  const recs = await records(ids);
  return ids.filter((id) => !terminal(recs.get(id) ?? null));
}

function record(fault: string, recoverySeconds: number | null, note?: string) {
  results.push({
    fault,
    issued: ledger.ids(fault).length,
    terminal: 0,
    lost: 0,
    duplicates: 0,
    recoverySeconds: recoverySeconds === null ? null : Math.round(recoverySeconds * 10) / 10,
    answers: ledger.answers.get(fault) ?? null,
    note,
  });
}

function env(extra: Record<string, string>): Record<string, string> {
  return {
    SPILLWAY_REDIS_URL: `redis://127.0.0.1:${proxy.port}`,
    SPILLWAY_KAFKA_BROKERS: kafka.brokers,
    SPILLWAY_DATA_DIR: join(dir, 'data'),
    SPILLWAY_POLICY_DIR: 'policies',
    SPILLWAY_ACCOUNTS_FILE: join(dir, 'accounts.yaml'),
    SPILLWAY_URL_SIGNING_KEY: 'chaos-url-signing-key-000000000001',
    SPILLWAY_KAFKA_PARTITIONS: '2',
    SPILLWAY_WORKER_SLOTS: '1',
    SPILLWAY_LOG_LEVEL: 'warn',
    // Any free port for the ops endpoints of every process (several run on this machine).
    SPILLWAY_METRICS_PORT: '0',
    SPILLWAY_STATUS_PORT: '0',
    ...extra,
  };
}

async function spawnService(
  name: string,
  role: 'gateway' | 'controller' | 'inference',
  extra: Record<string, string>,
) {
  const p = new SpillwayProcess(name, role, env(extra), dir);
  procs[name] = p;
  await p.start();
}

async function leaderHolder(): Promise<string | null> {
  return direct.hget('spillway:lease:controller', 'holder').catch(() => null);
}

async function admissionEpoch(): Promise<number> {
  const raw = await direct.hget('spillway:admission', 'state').catch(() => null);
  return raw ? Number((JSON.parse(raw) as { epoch: number }).epoch) : -1;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'spillway-chaos-'));
  mkdirSync(join(dir, 'data'), { recursive: true });
  writeFileSync(
    join(dir, 'accounts.yaml'),
    ACCOUNTS.map((a) => `- { key: ${a.key}, tier: ${a.tier}, lane: ${a.lane}, account: ${a.account} }`).join(
      '\n',
    ),
  );
  [redisServer, kafka] = await Promise.all([
    startRedisServer({ fsync: 'always' }),
    startKafkaBroker({ heapMb: 384 }),
  ]);
  proxy = new DelayProxy(redisServer.info.port);
  await proxy.start();
  direct = createRedisClient(redisServer.url, { name: 'chaos-check' });
  await connectRedis(direct, 'SPILLWAY_REDIS_URL', 10_000);
  store = new RedisJobStore(direct);
  const [g1, g2, s1, s2] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
  gatewayUrls.g1 = `http://127.0.0.1:${g1}`;
  gatewayUrls.g2 = `http://127.0.0.1:${g2}`;
  // The first gateway creates the topics; the others start in parallel after it.
  await spawnService('g1', 'gateway', { PORT: String(g1) });
  await Promise.all([
    spawnService('g2', 'gateway', { PORT: String(g2) }),
    spawnService('c1', 'controller', { SPILLWAY_STATUS_PORT: String(s1), SPILLWAY_WORKER_ID: 'ctrl-1' }),
    spawnService('c2', 'controller', { SPILLWAY_STATUS_PORT: String(s2), SPILLWAY_WORKER_ID: 'ctrl-2' }),
    spawnService('w1', 'inference', { SPILLWAY_WORKER_ID: 'worker-1' }),
    spawnService('w2', 'inference', { SPILLWAY_WORKER_ID: 'worker-2' }),
  ]);
  const until = performance.now() + 60_000;
  while (!(await probe())) {
    if (performance.now() > until) throw new Error('the distributed stack never completed a job');
    await sleep(500);
  }
}, 150_000);

afterAll(async () => {
  stopTraffic = true;
  await traffic;
  await Promise.all(Object.values(procs).map((p) => p.stop()));
  direct?.disconnect();
  await proxy?.close();
  await Promise.all([kafka?.stop(), redisServer?.stop()]);
  mkdirSync('test-results', { recursive: true });
  writeFileSync(
    'test-results/chaos.json',
    `${JSON.stringify({ at: new Date().toISOString(), faults: results }, null, 2)}\n`,
  );
  // The services' own logs (warn and up) stay next to the report, for the post-mortem of a failure.
  mkdirSync('test-results/chaos-logs', { recursive: true });
  for (const p of Object.values(procs)) {
    if (existsSync(p.logFile)) copyFileSync(p.logFile, join('test-results/chaos-logs', `${p.name}.log`));
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 60_000);

describe('chaos: distributed mode under faults', () => {
  it('SIGKILL of an inference worker mid-pass: its job is taken over and finishes once', async () => {
    ledger.fault = 'worker-kill';
    startTraffic();
    // Larger jobs than the traffic's, so worker-1 is caught between two passes, not after its last.
    const acct = ACCOUNTS[3];
    let victim: string | null = null;
    let before: JobRecord | null = null;
    let pending: string[] = [];
    let at = 0;
    for (let attempt = 0; attempt < 3 && !victim; attempt++) {
      await Promise.all([0, 1, 2, 3].map(() => submitLarge(acct)));
      const until = performance.now() + 30_000;
      let candidate: string | null = null;
      while (!candidate && performance.now() < until) {
        for (const [id, r] of await records(ledger.ids('worker-kill'))) {
          if (r?.state === 'running' && r.owner?.startsWith('worker-1') && r.pass < r.passes) candidate = id;
        }
        if (!candidate) await sleep(20);
      }
      if (!candidate) continue;
      pending = await inFlight();
      at = performance.now();
      await procs.w1.kill();
      before = await store.get(candidate);
      // Killed mid-job only if the record was still running on worker-1 after the kill.
      if (before?.state === 'running' && before.owner?.startsWith('worker-1')) victim = candidate;
      else await procs.w1.start();
    }
    expect(victim, 'worker-1 was never caught mid-job').not.toBeNull();
    const restarted = procs.w1.start();
    const secs = await recovery(at, pending);
    await restarted;
    const after = await store.get(victim!);
    record(
      'worker-kill',
      secs,
      `victim ${victim} killed at pass ${before?.pass}/${before?.passes}, ended ${after?.state} after ${after?.claims} claims`,
    );
    expect(secs).not.toBeNull();
    expect(after?.claims).toBeGreaterThanOrEqual(2);
  }, 120_000);

  it('SIGKILL of a gateway holding sync and streaming requests: the jobs finish, sync retries get them', async () => {
    ledger.fault = 'gateway-kill';
    const acct = ACCOUNTS[1];
    const streams = [0, 1].map(() => submitStream(gatewayUrls.g1, acct));
    const syncs = [0, 1].map((i) => submitSync(gatewayUrls.g1, acct, `chaos-sync-${Date.now()}-${i}`));
    await sleep(150);
    const pending = await inFlight();
    const at = performance.now();
    await procs.g1.kill();
    const secs = await recovery(at, pending);
    const syncStatuses = await Promise.all(syncs);
    await Promise.all(streams);
    await procs.g1.start();
    record('gateway-kill', secs, `sync retries answered ${syncStatuses.join(',')}`);
    expect(secs).not.toBeNull();
    expect(syncStatuses).toEqual([200, 200]);
  }, 120_000);

  it('SIGKILL of the leader controller: the standby takes over with a new epoch', async () => {
    ledger.fault = 'controller-kill';
    const leader = await leaderHolder();
    expect(leader).toMatch(/^ctrl-[12]$/);
    const victim = leader === 'ctrl-1' ? 'c1' : 'c2';
    const epoch = await admissionEpoch();
    const pending = await inFlight();
    const at = performance.now();
    await procs[victim].kill();
    let takeover: number | null = null;
    while (takeover === null && performance.now() < at + RECOVERY_LIMIT_MS) {
      if ((await admissionEpoch()) > epoch && (await leaderHolder()) !== leader) {
        takeover = (performance.now() - at) / 1000;
      }
      await sleep(100);
    }
    const secs = await recovery(at, pending);
    await procs[victim].start();
    record(
      'controller-kill',
      secs === null || takeover === null ? null : Math.max(secs, takeover),
      `new leader published after ${takeover?.toFixed(1)} s`,
    );
    expect(takeover).not.toBeNull();
    expect(secs).not.toBeNull();
  }, 120_000);

  it('restart of Redis (kill -9): the services answer during the outage and recover', async () => {
    ledger.fault = 'redis-restart';
    const pending = await inFlight();
    const at = performance.now();
    await redisServer.kill();
    await sleep(3_000);
    await redisServer.restart();
    const secs = await recovery(at, pending);
    record('redis-restart', secs);
    expect(secs).not.toBeNull();
  }, 120_000);

  it('restart of the Kafka broker (kill -9): accepted jobs survive and run after it returns', async () => {
    ledger.fault = 'kafka-restart';
    const pending = await inFlight();
    const at = performance.now();
    await kafka.kill();
    await sleep(3_000);
    await kafka.restart();
    const secs = await recovery(at, pending);
    record('kafka-restart', secs);
    expect(secs).not.toBeNull();
  }, 150_000);

  it('a slow store and auth dependency (Redis behind a 250 ms proxy): answers, no hangs', async () => {
    ledger.fault = 'slow-redis';
    const pending = await inFlight();
    const at = performance.now();
    proxy.delayMs = 250;
    await sleep(8_000);
    proxy.delayMs = 0;
    const secs = await recovery(at, pending);
    record('slow-redis', secs);
    expect(secs).not.toBeNull();
  }, 120_000);

  it('the ledger: every issued id reached exactly one terminal state; images served to owners only', async () => {
    ledger.fault = 'drain';
    stopTraffic = true;
    await traffic;
    await Promise.all(held);
    const ids = ledger.ids();
    const until = performance.now() + 60_000;
    while (!(await allTerminal(ids)) && performance.now() < until) await sleep(500);

    // Every job record in the store — also those of sync clients that were cut — is terminal.
    const storeIds: string[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await direct.scan(cursor, 'MATCH', 'spillway:job:*', 'COUNT', 500);
      cursor = next;
      storeIds.push(...keys.map((k) => k.slice('spillway:job:'.length)));
    } while (cursor !== '0');
    const storeRecords = await records(storeIds);
    const stuck = storeIds.filter((id) => !terminal(storeRecords.get(id) ?? null));

    const recs = await records(ids);
    const url = liveGateways()[0];
    const blobs = new Map<string, string>();
    const perFault = new Map<
      string,
      { terminal: number; lost: number; duplicates: number; states: Record<string, number> }
    >();
    const problems: string[] = [];
    for (const e of ledger.entries.values()) {
      const f = perFault.get(e.fault) ?? { terminal: 0, lost: 0, duplicates: 0, states: {} };
      perFault.set(e.fault, f);
      const r = recs.get(e.id) ?? null;
      const raw = await direct.xrange(`spillway:events:${e.id}`, '-', '+');
      const events = raw.map(([, fields]) => JSON.parse(fields[fields.indexOf('e') + 1]) as ProgressEvent);
      const ends = terminalEvents(events);
      if (!terminal(r) || r!.account !== e.account) {
        f.lost++;
        problems.push(`${e.id} (${e.fault}): ${r ? `${r.state} of ${r.account}` : 'missing'}`);
        continue;
      }
      f.terminal++;
      f.states[r!.state] = (f.states[r!.state] ?? 0) + 1;
      const distinct = new Set([...ends, ...e.seen, r!.state]);
      if (ends.length > 1 || distinct.size !== 1) {
        f.duplicates++;
        problems.push(
          `${e.id} (${e.fault}): ${r!.state}, terminal events [${ends.join(',')}], seen [${[...e.seen].join(',')}]`,
        );
      } else if (ends.length === 0) {
        // Not a second outcome, but followers (SSE, sync waits) are woken by that event.
        problems.push(
          `${e.id} (${e.fault}): ${r!.state} (${r!.error?.code ?? ''}, claims ${r!.claims}) without a terminal event; events ${events.map((x) => (x.type === 'state' ? x.state : x.type)).join(',')}`,
        );
      }
      if (r!.state !== 'completed') continue;
      // The owner gets the image; another account gets the same 404 as for an unknown id.
      const own = await fetch(`${url}/v1/images/jobs/${e.id}`, {
        headers: { authorization: `Bearer ${e.key}` },
        signal: AbortSignal.timeout(10_000),
      });
      const view = (await own.json()) as { result?: { data?: { b64_json?: string }[] } };
      const other = ACCOUNTS.find((a) => a.account !== e.account)!;
      const theirs = await fetch(`${url}/v1/images/jobs/${e.id}`, {
        headers: { authorization: `Bearer ${other.key}` },
        signal: AbortSignal.timeout(10_000),
      });
      await theirs.arrayBuffer();
      const b64 = view.result?.data?.[0]?.b64_json;
      if (own.status !== 200 || !b64 || b64.length < 100 || theirs.status !== 404) {
        f.lost++;
        problems.push(
          `${e.id}: owner ${own.status} (${b64?.length ?? 0} b64 chars), other account ${theirs.status}`,
        );
      }
      for (const img of r!.result?.images ?? []) {
        if (blobs.has(img.blob) && blobs.get(img.blob) !== e.id) {
          f.duplicates++;
          problems.push(`${e.id} shares image ${img.blob} with ${blobs.get(img.blob)}`);
        }
        blobs.set(img.blob, e.id);
      }
    }
    for (const r of results) {
      const f = perFault.get(r.fault);
      r.terminal = f?.terminal ?? 0;
      r.lost = f?.lost ?? 0;
      r.duplicates = f?.duplicates ?? 0;
      (r as FaultResult & { states?: unknown }).states = f?.states ?? {};
    }
    const warm = perFault.get('warm-up');
    console.log(
      `chaos ledger: ${ids.length} ids issued, ${storeIds.length} job records in the store (${stuck.length} not terminal)\n` +
        results
          .map(
            (r) =>
              `  ${r.fault.padEnd(16)} issued ${String(r.issued).padStart(3)}  terminal ${String(r.terminal).padStart(3)}  lost ${r.lost}  duplicates ${r.duplicates}  recovery ${r.recoverySeconds ?? '—'} s  answers ${JSON.stringify(r.answers)}${r.note ? `  (${r.note})` : ''}`,
          )
          .join('\n') +
        (warm ? `\n  warm-up issued ${ledger.ids('warm-up').length}` : ''),
    );
    const stuckDetail = await Promise.all(
      stuck.map(async (id) => {
        const r = storeRecords.get(id);
        const ev = await direct.xrange(`spillway:events:${id}`, '-', '+');
        return `${id}: ${r?.state} pass ${r?.pass}/${r?.passes} claims ${r?.claims} owner ${r?.owner} age ${r ? Date.now() - r.createdAt : '?'} ms, events ${ev.map(([, f]) => f[f.indexOf('e') + 1]).join(' ')}`;
      }),
    );
    expect(problems).toEqual([]);
    expect(stuckDetail).toEqual([]);
    // Keys at rest: no API key in clear anywhere in Redis, nor in any service's log.
    const leaks: string[] = [];
    let at = '0';
    do {
      const [next, keys] = await direct.scan(at, 'COUNT', 1000);
      at = next;
      for (const k of keys) {
        const type = await direct.type(k);
        const value =
          type === 'string'
            ? await direct.get(k)
            : type === 'hash'
              ? JSON.stringify(await direct.hgetall(k))
              : type === 'set'
                ? JSON.stringify(await direct.smembers(k))
                : type === 'zset'
                  ? JSON.stringify(await direct.zrange(k, 0, -1))
                  : type === 'stream'
                    ? JSON.stringify(await direct.xrange(k, '-', '+'))
                    : type === 'list'
                      ? JSON.stringify(await direct.lrange(k, 0, -1))
                      : '';
        for (const a of ACCOUNTS) if (`${k} ${value}`.includes(a.key)) leaks.push(`redis ${k}`);
      }
    } while (at !== '0');
    for (const p of Object.values(procs)) {
      const text = existsSync(p.logFile) ? readFileSync(p.logFile, 'utf8') : '';
      for (const a of ACCOUNTS) if (text.includes(a.key)) leaks.push(`log of ${p.name}`);
    }
    expect(leaks).toEqual([]);
    expect(ids.length).toBeGreaterThan(20);
    for (const r of results) {
      expect(r.issued, `${r.fault}: no job was issued during the fault`).toBeGreaterThan(0);
      const a = ledger.answers.get(r.fault);
      expect(a?.hangs ?? 0, `${r.fault}: client timeouts`).toBe(0);
      expect(a?.hintless ?? 0, `${r.fault}: 429/503 without retry-after`).toBe(0);
      expect(a?.unexpected ?? 0, `${r.fault}: statuses ${JSON.stringify(a?.statuses)}`).toBe(0);
    }
  }, 150_000);
});
