import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../../common/dev-services/free-port.ts';
import { type KafkaBroker, startKafkaBroker } from '../../common/dev-services/kafka-broker.ts';
import { type RedisServer, startRedisServer } from '../../common/dev-services/redis-server.ts';
import { InferenceFleet } from './inference-fleet.ts';
import { LatencyProxy } from './latency-proxy.ts';
import { startOpenAdmissionFeed } from './open-admission-feed.ts';
import { scratchDir } from './scratch-dir.ts';
import { StackFaults } from './stack-faults.ts';
import { StackProcess } from './stack-process.ts';
import type { ControllerMode, Target } from './target.ts';

export interface DistributedOptions {
  controller: ControllerMode;
  policyDir: string;
  accountsFile: string;
  /** Slots of each inference process (default 1). */
  workerSlots?: number;
  /** Inference processes (default 1). */
  workerProcesses?: number;
  /** A Redis to use instead of starting one (restart-redis is then not supported). */
  redisUrl?: string;
  /** Kafka brokers to use instead of starting one (restart-kafka is then not supported). */
  kafkaBrokers?: string;
  /**
   * A latency proxy, in this process, between the gateway and Redis, for the slow-store and
   * slow-auth faults. Without one the gateway reaches Redis directly: the proxy is a hop through
   * the load generator's event loop on every round trip the gateway makes, refusals included.
   */
  slowableRedisLink?: boolean;
  /** Extra environment for every process (e.g. SPILLWAY_LOG_LEVEL). */
  env?: Record<string, string>;
  readyTimeoutMs?: number;
  /** Parent of the stack's directory (data, Kafka, Redis; default the OS temp directory); removed on close. */
  scratchDir?: string;
}

type Closer = () => Promise<void>;

interface Servers {
  redisUrl: string;
  kafkaBrokers: string;
  redis: RedisServer | null;
  kafka: KafkaBroker | null;
}

/**
 * Starts what the caller did not give, in parallel; a half-started pair is stopped again. The
 * broker runs in the background CPU class, as the inference processes do (see cpu-priority.ts):
 * in production Kafka has machines of its own and never takes a core from the gateway, whose
 * refusal latency a run measures.
 */
async function startServers(o: DistributedOptions, dir: string): Promise<Servers> {
  const [redis, kafka] = await Promise.allSettled([
    // everysec, not always: a load test measures Spillway, not the disk's fsync rate.
    o.redisUrl ? null : startRedisServer({ dir: join(dir, 'redis'), fsync: 'everysec' }),
    o.kafkaBrokers ? null : startKafkaBroker({ dir: join(dir, 'kafka'), priority: 'background' }),
  ]);
  if (redis.status === 'rejected' || kafka.status === 'rejected') {
    if (redis.status === 'fulfilled') await redis.value?.stop();
    if (kafka.status === 'fulfilled') await kafka.value?.process.stop(5000);
    const failed = [redis, kafka].find((r) => r.status === 'rejected') as PromiseRejectedResult;
    throw failed.reason;
  }
  return {
    redisUrl: o.redisUrl ?? redis.value!.url,
    kafkaBrokers: o.kafkaBrokers ?? kafka.value!.brokers,
    redis: redis.value,
    kafka: kafka.value,
  };
}

/** The same Redis URL (credentials, database) with the proxy's address. */
function viaProxy(redisUrl: string, proxyPort: number): string {
  const u = new URL(redisUrl);
  u.hostname = '127.0.0.1';
  u.port = String(proxyPort);
  return u.toString();
}

async function redisProxy(redisUrl: string): Promise<LatencyProxy> {
  const u = new URL(redisUrl);
  return LatencyProxy.start({ upstreamHost: u.hostname, upstreamPort: Number(u.port || 6379) });
}

/** The controller process (mode on), or the runner's open-admission feed (mode off); none when static. */
async function startControlPlane(
  o: DistributedOptions,
  env: Record<string, string>,
  readyMs: number,
  closers: Closer[],
  onExit: (() => void)[],
): Promise<string[]> {
  if (o.controller === 'off') {
    const feed = await startOpenAdmissionFeed(env.SPILLWAY_REDIS_URL, o.policyDir);
    closers.push(() => feed.close());
  }
  if (o.controller !== 'on') return [];
  const statusPort = await freePort();
  const controller = new StackProcess('controller', ['controller'], {
    ...env,
    SPILLWAY_STATUS_PORT: String(statusPort),
  });
  onExit.push(() => controller.killNow());
  closers.push(() => controller.stop());
  await controller.start(`http://127.0.0.1:${statusPort}/healthz`, readyMs);
  return [`http://127.0.0.1:${statusPort}/status/api/state`];
}

/**
 * Starts the distributed mode on one machine, on free loopback ports: a real Redis and a real
 * Kafka broker (unless given), then `spillway start controller|gateway|inference` as child
 * processes. The gateway reaches Redis through a latency proxy when asked (slow-store faults); the
 * controller runs in mode `on`, none runs in `static`, and in `off` the runner publishes the
 * always-open admission state. Everything started is stopped by close() (SIGTERM, then SIGKILL).
 */
export async function startDistributedTarget(o: DistributedOptions): Promise<Target> {
  // A runner that dies mid-run must not leave a stack behind (servers outlive their parent).
  const onExit: (() => void)[] = [];
  const killAll = () => {
    for (const kill of onExit) kill();
  };
  // Before the scratch directory's own exit listener: the processes go before their files.
  process.once('exit', killAll);
  const scratch = await scratchDir('spillway-distributed-', o.scratchDir);
  const dir = scratch.path;
  const dataDir = join(dir, 'data');
  mkdirSync(dataDir, { recursive: true });
  const closers: Closer[] = [() => scratch.remove()];
  const close = async () => {
    for (const c of closers.splice(0).reverse()) await c().catch(() => {});
    process.off('exit', killAll);
  };
  try {
    const servers = await startServers(o, dir);
    const { redis, kafka } = servers;
    onExit.push(
      () => redis?.process.killNow(),
      () => kafka?.process.killNow(),
    );
    if (kafka) closers.push(() => kafka.process.stop(5000));
    if (redis) closers.push(() => redis.stop());
    const proxy = o.slowableRedisLink ? await redisProxy(servers.redisUrl) : null;
    if (proxy) closers.push(() => proxy.close());
    const readyMs = o.readyTimeoutMs ?? 90_000;
    const slots = o.workerSlots ?? 1;
    const env: Record<string, string> = {
      ...(process.env as Record<string, string>),
      HOST: '127.0.0.1',
      SPILLWAY_MODE: 'distributed',
      SPILLWAY_CONTROLLER: o.controller,
      SPILLWAY_POLICY_DIR: o.policyDir,
      SPILLWAY_DATA_DIR: dataDir,
      SPILLWAY_LOG_LEVEL: 'warn',
      SPILLWAY_WORKER_SLOTS: String(slots),
      ...o.env,
      SPILLWAY_REDIS_URL: servers.redisUrl,
      SPILLWAY_KAFKA_BROKERS: servers.kafkaBrokers,
    };
    const workers = new InferenceFleet(env, readyMs);
    onExit.push(() => workers.killNow());
    closers.push(() => workers.close());
    const port = await freePort();
    const gateway = new StackProcess('gateway', ['gateway'], {
      ...env,
      PORT: String(port),
      SPILLWAY_ACCOUNTS_FILE: o.accountsFile,
      SPILLWAY_REDIS_URL: proxy ? viaProxy(servers.redisUrl, proxy.port) : servers.redisUrl,
    });
    onExit.push(() => gateway.killNow());
    // Closed before the workers: it drains its requests while they can still finish jobs.
    closers.push(() => gateway.stop());
    const url = `http://127.0.0.1:${port}`;
    // Settled both before anything is closed: a half-started stack must not start more after.
    const [control, data] = await Promise.allSettled([
      startControlPlane(o, env, readyMs, closers, onExit),
      // Workers after the gateway, which creates every job topic: several processes creating
      // topics at once on a fresh broker can fail their wait for leaders and exit.
      gateway.start(`${url}/readyz`, readyMs).then(() => workers.add(o.workerProcesses ?? 1)),
    ]);
    if (control.status === 'rejected') throw control.reason;
    if (data.status === 'rejected') throw data.reason;
    const statusUrls = control.value;
    const processCount = o.workerProcesses ?? 1;
    return {
      url,
      statusUrls,
      metricsUrls: () => [`${url}/metrics`, ...workers.metricsUrls()],
      label: `distributed (controller ${o.controller}, ${processCount}×${slots} slots)`,
      slots: processCount * slots,
      faults: new StackFaults({ fleet: workers, gatewayRedisProxy: proxy, redis, kafka }),
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
