import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { DependencyError } from '../../common/errors.ts';
import type { Fault, FaultKind } from '../campaign-schema.ts';

/** What a run sends traffic to: a URL given by the user, or an embedded stack it started. */
export interface Target {
  url: string;
  /** Where the controller's status JSON may be read (tried in order). */
  statusUrls: string[];
  label: string;
  /** Worker slots behind the target, when known (embedded stacks): GPU utilisation's denominator. */
  slots?: number;
  faults: FaultInjector | null;
  close(): Promise<void>;
}

/** Faults the target can apply; each returns its undo. */
export interface FaultInjector {
  supports(kind: FaultKind): boolean;
  apply(fault: Fault): Promise<() => Promise<void>>;
}

export type ControllerMode = 'on' | 'off' | 'static';

export interface EmbeddedOptions {
  controller: ControllerMode;
  policyDir: string;
  accountsFile: string;
  workerSlots?: number;
  /** Extra environment for the stack (e.g. SPILLWAY_LOG_LEVEL). */
  env?: Record<string, string>;
  readyTimeoutMs?: number;
}

const CLI = fileURLToPath(new URL('../../bin/spillway.js', import.meta.url));

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

async function waitReady(url: string, child: ChildProcess, timeoutMs: number, stderr: () => string) {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (child.exitCode !== null) {
      throw new DependencyError('embedded stack', `exited with ${child.exitCode}: ${stderr().slice(-2000)}`);
    }
    try {
      const res = await request(`${url}/readyz`, { headersTimeout: 1000 });
      await res.body.dump();
      if (res.statusCode === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new DependencyError('embedded stack', `not ready within ${timeoutMs} ms: ${stderr().slice(-2000)}`);
}

/**
 * Starts `spillway start` (embedded mode) in a child process on free ports. A separate process
 * keeps the load generator's event loop from skewing the gateway's latency, and vice versa.
 */
export async function startEmbeddedTarget(o: EmbeddedOptions): Promise<Target> {
  const [port, statusPort] = [await freePort(), await freePort()];
  const dataDir = await mkdtemp(join(tmpdir(), 'spillway-load-'));
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    PORT: String(port),
    HOST: '127.0.0.1',
    SPILLWAY_MODE: 'embedded',
    SPILLWAY_CONTROLLER: o.controller,
    SPILLWAY_POLICY_DIR: o.policyDir,
    SPILLWAY_ACCOUNTS_FILE: o.accountsFile,
    SPILLWAY_STATUS_PORT: String(statusPort),
    SPILLWAY_DATA_DIR: dataDir,
    SPILLWAY_LOG_LEVEL: 'warn',
    ...(o.workerSlots ? { SPILLWAY_WORKER_SLOTS: String(o.workerSlots) } : {}),
    ...o.env,
  };
  const child = spawn(process.execPath, [CLI, 'start'], {
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr?.on('data', (d: Buffer) => {
    err = (err + d.toString()).slice(-20_000);
  });
  const url = `http://127.0.0.1:${port}`;
  const close = async () => {
    if (child.exitCode !== null) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };
  try {
    await waitReady(url, child, o.readyTimeoutMs ?? 60_000, () => err);
  } catch (e) {
    await close();
    throw e;
  }
  return {
    url,
    statusUrls: [`http://127.0.0.1:${statusPort}/status/api/state`, `${url}/status/api/state`],
    label: `embedded (controller ${o.controller})`,
    slots: o.workerSlots,
    // PLACEHOLDER: a child-process stack exposes no fault hooks yet; faults are reported as skipped.
    faults: null,
    close,
  };
}

export function urlTarget(url: string): Target {
  const base = url.replace(/\/+$/, '');
  return {
    url: base,
    statusUrls: [`${base}/status/api/state`],
    label: base,
    faults: null,
    close: async () => {},
  };
}
