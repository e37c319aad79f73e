import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { atCpuPriority, type CpuPriority } from '../../common/dev-services/cpu-priority.ts';
import { DependencyError } from '../../common/errors.ts';
import { NODE_HEAP_FLAGS } from '../../common/node-heap-flags.ts';
import { PARENT_PID_ENV } from '../../common/parent-watch.ts';

const CLI = fileURLToPath(new URL('../../bin/spillway.js', import.meta.url));

/**
 * One `spillway start [role]` child process of a load-test stack. A separate process keeps the
 * load generator's event loop from skewing the stack's latency, and vice versa; the output tail
 * is kept for the error a failed start reports.
 */
export class StackProcess {
  private child: ChildProcess | null = null;
  private output = '';
  /** Set when this side stops or kills it: any other exit is a crash worth telling. */
  private ending = false;
  private readonly messageListeners = new Set<(message: unknown) => void>();
  private readonly exitListeners = new Set<() => void>();

  constructor(
    readonly name: string,
    private readonly args: string[],
    private readonly env: Record<string, string>,
    /**
     * `ipc`: spawned with a Node IPC channel (the embedded stack's fault hooks), never a port.
     * `priority`: its CPU class on the shared machine (default normal).
     */
    private readonly options: { ipc?: boolean; priority?: CpuPriority } = {},
  ) {}

  /** Sends over the IPC channel; false when there is none (not asked for, or the process is gone). */
  send(message: unknown): boolean {
    const child = this.child;
    if (!child?.connected || !this.running()) return false;
    try {
      // With a callback a failed write is not an 'error' event that would throw here; the request
      // it carried is answered by the exit that follows or by its own timeout.
      return child.send(message as object, () => {});
    } catch {
      return false;
    }
  }

  /** The process's IPC messages; returns the unsubscribe. */
  onMessage(listener: (message: unknown) => void): () => void {
    this.messageListeners.add(listener);
    return () => this.messageListeners.delete(listener);
  }

  /** Told whenever the process exits, however; returns the unsubscribe. */
  onExit(listener: () => void): () => void {
    this.exitListeners.add(listener);
    return () => this.exitListeners.delete(listener);
  }

  running(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Spawns the process and waits until `readyUrl` answers 200 (bounded). */
  async start(readyUrl: string, timeoutMs: number): Promise<void> {
    this.output = '';
    this.ending = false;
    const line = atCpuPriority(this.options.priority ?? 'normal', {
      command: process.execPath,
      args: [...NODE_HEAP_FLAGS, CLI, 'start', ...this.args],
    });
    const child = spawn(line.command, line.args, {
      // The child stops by itself if this process dies without stopping it (kill -9, a closed terminal).
      env: { ...this.env, [PARENT_PID_ENV]: String(process.pid) },
      stdio: this.options.ipc ? ['ignore', 'ignore', 'pipe', 'ipc'] : ['ignore', 'ignore', 'pipe'],
    });
    this.child = child;
    child.on('message', (m) => {
      for (const l of this.messageListeners) l(m);
    });
    child.once('exit', () => {
      for (const l of this.exitListeners) l();
    });
    child.stderr?.on('data', (d: Buffer) => {
      this.output = (this.output + d.toString()).slice(-20_000);
    });
    let up = false;
    // A crash mid-run otherwise shows only as refused connections in the report (a crash while
    // starting is the error start() throws).
    child.once('exit', (code, signal) => {
      if (this.ending || !up) return;
      process.stderr.write(
        `spillway loadtest: ${this.name} exited unexpectedly (${signal ?? code}):\n${this.output.slice(-4000)}\n`,
      );
    });
    try {
      await this.waitReady(readyUrl, timeoutMs);
      up = true;
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  /** SIGTERM (the process drains), SIGKILL after `graceMs`: bounded either way. */
  async stop(graceMs = 5000): Promise<void> {
    const child = this.child;
    if (!child || !this.running()) return;
    this.ending = true;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }

  /** kill -9: no drain, no lease release, no commit — a crashed host. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || !this.running()) return;
    this.ending = true;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGKILL');
    await exited;
  }

  /** For an exit handler: no waiting. */
  killNow(): void {
    this.ending = true;
    if (this.running()) this.child?.kill('SIGKILL');
  }

  private async waitReady(url: string, timeoutMs: number): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (Date.now() < until) {
      if (!this.running()) {
        throw new DependencyError(this.name, `exited with ${this.exit()}: ${this.output.slice(-2000)}`);
      }
      try {
        const res = await request(url, { headersTimeout: 1000 });
        await res.body.dump();
        if (res.statusCode === 200) return;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new DependencyError(this.name, `not ready within ${timeoutMs} ms: ${this.output.slice(-2000)}`);
  }

  private exit(): string {
    return String(this.child?.signalCode ?? this.child?.exitCode);
  }
}
