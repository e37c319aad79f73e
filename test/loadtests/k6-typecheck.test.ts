import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

describe('k6 campaign script', () => {
  it('type-checks against @types/k6 (k6 itself is not installed in CI)', async () => {
    const tsc = new URL('../../node_modules/typescript/bin/tsc', import.meta.url).pathname;
    const root = new URL('../../', import.meta.url).pathname;
    const run = await promisify(execFile)(process.execPath, [tsc, '-p', 'loadtests/k6'], { cwd: root }).catch(
      (e: { stdout: string; code: number }) => e,
    );
    expect('code' in run ? run.stdout : '').toBe('');
  }, 60_000);
});
