import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { scratchDir } from '../../../loadtests/runner/scratch-dir.ts';

let parent: string;
afterEach(() => rmSync(parent, { recursive: true, force: true }));
const newParent = () => {
  parent = mkdtempSync(join(tmpdir(), 'spillway-scratch-test-'));
  return parent;
};

describe('a run’s scratch directory', () => {
  it('is made under the parent asked for and removed with everything in it', async () => {
    const dir = await scratchDir('spillway-load-', newParent());
    expect(dir.path.startsWith(join(parent, 'spillway-load-'))).toBe(true);
    writeFileSync(join(dir.path, 'image-0.png'), Buffer.alloc(1024));
    await dir.remove();
    expect(readdirSync(parent)).toEqual([]);
    await dir.remove();
  });

  it('is removed when the runner exits through process.exit (Ctrl-C), leaving nothing behind', () => {
    const script = [
      "const { writeFileSync } = await import('node:fs');",
      "const { scratchDir } = await import('./loadtests/runner/scratch-dir.ts');",
      `const dir = await scratchDir('spillway-load-', ${JSON.stringify(newParent())});`,
      "writeFileSync(dir.path + '/image-0.png', 'x');",
      'process.stdout.write(dir.path);',
      'process.exit(130);',
    ].join('\n');
    let made = '';
    try {
      execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
        encoding: 'utf8',
      });
    } catch (err) {
      made = (err as { stdout: string; status: number }).stdout;
      expect((err as { status: number }).status).toBe(130);
    }
    expect(made.startsWith(join(parent, 'spillway-load-'))).toBe(true);
    expect(existsSync(made)).toBe(false);
    expect(readdirSync(parent)).toEqual([]);
  });
});
