import { mkdir, mkdtemp, readFile, rename, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PolicyError } from '../../../common/policy/policy-issue.ts';
import { createPolicyWatcher, type PolicyWatcher } from '../../../common/policy/policy-watcher.ts';
import { DEFAULT_TEXT } from './policy-fixture.ts';

const log = pino({ level: 'silent' });
let dir: string;
let watcher: PolicyWatcher | undefined;

async function waitFor(cond: () => boolean, what: string, timeoutMs = 5000) {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function start(opts: Parameters<typeof createPolicyWatcher>[2] = {}) {
  watcher = await createPolicyWatcher(dir, log, {
    pollMs: 200,
    debounceMs: 30,
    registry: new Registry(),
    ...opts,
  });
  return watcher;
}

const freeWait = () => watcher!.current().policy.tiers.free.maxWait;
const DEFAULT_FREE_WAIT = 120_000;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'spillway-policy-'));
  await writeFile(join(dir, '10-default.yaml'), DEFAULT_TEXT);
});

afterEach(async () => {
  await watcher?.close();
  watcher = undefined;
  await rm(dir, { recursive: true, force: true });
});

describe('policy watcher', () => {
  it('refuses to start on an invalid policy, naming file:line:col', async () => {
    await writeFile(join(dir, '20-bad.yaml'), 'tiers:\n  free:\n    maxWait: soon\n');
    const err = await start().catch((e) => e);
    expect(err).toBeInstanceOf(PolicyError);
    expect(err.message).toContain('20-bad.yaml:3:14: schema/invalid_format');
  });

  it('picks up a file replaced atomically (write temp, rename over)', async () => {
    const w = await start();
    const changes: string[] = [];
    w.onChange((a) => changes.push(a.version));
    const tmp = join(dir, '.20-override.yaml.tmp');
    await writeFile(tmp, 'tiers:\n  free:\n    maxWait: 90s\n');
    await rename(tmp, join(dir, '20-override.yaml'));
    await waitFor(() => freeWait() === 90_000, 'the renamed file');
    expect(changes).toEqual([w.current().version]);
  });

  it('picks up a file written in place', async () => {
    await start();
    await writeFile(join(dir, '10-default.yaml'), DEFAULT_TEXT.replace('maxWait: 2m', 'maxWait: 3m'));
    await waitFor(() => freeWait() === 180_000, 'the in-place write');
  });

  it('follows a Kubernetes ConfigMap volume: files are links into ..data, swapped whole', async () => {
    // The kubelet's layout: each key is a link through ..data to a timestamped directory, and an
    // update writes a new directory, then renames a new ..data link over the old one.
    const version = async (name: string, maxWait: string) => {
      await mkdir(join(dir, name));
      await writeFile(
        join(dir, name, '10-default.yaml'),
        DEFAULT_TEXT.replace('maxWait: 2m', `maxWait: ${maxWait}`),
      );
      await writeFile(join(dir, name, '20-override.yaml'), 'tiers:\n  plus:\n    maxWait: 3m\n');
      await symlink(name, join(dir, '..data_tmp'));
      await rename(join(dir, '..data_tmp'), join(dir, '..data'));
    };
    await unlink(join(dir, '10-default.yaml'));
    await version('..2026_12_03_a', '2m');
    for (const key of ['10-default.yaml', '20-override.yaml'])
      await symlink(join('..data', key), join(dir, key));
    const w = await start();
    expect(w.current().policy.tiers.plus.maxWait).toBe(180_000);
    await version('..2026_12_03_b', '5m');
    await rm(join(dir, '..2026_12_03_a'), { recursive: true });
    await waitFor(() => freeWait() === 300_000, 'the swapped ..data');
    expect(w.status()).toMatchObject({ onDiskValid: true, lastRejection: null });
    expect(w.current().files.map((f) => f.path)).toEqual([
      join(dir, '10-default.yaml'),
      join(dir, '20-override.yaml'),
    ]);
  });

  it('keeps the last good policy on a half-written file and retries on the next change', async () => {
    const w = await start();
    const good = w.current().version;
    const cut = DEFAULT_TEXT.indexOf('maxWait: 2m') + 'maxWait: 2'.length;
    // An editor's write caught half way: the file stops in the middle of a value.
    await writeFile(join(dir, '10-default.yaml'), DEFAULT_TEXT.slice(0, cut));
    await waitFor(() => w.status().lastRejection !== null, 'the rejection');
    expect(w.current().version).toBe(good);
    expect(w.status()).toMatchObject({ onDiskValid: false, version: good });
    expect(w.status().lastRejection).toMatchObject({
      file: join(dir, '10-default.yaml'),
      rule: expect.any(String),
    });
    expect(w.status().lastRejection!.line).toBeGreaterThan(0);

    await writeFile(join(dir, '10-default.yaml'), DEFAULT_TEXT.replace('maxWait: 2m', 'maxWait: 4m'));
    await waitFor(() => freeWait() === 240_000, 'the completed write');
    expect(w.status().onDiskValid).toBe(true);
  });

  it('merges the remaining files when one is deleted, and keeps the last good when all are', async () => {
    const w = await start();
    await writeFile(join(dir, '20-override.yaml'), 'tiers:\n  free:\n    maxWait: 90s\n');
    await waitFor(() => freeWait() === 90_000, 'the override');
    await unlink(join(dir, '20-override.yaml'));
    await waitFor(() => freeWait() === 120_000, 'the default alone');
    const lastGood = w.current().version;
    await unlink(join(dir, '10-default.yaml'));
    await waitFor(() => w.status().lastRejection?.rule === 'no-files', 'the empty directory rejection');
    expect(w.current().version).toBe(lastGood);
    expect(freeWait()).toBe(120_000);
  });

  it('notices changes by polling alone when fs.watch is off', async () => {
    const w = await start({ watch: false, pollMs: 50 });
    await writeFile(join(dir, '20-override.yaml'), 'tiers:\n  free:\n    maxWait: 70s\n');
    await waitFor(() => freeWait() === 70_000, 'the poll');
    expect(w.status().reloads.activated).toBe(2);
  });

  it('ignores a comment-only change (same version, no listener call)', async () => {
    const w = await start();
    let calls = 0;
    w.onChange(() => calls++);
    await writeFile(join(dir, '10-default.yaml'), `# a comment\n${DEFAULT_TEXT}`);
    await w.reload();
    await writeFile(join(dir, '20-override.yaml'), 'tiers:\n  free:\n    maxWait: 1m\n');
    await waitFor(() => freeWait() === 60_000, 'the real change');
    expect(calls).toBe(1);
  });

  it.each([
    ['truncated to nothing (the base policy alone)', ''],
    ['half written (invalid YAML)', 'tiers:\n  free:\n    maxW'],
  ])('never activates or refuses a file written in place while it is %s', async (_what, partial) => {
    const w = await start({ watch: false, pollMs: 0, settleMs: 150 });
    const override = join(dir, '20-override.yaml');
    await writeFile(override, 'tiers:\n  free:\n    maxWait: 75s\n');
    await w.reload();
    await writeFile(override, partial); // an editor saving in place: truncate, then write
    const reloading = w.reload();
    await new Promise((r) => setTimeout(r, 40));
    await writeFile(override, 'tiers:\n  free:\n    maxWait: 65s\n');
    await reloading;
    await w.reload();
    expect(w.audit().map((a) => a.result)).toEqual(['activated', 'activated', 'activated']);
    expect(freeWait()).toBe(65_000);
    expect(w.status().reloads).toEqual({ activated: 3, rejected: 0 });
  });

  it('audits activations and rejections, and exports them as metrics', async () => {
    const registry = new Registry();
    const w = await start({ registry, auditSize: 3 });
    for (const wait of ['75s', '65s']) {
      await writeFile(join(dir, '20-override.yaml'), `tiers:\n  free:\n    maxWait: ${wait}\n`);
      await w.reload();
    }
    await writeFile(join(dir, '20-override.yaml'), 'tiers:\n  free:\n    maxWait: 0\n');
    await w.reload();
    const audit = w.audit();
    expect(audit.map((a) => a.result)).toEqual(['activated', 'activated', 'rejected']); // the oldest fell off
    expect(audit[2]).toMatchObject({
      version: w.current().version,
      issues: [expect.objectContaining({ line: 3 })],
    });
    expect(audit[1].files.map((f) => f.sha256)).toHaveLength(2);
    const text = await registry.metrics();
    expect(text).toMatch(/spillway_policy_reload_total\{result="activated"\} 3/);
    expect(text).toMatch(/spillway_policy_reload_total\{result="rejected"\} 1/);
    expect(text).toContain(`spillway_policy_active_info{version="${w.current().version}"} 1`);
    expect(text).toMatch(/spillway_policy_last_rejection_timestamp_seconds [1-9]/);
    expect(text).toMatch(/spillway_policy_on_disk_valid 0/);
    expect(await readFile(join(dir, '20-override.yaml'), 'utf8')).toContain('maxWait: 0');
    await writeFile(join(dir, '20-override.yaml'), 'tiers:\n  free:\n    maxWait: 55s\n');
    await w.reload();
    expect(await registry.metrics()).toMatch(/spillway_policy_on_disk_valid 1/);
  });

  it('logs and reports a file that a base sorting after it undoes, and still activates', async () => {
    const lines: { event?: string; msg?: string }[] = [];
    const capture = pino({ level: 'info' }, { write: (l: string) => lines.push(JSON.parse(l)) });
    await rename(join(dir, '10-default.yaml'), join(dir, 'zz-base.yaml'));
    await writeFile(join(dir, '20-override.yaml'), 'tiers:\n  free:\n    maxWait: 75s\n');
    const registry = new Registry();
    watcher = await createPolicyWatcher(dir, capture, { pollMs: 0, watch: false, registry });
    expect(freeWait()).toBe(DEFAULT_FREE_WAIT);
    const warned = lines.filter((l) => l.event === 'policy_warning');
    expect(warned.map((l) => l.msg)).toEqual([
      expect.stringMatching(/20-override\.yaml:3:\d+: shadowed-file: no effect: .*zz-base\.yaml/),
    ]);
    expect(watcher.status().warnings).toMatchObject([{ rule: 'shadowed-file', path: 'tiers.free.maxWait' }]);
    expect(await registry.metrics()).toMatch(/spillway_policy_warnings 1/);
    // Deleting the file that had no effect leaves the same policy: the warning goes all the same.
    await unlink(join(dir, '20-override.yaml'));
    await watcher.reload();
    expect(watcher.status().warnings).toEqual([]);
    expect(await registry.metrics()).toMatch(/spillway_policy_warnings 0/);
  });
});
