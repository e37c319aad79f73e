import { hostname } from 'node:os';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { join } from 'node:path';
import { DirBlobStore } from '../../common/blob/dir-blob-store.ts';
import { type Config, loadConfig } from '../../common/config.ts';
import { DependencyError, SpillwayError } from '../../common/errors.ts';
import type { Infra } from '../../common/infra.ts';
import { createLogger, type Logger } from '../../common/log.ts';
import { FaultSwitches } from '../../common/fault-switches.ts';
import { createMemoryInfra } from '../../common/memory-infra.ts';
import { metricsText, registry, requestedMetricNames } from '../../common/metrics.ts';
import { switchedInfra } from '../../common/switched-infra.ts';
import { EmbeddedFaultHooks } from '../embedded-fault-hooks.ts';
import { faultHooksWanted, listenForFaultHooks } from '../fault-hook-listener.ts';
import { parentPidFrom, watchParent } from '../../common/parent-watch.ts';
import { openPolicySource } from '../policy-source.ts';
import { openAdmission } from '../open-admission.ts';

/**
 * The composition root. `spillway start` runs the embedded stack (gateway, controller and
 * inference workers in one process, in-memory queue and store); `spillway start gateway|
 * controller|inference` runs one service of the distributed mode over Kafka and Redis.
 */
export interface RunningStack {
  url: string;
  port: number;
  infra: Infra;
  close(): Promise<void>;
}

export interface EmbeddedOptions {
  env?: Record<string, string | undefined>;
  /** Overrides PORT (0 = any free port). */
  port?: number;
  log?: Logger;
}

type Closer = { close(): Promise<void> };

async function closeAll(closers: Closer[]): Promise<void> {
  for (const c of closers.reverse()) await c.close().catch(() => {});
}

function workerId(config: Config, role: string): string {
  return config.SPILLWAY_WORKER_ID ?? `${role}-${hostname()}-${process.pid}`;
}

/** Starts gateway, controller and workers in this process on in-memory adapters. */
export async function startEmbeddedStack(options: EmbeddedOptions = {}): Promise<RunningStack> {
  const env = { ...process.env, ...options.env };
  const config = loadConfig(env);
  const log = options.log ?? createLogger('spillway', config.SPILLWAY_LOG_LEVEL);
  const policy = await openPolicySource(config.SPILLWAY_POLICY_DIR, log);
  const memory = createMemoryInfra(new DirBlobStore(join(config.SPILLWAY_DATA_DIR, 'blobs')));
  // Not a setting of config.ts: only the load-test runner that spawns this process turns it on.
  const switches = faultHooksWanted(env, process) ? new FaultSwitches() : null;
  const infra = switches ? switchedInfra(memory, switches) : memory;
  const closers: Closer[] = [policy, infra];
  try {
    const { startInference } = await import('../../inference/service.ts');
    const inference = await startInference({
      infra,
      policy,
      log,
      workerId: workerId(config, 'worker'),
      slots: config.SPILLWAY_WORKER_SLOTS,
      lanes: config.SPILLWAY_LANES?.split(','),
      modelNice: config.SPILLWAY_MODEL_NICE,
      workerPerSlot: switches !== null,
    });
    closers.push(inference);
    const statusRoutes = await startControlPlane(config, infra, policy, log, closers);
    const { createGateway, serveGateway } = await import('../../gateway/service.ts');
    const gateway = await createGateway({ infra, policy, log, config, extraRoutes: statusRoutes });
    closers.push(gateway);
    const limits = policy.current().policy.limits;
    const server = await serveGateway(gateway, {
      port: options.port ?? config.PORT,
      host: config.HOST,
      headersTimeoutMs: limits.headersTimeout,
      requestTimeoutMs: limits.requestTimeout,
    });
    closers.push(server);
    if (switches && inference.fleet) {
      const hooks = new EmbeddedFaultHooks(switches, inference.fleet);
      closers.push(listenForFaultHooks(process, hooks, log));
      log.info('fault hooks listening on the IPC channel');
    }
    const url = `http://${config.HOST}:${server.port}`;
    return { url, port: server.port, infra, close: () => closeAll(closers) };
  } catch (err) {
    await closeAll(closers);
    throw err;
  }
}

/**
 * SPILLWAY_CONTROLLER: `on` runs the controller; `static` runs none, so gateways fall back to
 * the policy's static limits; `off` publishes an always-open state (the no-shedding baseline).
 */
async function startControlPlane(
  config: Config,
  infra: Infra,
  policy: Awaited<ReturnType<typeof openPolicySource>>,
  log: Logger,
  closers: Closer[],
): Promise<((app: Hono) => void) | undefined> {
  if (config.SPILLWAY_CONTROLLER === 'static') return undefined;
  if (config.SPILLWAY_CONTROLLER === 'off') {
    closers.push(openAdmission(infra, policy));
    return undefined;
  }
  const { startController } = await import('../../controller/service.ts');
  const controller = await startController({ infra, policy, log, id: workerId(config, 'controller') });
  closers.push(controller);
  return (app) => {
    app.route('/status', controller.app);
  };
}

async function startService(role: string, config: Config): Promise<Closer & { url?: string }> {
  const log = createLogger(role, config.SPILLWAY_LOG_LEVEL);
  const policy = await openPolicySource(config.SPILLWAY_POLICY_DIR, log);
  const { createDistributedInfra } = await import('../../common/distributed-infra.ts');
  const infra = await createDistributedInfra(config, log);
  const closers: Closer[] = [policy, infra];
  try {
    return await startRole(role, config, { infra, policy, log }, closers);
  } catch (err) {
    await closeAll(closers);
    throw err;
  }
}

async function startRole(
  role: string,
  config: Config,
  deps: { infra: Infra; policy: Awaited<ReturnType<typeof openPolicySource>>; log: Logger },
  closers: Closer[],
): Promise<Closer & { url?: string }> {
  const { infra, policy, log } = deps;
  if (role === 'inference') {
    const { lowerProcessPriority } = await import('../../inference/thread-priority.ts');
    // Before the model threads start: they go lower still (SPILLWAY_MODEL_NICE).
    const lowered = lowerProcessPriority(config.SPILLWAY_INFERENCE_NICE);
    const refused = lowered.find((r) => !r.applied && config.SPILLWAY_INFERENCE_NICE > 0);
    if (refused && !refused.applied)
      log.warn({ reason: refused.reason }, 'could not lower the inference process priority');
    const { startInference } = await import('../../inference/service.ts');
    // No list: the worker serves every lane of the policy and follows lane changes.
    const lanes = config.SPILLWAY_LANES?.split(',');
    const slots = config.SPILLWAY_WORKER_SLOTS;
    closers.push(
      await startInference({
        infra,
        policy,
        log,
        workerId: workerId(config, 'worker'),
        slots,
        lanes,
        modelNice: config.SPILLWAY_MODEL_NICE,
      }),
    );
    const ops = await serveOps(
      new Hono(),
      config.SPILLWAY_METRICS_PORT,
      config.HOST,
      'SPILLWAY_METRICS_PORT',
    );
    closers.push(ops);
    return { url: ops.url, close: () => closeAll(closers) };
  }
  if (role === 'controller') {
    const { startController } = await import('../../controller/service.ts');
    const controller = await startController({ infra, policy, log, id: workerId(config, 'controller') });
    closers.push(controller);
    const app = new Hono();
    app.route('/status', controller.app);
    const ops = await serveOps(app, config.SPILLWAY_STATUS_PORT, config.HOST, 'SPILLWAY_STATUS_PORT');
    closers.push(ops);
    return { url: `${ops.url}/status`, close: () => closeAll(closers) };
  }
  const { createGateway, serveGateway } = await import('../../gateway/service.ts');
  const gateway = await createGateway({ infra, policy, log, config });
  closers.push(gateway);
  const limits = policy.current().policy.limits;
  const server = await serveGateway(gateway, {
    port: config.PORT,
    host: config.HOST,
    headersTimeoutMs: limits.headersTimeout,
    requestTimeoutMs: limits.requestTimeout,
  });
  closers.push(server);
  return { url: `http://${config.HOST}:${server.port}`, close: () => closeAll(closers) };
}

/**
 * The operations port of a controller or inference process: /healthz and /metrics (Prometheus
 * scrapes every process, not only gateways), plus whatever `app` already routes.
 */
async function serveOps(
  app: Hono,
  port: number,
  host: string,
  setting: string,
): Promise<Closer & { url: string }> {
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/metrics', async (c) =>
    c.body(await metricsText(requestedMetricNames(c.req.url)), 200, {
      'content-type': registry.contentType,
    }),
  );
  const server = serve({ fetch: app.fetch, port, hostname: host });
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', (err) =>
      reject(new DependencyError(setting, `cannot listen on ${host}:${port}: ${err.message}`)),
    );
  });
  const address = server.address();
  const bound = typeof address === 'object' && address ? address.port : port;
  return { url: `http://${host}:${bound}`, close: () => new Promise<void>((r) => server.close(() => r())) };
}

function stopOnSignals(stack: Closer): void {
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`spillway: ${signal} received, draining…\n`);
    stack.close().finally(() => process.exit(0));
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
  const parent = parentPidFrom(process.env);
  if (parent !== null) watchParent(parent, () => stop(`parent process ${parent} gone`));
}

const ROLES = ['gateway', 'controller', 'inference'];

export async function run(args: string[]): Promise<number> {
  const role = args[0] ?? 'embedded';
  if (role !== 'embedded' && !ROLES.includes(role)) {
    throw new SpillwayError('usage', `unknown role "${role}" (expected embedded, ${ROLES.join(', ')})`);
  }
  if (role === 'embedded') {
    const stack = await startEmbeddedStack();
    process.stdout.write(
      `spillway: embedded stack listening on ${stack.url} (status: ${stack.url}/status)\n`,
    );
    stopOnSignals(stack);
    await new Promise(() => {});
  }
  // Validate the environment as given first, so a bad SPILLWAY_MODE is reported, not overridden.
  const config: Config = { ...loadConfig(process.env), SPILLWAY_MODE: 'distributed' };
  const service = await startService(role, config);
  process.stdout.write(`spillway: ${role} started${service.url ? ` on ${service.url}` : ''}\n`);
  stopOnSignals(service);
  await new Promise(() => {});
  return 0;
}
