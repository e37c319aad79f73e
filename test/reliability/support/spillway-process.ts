import { NODE_HEAP_FLAGS } from '../../../common/node-heap-flags.ts';
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { join } from 'node:path';

export type Role = 'gateway' | 'controller' | 'inference';

/**
 * One distributed-mode service run as `node bin/spillway.js start <role>`, as ops would run it.
 * Output goes to a log file in `dir`; kill() is a SIGKILL of this child only (by its pid).
 */
export class SpillwayProcess {
  private child: ChildProcess | null = null;
  private log: WriteStream | null = null;
  startedAt = 0;

  constructor(
    readonly name: string,
    readonly role: Role,
    private readonly env: Record<string, string>,
    private readonly dir: string,
  ) {}

  get logFile(): string {
    return join(this.dir, `${this.name}.log`);
  }

  alive(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Resolves once the service printed its start line; rejects if it exits or takes too long. */
  start(timeoutMs = 60_000): Promise<void> {
    this.log = createWriteStream(this.logFile, { flags: 'a' });
    const child = spawn(process.execPath, [...NODE_HEAP_FLAGS, 'bin/spillway.js', 'start', this.role], {
      env: { ...process.env, ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    this.startedAt = performance.now();
    child.stderr!.pipe(this.log, { end: false });
    return new Promise((resolve, reject) => {
      let out = '';
      const timer = setTimeout(
        () => reject(new Error(`${this.name} did not start in ${timeoutMs} ms`)),
        timeoutMs,
      );
      child.stdout!.on('data', (d) => {
        this.log?.write(d);
        out += d;
        if (out.includes(`spillway: ${this.role} started`)) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`${this.name} exited (${signal ?? code}) before starting; see ${this.logFile}`));
      });
    });
  }

  /** kill -9: no drain, no lease release, no commit. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || !this.alive()) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  }

  /** SIGTERM with a bounded wait, then SIGKILL. */
  async stop(graceMs = 8_000): Promise<void> {
    const child = this.child;
    if (!child || !this.alive()) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }
}
