import { NODE_HEAP_FLAGS } from '../../common/node-heap-flags.ts';
import { type ChildProcess, spawn } from 'node:child_process';

/** One `spillway start <role>` child process, with its output kept for assertions and post-mortems. */
export interface SpillwayProcess {
  role: string;
  child: ChildProcess;
  output(): string;
  /** Resolves when the process printed `pattern` (e.g. its "started" line). */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>;
  kill(signal?: NodeJS.Signals): Promise<number | null>;
}

export function startSpillway(role: string, env: Record<string, string>): SpillwayProcess {
  const child = spawn(process.execPath, [...NODE_HEAP_FLAGS, 'bin/spillway.js', 'start', role], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const listeners = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    out += chunk.toString();
    if (out.length > 2_000_000) out = out.slice(-1_000_000);
    for (const l of listeners) l();
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    role,
    child,
    output: () => out,
    waitFor(pattern, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (!pattern.test(out)) return;
          cleanup();
          resolve();
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(
            new Error(`${role} did not print ${pattern} in ${timeoutMs} ms; output:\n${out.slice(-4000)}`),
          );
        }, timeoutMs);
        const onExit = () => {
          cleanup();
          reject(new Error(`${role} exited before printing ${pattern}; output:\n${out.slice(-4000)}`));
        };
        const cleanup = () => {
          clearTimeout(timer);
          listeners.delete(check);
          child.off('exit', onExit);
        };
        listeners.add(check);
        child.once('exit', onExit);
        check();
      });
    },
    async kill(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
