import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NODE_HEAP_FLAGS } from '../../common/node-heap-flags.ts';

describe('the heap flags every Spillway process starts with', () => {
  it('are the ones bin/spillway.js starts node with', () => {
    const shebang = readFileSync('bin/spillway.js', 'utf8').split('\n')[0];
    expect(shebang).toBe(`#!/usr/bin/env -S node ${NODE_HEAP_FLAGS.join(' ')}`);
  });

  it('reach node when a file starting with that line is run by it (as npm scripts and npx run the CLI)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'spillway-shebang-'));
    const script = join(dir, 'probe.js');
    const shebang = readFileSync('bin/spillway.js', 'utf8').split('\n')[0];
    writeFileSync(script, `${shebang}\nconsole.log(JSON.stringify(process.execArgv));\n`, { mode: 0o755 });
    try {
      expect(JSON.parse(execFileSync(script, { encoding: 'utf8' }))).toEqual([...NODE_HEAP_FLAGS]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('are not bypassed by an npm script that runs the CLI with a bare `node`', () => {
    const scripts = JSON.parse(readFileSync('package.json', 'utf8')).scripts as Record<string, string>;
    const bare = Object.entries(scripts).filter(([, cmd]) => /\bnode\s+bin\/spillway\.js/.test(cmd));
    expect(bare).toEqual([]);
  });
});
