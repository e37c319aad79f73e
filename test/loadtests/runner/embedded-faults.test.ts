import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAULT_HOOKS_CHANNEL, type HookRequest } from '../../../common/contracts/fault-hooks.ts';
import type { ProvisionedKey } from '../../../common/contracts/index.ts';
import { Fault } from '../../../loadtests/campaign-schema.ts';
import { writeAccountsFile } from '../../../loadtests/runner/accounts.ts';
import { EmbeddedFaults } from '../../../loadtests/runner/embedded-faults.ts';
import { FaultHookClient, type HookTransport } from '../../../loadtests/runner/fault-hook-client.ts';
import { metricSum } from '../../../loadtests/runner/metrics-sampler.ts';
import { DEFAULT_FRACTION, DEFAULT_LATENCY_MS } from '../../../loadtests/runner/stack-faults.ts';
import { startEmbeddedTarget, type Target } from '../../../loadtests/runner/target.ts';

/**
 * The embedded stack's fault hooks end to end: a real `spillway start` child with an IPC channel,
 * driven through the load-test target's fault injector. Workers' leases are 1 s here (15 s in the
 * shipped policy), so a killed worker's job is taken over within the test's time.
 */
const KEYS: ProvisionedKey[] = Array.from({ length: 16 }, (_, i) => ({
  key: `sk-hooks-api-pro-${String(i).padStart(4, '0')}-0000000000000000`,
  tier: 'pro',
  lane: 'api',
  account: `acct-hooks-${i}`,
}));
let nextKey = 0;
/** A key the gateway has not seen yet: its look-up misses the auth cache and reaches the store. */
const freshKey = () => KEYS[nextKey++].key;

const fault = (f: Record<string, unknown>) => Fault.parse({ at: '0s', ...f });

let target: Target;

async function timedLookup(): Promise<number> {
  const started = performance.now();
  const res = await fetch(`${target.url}/v1/images/jobs/job_000000000000000000000000`, {
    headers: { authorization: `Bearer ${freshKey()}` },
  });
  await res.text();
  expect(res.status).toBe(404);
  return performance.now() - started;
}

async function medianLookup(n: number): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) times.push(await timedLookup());
  return times.sort((a, b) => a - b)[Math.floor(n / 2)];
}

async function submit(size = '256x256', n = 1): Promise<Response> {
  return fetch(`${target.url}/v1/images/generations`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${KEYS[0].key}`,
      'content-type': 'application/json',
      prefer: 'respond-async',
    },
    body: JSON.stringify({ prompt: 'a lighthouse at dawn', size, n }),
  });
}

async function job(location: string): Promise<{ status: string; pass: number }> {
  const res = await fetch(new URL(location, target.url), {
    headers: { authorization: `Bearer ${KEYS[0].key}` },
  });
  return (await res.json()) as { status: string; pass: number };
}

async function waitFor(location: string, done: (j: { status: string; pass: number }) => boolean, ms: number) {
  const until = Date.now() + ms;
  let last = await job(location);
  while (!done(last)) {
    if (Date.now() > until) throw new Error(`job ${location} stuck at ${JSON.stringify(last)}`);
    await sleep(50);
    last = await job(location);
  }
  return last;
}

async function accepted(size?: string, n?: number): Promise<string> {
  const res = await submit(size, n);
  await res.text();
  expect(res.status).toBe(202);
  return res.headers.get('location')!;
}

async function metrics(name: string): Promise<number | null> {
  return metricSum(await (await fetch(`${target.url}/metrics`)).text(), name);
}
const busySeconds = async () => (await metrics('spillway_worker_slot_busy_seconds_total')) ?? 0;
const slotsBusyNow = () => metrics('spillway_worker_slots_busy');

describe('embedded stack fault hooks (IPC)', () => {
  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'spillway-hooks-'));
    const policyDir = join(dir, 'policies');
    cpSync('policies', policyDir, { recursive: true });
    const policyFile = join(policyDir, '00-default.yaml');
    const policy = readFileSync(policyFile, 'utf8');
    expect(policy).toMatch(/\n {2}lease: 15s/);
    writeFileSync(policyFile, policy.replace(/\n {2}lease: 15s/, '\n  lease: 1s'));
    const accountsFile = join(dir, 'accounts.yaml');
    await writeAccountsFile(accountsFile, KEYS);
    target = await startEmbeddedTarget({
      controller: 'on',
      policyDir,
      accountsFile,
      workerSlots: 2,
      faultHooks: true,
    });
  }, 60_000);

  afterAll(async () => {
    await target?.close();
  });

  it('reports slow-blob as unsupported and every other fault as supported', () => {
    const faults = target.faults!;
    expect(faults.unsupported('slow-blob')).toMatch(/local directory/);
    for (const kind of [
      'kill-workers',
      'add-workers',
      'slow-store',
      'slow-auth',
      'restart-kafka',
      'restart-redis',
    ])
      expect(faults.unsupported(kind as Fault['kind'])).toBeNull();
  });

  it('slow-auth makes an authenticated request slower by a large factor, and undo makes it fast again', async () => {
    await timedLookup(); // warm-up: first connection, first route compile
    const before = await medianLookup(3);
    const applied = await target.faults!.apply(fault({ kind: 'slow-auth', latency: '400ms', for: '1m' }));
    expect(applied.note).toMatch(/account look-up/);
    const slowed = await medianLookup(3);
    await applied.undo();
    const after = await medianLookup(3);
    expect(slowed / before).toBeGreaterThan(4);
    expect(slowed / after).toBeGreaterThan(4);
  });

  it("restart-kafka: a generation is refused 503 with OpenAI's error envelope while down, accepted after", async () => {
    const applied = await target.faults!.apply(fault({ kind: 'restart-kafka', for: '1m' }));
    const refused = await submit();
    expect(refused.status).toBe(503);
    const body = (await refused.json()) as { error: Record<string, unknown> };
    expect(body.error).toMatchObject({ code: 'queue_unavailable', param: null });
    expect(typeof body.error.message).toBe('string');
    expect(typeof body.error.type).toBe('string');
    expect(refused.headers.get('retry-after-ms')).not.toBeNull();
    await applied.undo();
    const location = await accepted();
    expect((await waitFor(location, (j) => j.status === 'completed', 15_000)).status).toBe('completed');
  });

  it('restart-redis: store and account calls fail (503, retry hinted) while down, data kept after', async () => {
    const location = await accepted();
    await waitFor(location, (j) => j.status === 'completed', 15_000);
    const applied = await target.faults!.apply(fault({ kind: 'restart-redis', for: '1m' }));
    const refused = await fetch(`${target.url}/v1/images/jobs/job_000000000000000000000000`, {
      headers: { authorization: `Bearer ${freshKey()}` },
    });
    expect(refused.status).toBe(503);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('auth_unavailable');
    expect(refused.headers.get('retry-after-ms')).not.toBeNull();
    await applied.undo();
    expect((await job(location)).status).toBe('completed');
  });

  it('kill-workers abandons a running job, which new workers take over once its lease lapsed', async () => {
    const busyBefore = await busySeconds();
    // Two large images: the job runs long enough (about a second) to be caught running.
    const location = await accepted('1024x1024', 2);
    const running = await waitFor(
      location,
      (j) => j.status === 'running' || j.status === 'completed',
      10_000,
    );
    expect(running.status).toBe('running');
    const applied = await target.faults!.apply(fault({ kind: 'kill-workers', fraction: 1, for: '1m' }));
    expect(applied.note).toMatch(/^killed 2 of 2 inference workers/);
    // Every worker is dead: nothing advances the job, however long it waits.
    const frozen = await job(location);
    await sleep(1500);
    expect(await job(location)).toMatchObject({ status: 'running', pass: frozen.pass });
    // Only the undo's new workers can finish it: they take it over from its checkpoint.
    await applied.undo();
    expect((await waitFor(location, (j) => j.status === 'completed', 20_000)).status).toBe('completed');
    // GPU use is read from the summed busy slot-seconds, which must not fall across the kill
    // (the report skips an interval where it does): the dead workers' series stay, new ones add.
    const busyAfter = await busySeconds();
    expect(busyAfter).toBeGreaterThan(busyBefore);
    expect((await slotsBusyNow()) ?? 0).toBe(0);
  });

  it('kill-workers of half: a job submitted afterwards completes on the survivor', async () => {
    const applied = await target.faults!.apply(fault({ kind: 'kill-workers', fraction: 0.5, for: '1m' }));
    expect(applied.note).toMatch(/^killed 1 of 2/);
    const location = await accepted();
    expect((await waitFor(location, (j) => j.status === 'completed', 15_000)).status).toBe('completed');
    await applied.undo();
  });

  it('add-workers starts workers with model threads of their own; undo stops them', async () => {
    const applied = await target.faults!.apply(fault({ kind: 'add-workers', fraction: 0.5, for: '1m' }));
    expect(applied.note).toMatch(/^started 1 more inference workers, one slot and one model thread each/);
    const location = await accepted();
    expect((await waitFor(location, (j) => j.status === 'completed', 15_000)).status).toBe('completed');
    await applied.undo();
  });
});

/** A child that answers every request at once, recording them. */
function answeringTransport(answer: (request: HookRequest) => Record<string, unknown>) {
  const requests: HookRequest[] = [];
  let listener: (m: unknown) => void = () => {};
  let exit: () => void = () => {};
  const transport: HookTransport = {
    send: (m) => {
      const request = m as HookRequest;
      requests.push(request);
      setImmediate(() => listener({ channel: FAULT_HOOKS_CHANNEL, id: request.id, ...answer(request) }));
      return true;
    },
    onMessage: (l) => {
      listener = l;
      return () => {};
    },
    onExit: (l) => {
      exit = l;
      return () => {};
    },
  };
  return { transport, requests, exit: () => exit() };
}

describe('EmbeddedFaults over a stand-in channel', () => {
  const ok = (r: HookRequest) => ({ ok: true, note: `did ${r.op}`, token: 't1' });

  it("fills in the distributed stack's defaults for fraction and latency", async () => {
    const { transport, requests } = answeringTransport(ok);
    const faults = new EmbeddedFaults(new FaultHookClient(transport));
    await faults.apply(fault({ kind: 'kill-workers' }));
    await faults.apply(fault({ kind: 'slow-store' }));
    expect(requests.map((r) => (r.op === 'apply' ? r.fault : null))).toEqual([
      { kind: 'kill-workers', fraction: DEFAULT_FRACTION },
      { kind: 'slow-store', latencyMs: DEFAULT_LATENCY_MS },
    ]);
  });

  it('takes a restart without `for` down and up again at once; with `for`, the undo brings it up', async () => {
    const { transport, requests } = answeringTransport(ok);
    const faults = new EmbeddedFaults(new FaultHookClient(transport), 30);
    const blip = await faults.apply(fault({ kind: 'restart-kafka' }));
    expect(requests.map((r) => r.op)).toEqual(['apply', 'undo']);
    expect(blip.note).toMatch(/restarted at once: up again after 0\.0 s/);
    const held = await faults.apply(fault({ kind: 'restart-redis', for: '5s' }));
    expect(requests.map((r) => r.op)).toEqual(['apply', 'undo', 'apply']);
    await held.undo();
    expect(requests.at(-1)).toMatchObject({ op: 'undo', token: 't1' });
  });

  it("rejects with the child's error code, and with hook_channel_closed when the child exits", async () => {
    const refusing = answeringTransport(() => ({
      ok: false,
      code: 'fault_failed',
      message: 'no live worker',
    }));
    const faults = new EmbeddedFaults(new FaultHookClient(refusing.transport));
    await expect(faults.apply(fault({ kind: 'kill-workers' }))).rejects.toMatchObject({
      code: 'fault_failed',
    });
    const silent = answeringTransport(ok);
    silent.transport.send = () => true;
    const client = new FaultHookClient(silent.transport);
    const pending = client.request({ op: 'apply', fault: { kind: 'restart-redis' } });
    silent.exit();
    await expect(pending).rejects.toMatchObject({ code: 'hook_channel_closed' });
  });
});
