import { FAULT_HOOKS_ENV } from '../../common/contracts/fault-hooks.ts';
import { freePort } from '../../common/dev-services/free-port.ts';
import type { Fault, FaultKind } from '../campaign-schema.ts';
import { EmbeddedFaults } from './embedded-faults.ts';
import { FaultHookClient } from './fault-hook-client.ts';
import { scratchDir } from './scratch-dir.ts';
import { StackProcess } from './stack-process.ts';

/** What a run sends traffic to: a URL given by the user, or a stack it started (embedded or distributed). */
export interface Target {
  url: string;
  /** Where the controller's status JSON may be read (tried in order). */
  statusUrls: string[];
  /**
   * Where Prometheus /metrics may be read now: the first is the gateway's (event-loop lag, CPU);
   * busy worker slots are summed over all of them (in distributed mode they are the workers').
   */
  metricsUrls(): string[];
  label: string;
  /** Worker slots behind the target, when known (stacks it started): GPU utilisation's denominator. */
  slots?: number;
  faults: FaultInjector | null;
  close(): Promise<void>;
}

/** What applying a fault did (for the report), and how to undo it. */
export interface AppliedFault {
  note: string;
  undo(): Promise<void>;
}

/** Faults the target can apply. */
export interface FaultInjector {
  /** Why this target cannot apply `kind` (reported as skipped), or null when it can. */
  unsupported(kind: FaultKind): string | null;
  apply(fault: Fault): Promise<AppliedFault>;
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
  /** Parent of the stack's data directory (default the OS temp directory); removed on close. */
  scratchDir?: string;
  /**
   * Start the stack with fault hooks, so the campaign's faults are applied: an IPC channel to it
   * and one inference worker per slot (bin/fault-hook-listener.ts). Without them it runs exactly
   * as `npm start` does and applies no faults.
   */
  faultHooks?: boolean;
}

/** Starts `spillway start` (embedded mode) in a child process on free ports. */
export async function startEmbeddedTarget(o: EmbeddedOptions): Promise<Target> {
  const [port, statusPort] = [await freePort(), await freePort()];
  // Its images alone are 150 KB a job: kept after the run, they were gigabytes a day of load tests
  // and a disk flush under the next run.
  const data = await scratchDir('spillway-load-', o.scratchDir);
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    PORT: String(port),
    HOST: '127.0.0.1',
    SPILLWAY_MODE: 'embedded',
    SPILLWAY_CONTROLLER: o.controller,
    SPILLWAY_POLICY_DIR: o.policyDir,
    SPILLWAY_ACCOUNTS_FILE: o.accountsFile,
    SPILLWAY_STATUS_PORT: String(statusPort),
    SPILLWAY_DATA_DIR: data.path,
    SPILLWAY_LOG_LEVEL: 'warn',
    ...(o.workerSlots ? { SPILLWAY_WORKER_SLOTS: String(o.workerSlots) } : {}),
    ...o.env,
    ...(o.faultHooks ? { [FAULT_HOOKS_ENV]: '1' } : {}),
  };
  const stack = new StackProcess('embedded stack', [], env, { ipc: o.faultHooks });
  const url = `http://127.0.0.1:${port}`;
  await stack.start(`${url}/readyz`, o.readyTimeoutMs ?? 60_000).catch(async (err) => {
    await data.remove();
    throw err;
  });
  const hooks = o.faultHooks ? new FaultHookClient(stack) : null;
  return {
    url,
    statusUrls: [`http://127.0.0.1:${statusPort}/status/api/state`, `${url}/status/api/state`],
    metricsUrls: () => [`${url}/metrics`],
    label: `embedded (controller ${o.controller})`,
    slots: o.workerSlots,
    faults: hooks ? new EmbeddedFaults(hooks) : null,
    close: async () => {
      hooks?.close();
      await stack.stop();
      await data.remove();
    },
  };
}

export function urlTarget(url: string): Target {
  const base = url.replace(/\/+$/, '');
  return {
    url: base,
    statusUrls: [`${base}/status/api/state`],
    metricsUrls: () => [`${base}/metrics`],
    label: base,
    faults: null,
    close: async () => {},
  };
}
