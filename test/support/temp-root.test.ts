import { existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import setup from './temp-root.ts';

describe("a test run's temp root", () => {
  it('points TMPDIR into a directory of its own, then removes it with its files and restores TMPDIR', () => {
    const before = process.env.TMPDIR;
    const teardown = setup();
    const root = process.env.TMPDIR as string;
    try {
      expect(root).not.toBe(before);
      expect(tmpdir()).toBe(root);
      expect(existsSync(root)).toBe(true);
      writeFileSync(join(root, 'left-behind.png'), 'x');
    } finally {
      teardown();
    }
    expect(process.env.TMPDIR).toBe(before);
    expect(existsSync(root)).toBe(false);
  });
});
