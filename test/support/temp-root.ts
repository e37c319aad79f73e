import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Gives a test run a temp root of its own: TMPDIR points into it for the test workers and every
 * process they start (stacks and their images, Redis and Kafka files, Chromium profiles), and it
 * is removed when the run ends. /tmp is left as the run found it even where a test does not clean
 * up after itself (a day of runs had left hundreds of directories behind).
 */
export default function setup(): () => void {
  const previous = process.env.TMPDIR;
  const root = mkdtempSync(join(tmpdir(), 'spillway-tests-'));
  process.env.TMPDIR = root;
  return () => {
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
    // Retries: a process stopped a moment before may still be closing its files in there.
    rmSync(root, { recursive: true, force: true, maxRetries: 3 });
  };
}
