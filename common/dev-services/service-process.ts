import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { SpillwayError } from '../errors.ts';

export interface ServiceCommand {
  name: string;
  command: string;
  args: string[];
  /** Holds the pid file and the output log; survives restarts so data can too. */
  dir: string;
  env?: Record<string, string>;
  /** Resolves true once the service answers; called repeatedly until it does. */
  ready(): Promise<boolean>;
}

/**
 * A server process (redis-server, a Kafka broker) run for tests or development. Its pid lives in
 * a file in its directory rather than only in this process, so a test worker can kill or restart
 * a server that the global setup started, and the teardown still stops whichever process is
 * current. Output goes to a log file, never a pipe: the server must not die when the process that
 * spawned it exits.
 */
export class ServiceProcess {
  constructor(readonly spec: ServiceCommand) {}

  get logFile(): string {
    return join(this.spec.dir, `${this.spec.name}.out.log`);
  }

  private get pidFile(): string {
    return join(this.spec.dir, `${this.spec.name}.pid`);
  }

  pid(): number | null {
    if (!existsSync(this.pidFile)) return null;
    const pid = Number(readFileSync(this.pidFile, 'utf8'));
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  }

  running(): boolean {
    const pid = this.pid();
    return pid !== null && isAlive(pid);
  }

  async start(timeoutMs: number): Promise<void> {
    if (this.running()) throw new SpillwayError('service_running', `${this.spec.name} is already running`);
    const out = openSync(this.logFile, 'a');
    const child = spawn(this.spec.command, this.spec.args, {
      cwd: this.spec.dir,
      env: { ...process.env, ...this.spec.env },
      stdio: ['ignore', out, out],
    });
    closeSync(out);
    let exited: string | null = null;
    child.on('exit', (code, signal) => {
      exited = `exited with ${signal ?? code}`;
    });
    child.on('error', (err) => {
      exited = `could not start: ${err.message}`;
    });
    if (child.pid) writeFileSync(this.pidFile, String(child.pid));
    // The process may outlive this one (see the class comment); it must not hold its event loop.
    child.unref();
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (exited) throw this.failure(exited);
      if (await this.spec.ready().catch(() => false)) return;
      await sleep(100);
    }
    await this.kill();
    throw this.failure(`not ready after ${timeoutMs} ms`);
  }

  /** Graceful stop (SIGTERM), escalating to SIGKILL after `graceMs`. */
  async stop(graceMs = 15_000): Promise<void> {
    const pid = this.pid();
    if (pid === null) return;
    signal(pid, 'SIGCONT');
    signal(pid, 'SIGTERM');
    if (!(await waitForExit(pid, graceMs))) {
      signal(pid, 'SIGKILL');
      await waitForExit(pid, 5_000);
    }
  }

  /** Abrupt death, as a crash or `kill -9`. */
  async kill(): Promise<void> {
    const pid = this.pid();
    if (pid === null) return;
    signal(pid, 'SIGKILL');
    await waitForExit(pid, 5_000);
  }

  /** Freezes the process (it keeps its sockets open but answers nothing), as a hung server. */
  freeze(): void {
    const pid = this.pid();
    if (pid !== null) signal(pid, 'SIGSTOP');
  }

  thaw(): void {
    const pid = this.pid();
    if (pid !== null) signal(pid, 'SIGCONT');
  }

  /** Synchronous last resort for exit handlers. */
  killNow(): void {
    const pid = this.pid();
    if (pid !== null) signal(pid, 'SIGKILL');
  }

  outputTail(lines = 30): string {
    if (!existsSync(this.logFile)) return '';
    return readFileSync(this.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  }

  private failure(why: string): SpillwayError {
    return new SpillwayError(
      'service_start_failed',
      `${this.spec.name} ${why}; last output (${this.logFile}):\n${this.outputTail()}`,
    );
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // Already gone.
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !isZombie(pid);
  } catch {
    return false;
  }
}

/** A killed child of another process stays a zombie until reaped; it is dead for our purposes. */
function isZombie(pid: number): boolean {
  try {
    return /\)\s+Z\s/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return true;
    await sleep(50);
  }
  return !isAlive(pid);
}
