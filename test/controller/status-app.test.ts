import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { createPolicyWatcher, type PolicyWatcher } from '../../common/policy/policy-watcher.ts';
import { StaticPolicySource } from '../../common/policy/policy-source.ts';
import { policyReport } from '../../controller/status-app.ts';
import { DEFAULT_TEXT } from '../common/policy/policy-fixture.ts';
import { testPolicy } from './scenario.ts';

let dir = '';
let watcher: PolicyWatcher | undefined;
afterEach(async () => {
  await watcher?.close();
  watcher = undefined;
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the status page policy report', () => {
  it('lists nothing to act on for a clean policy', () => {
    const report = policyReport(new StaticPolicySource(testPolicy('aimd')));
    expect(report.problems).toEqual([]);
    expect(report.status).toBeNull();
  });

  it('says the files on disk are refused and which policy still runs, then the warnings, one line each', async () => {
    dir = await mkdtemp(join(tmpdir(), 'spillway-status-policy-'));
    await writeFile(join(dir, 'zz-base.yaml'), DEFAULT_TEXT);
    await writeFile(join(dir, '20-override.yaml'), 'tiers:\n  free:\n    maxWait: 75s\n');
    const log = pino({ level: 'silent' });
    watcher = await createPolicyWatcher(dir, log, { pollMs: 0, watch: false, registry: new Registry() });
    const running = watcher.current().version;
    expect(policyReport(watcher).problems).toEqual([
      expect.stringMatching(/^warning: .*20-override\.yaml:3:14: shadowed-file: no effect: /),
    ]);
    await writeFile(join(dir, '30-bad.yaml'), 'tiers:\n  free:\n    maxWait: soon\n    burst: -1\n');
    await watcher.reload();
    const report = policyReport(watcher);
    expect(report.problems).toEqual([
      expect.stringMatching(
        new RegExp(
          `^files on disk refused, still running ${running}: .*30-bad\\.yaml:3:14: schema/invalid_format: .* \\(and 1 more\\)$`,
        ),
      ),
      expect.stringMatching(/^warning: .*20-override\.yaml:3:14: shadowed-file: /),
    ]);
    // Fixed by renaming the base to sort first: nothing left to act on.
    await rm(join(dir, '30-bad.yaml'));
    await rename(join(dir, 'zz-base.yaml'), join(dir, '00-base.yaml'));
    await watcher.reload();
    expect(policyReport(watcher).problems).toEqual([]);
  });
});
