import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface ScratchDir {
  path: string;
  /** Removes the directory and everything in it (idempotent). */
  remove(): Promise<void>;
}

/**
 * A new directory for one run's files (accounts, a stack's images, Kafka and Redis data), removed
 * by remove() or, if the run is cut short (Ctrl-C ends the runner through process.exit), when this
 * process exits. A day of load tests left gigabytes of images behind, which the kernel was still
 * writing to disk during the next run.
 */
export async function scratchDir(prefix: string, parent: string = tmpdir()): Promise<ScratchDir> {
  const path = await mkdtemp(join(parent, prefix));
  // Retries: a process killed a moment before may still be closing its files in there.
  const removeNow = () => rmSync(path, { recursive: true, force: true, maxRetries: 3 });
  process.once('exit', removeNow);
  return {
    path,
    remove: async () => {
      process.off('exit', removeNow);
      await rm(path, { recursive: true, force: true });
    },
  };
}
