import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import { DependencyError } from '../errors.ts';
import { KAFKA_BACKOFF } from '../queue/kafka-queue.ts';
import { freePort } from './free-port.ts';
import { atCpuPriority, type CpuPriority } from './cpu-priority.ts';
import { ServiceProcess } from './service-process.ts';

/** Where scripts/setup.sh puts the broker's jars (resolved from Maven Central by scripts/kafka/pom.xml). */
export const KAFKA_LIB_DIR = fileURLToPath(new URL('../../.cache/kafka/lib', import.meta.url));
export const KAFKA_INSTALL_HINT = 'fetch them with `bash scripts/setup.sh` (needs java and mvn)';

export interface KafkaBrokerOptions {
  port?: number;
  controllerPort?: number;
  /** Holds the log dirs, config and pid; reuse it to keep topics and offsets across restarts. */
  dir?: string;
  libDir?: string;
  heapMb?: number;
  startTimeoutMs?: number;
  /**
   * `background` for a broker that shares one machine with a gateway whose latency is being
   * measured (the load tests' distributed target), where production would give it machines of
   * its own. Default `normal`.
   */
  priority?: CpuPriority;
}

/** Connection details of a running broker; plain data, so they can cross to test workers. */
export interface KafkaBrokerInfo {
  brokers: string;
  port: number;
  controllerPort: number;
  dir: string;
  libDir: string;
  version: string;
  heapMb: number;
  priority: CpuPriority;
}

/**
 * A real Apache Kafka broker in KRaft mode (one process is broker and controller), run from its
 * Maven Central jars with the machine's Java. Settings are the ones a single node needs: internal
 * topics with replication 1, no initial rebalance delay, and no auto-created topics, so a missing
 * ensureTopics shows up as an error instead of a silently misconfigured topic.
 */
export class KafkaBroker {
  readonly process: ServiceProcess;

  constructor(readonly info: KafkaBrokerInfo) {
    this.process = new ServiceProcess({
      name: 'kafka',
      ...atCpuPriority(info.priority, {
        command: 'java',
        args: [
          `-Xmx${info.heapMb}m`,
          `-Xms${Math.min(128, info.heapMb)}m`,
          '-XX:+UseSerialGC',
          '-XX:TieredStopAtLevel=1',
          '-Djava.awt.headless=true',
          `-Dlog4j.configuration=file:${join(info.dir, 'log4j.properties')}`,
          `-Dkafka.logs.dir=${join(info.dir, 'logs')}`,
          '-cp',
          `${info.libDir}/*`,
          'kafka.Kafka',
          join(info.dir, 'server.properties'),
        ],
      }),
      dir: info.dir,
      ready: () => kafkaReady(info.brokers),
    });
  }

  get brokers(): string {
    return this.info.brokers;
  }

  start(timeoutMs = 60_000) {
    return this.process.start(timeoutMs);
  }

  stop() {
    return this.process.stop(20_000);
  }

  kill() {
    return this.process.kill();
  }

  /** Starts again on the same ports and log dirs, so topics and committed offsets survive. */
  async restart(timeoutMs = 60_000) {
    if (this.process.running()) await this.process.stop(20_000);
    await this.process.start(timeoutMs);
  }
}

/** Checks Java and the jars; throws DependencyError with the command to run when either is missing. */
export function kafkaVersion(libDir = KAFKA_LIB_DIR): string {
  try {
    execFileSync('java', ['-version'], { stdio: 'ignore' });
  } catch {
    throw new DependencyError('java', `Java is not installed: ${KAFKA_INSTALL_HINT}`);
  }
  const jar = existsSync(libDir)
    ? readdirSync(libDir).find((f) => /^kafka_[\d.]+-[\d.]+\.jar$/.test(f))
    : undefined;
  if (!jar) throw new DependencyError('kafka', `no Kafka jars in ${libDir}: ${KAFKA_INSTALL_HINT}`);
  return /-([\d.]+)\.jar$/.exec(jar)![1];
}

export async function startKafkaBroker(options: KafkaBrokerOptions = {}): Promise<KafkaBroker> {
  const libDir = options.libDir ?? KAFKA_LIB_DIR;
  const version = kafkaVersion(libDir);
  const port = options.port ?? (await freePort());
  const controllerPort = options.controllerPort ?? (await freePort());
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'spillway-kafka-'));
  const heapMb = options.heapMb ?? 512;
  const info: KafkaBrokerInfo = {
    brokers: `127.0.0.1:${port}`,
    port,
    controllerPort,
    dir,
    libDir,
    version,
    heapMb,
    priority: options.priority ?? 'normal',
  };
  writeConfig(info);
  if (!existsSync(join(dir, 'data', 'meta.properties'))) formatStorage(info);
  const broker = new KafkaBroker(info);
  await broker.start(options.startTimeoutMs);
  return broker;
}

function writeConfig(info: KafkaBrokerInfo): void {
  mkdirSync(join(info.dir, 'data'), { recursive: true });
  mkdirSync(join(info.dir, 'logs'), { recursive: true });
  const server = {
    'process.roles': 'broker,controller',
    'node.id': '1',
    'controller.quorum.voters': `1@127.0.0.1:${info.controllerPort}`,
    listeners: `PLAINTEXT://127.0.0.1:${info.port},CONTROLLER://127.0.0.1:${info.controllerPort}`,
    'advertised.listeners': `PLAINTEXT://127.0.0.1:${info.port}`,
    'controller.listener.names': 'CONTROLLER',
    'inter.broker.listener.name': 'PLAINTEXT',
    'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'log.dirs': join(info.dir, 'data'),
    'num.partitions': '1',
    'offsets.topic.replication.factor': '1',
    'offsets.topic.num.partitions': '4',
    'transaction.state.log.replication.factor': '1',
    'transaction.state.log.min.isr': '1',
    'group.initial.rebalance.delay.ms': '0',
    'auto.create.topics.enable': 'false',
    'num.network.threads': '2',
    'num.io.threads': '2',
    'log.retention.hours': '24',
    // After a kill -9 the restarted broker waits for its previous registration to expire;
    // short sessions make chaos restarts take seconds instead of ~15 s.
    'broker.session.timeout.ms': '2000',
    'broker.heartbeat.interval.ms': '500',
  };
  const lines = Object.entries(server).map(([k, v]) => `${k}=${v}`);
  writeFileSync(join(info.dir, 'server.properties'), `${lines.join('\n')}\n`);
  // Warnings and errors only: the broker's INFO chatter would bury test output.
  writeFileSync(
    join(info.dir, 'log4j.properties'),
    [
      'log4j.rootLogger=WARN, stdout',
      'log4j.appender.stdout=org.apache.log4j.ConsoleAppender',
      'log4j.appender.stdout.layout=org.apache.log4j.PatternLayout',
      'log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n',
      'log4j.logger.kafka=WARN',
      'log4j.logger.org.apache.kafka=WARN',
      'log4j.logger.state.change.logger=WARN',
      '',
    ].join('\n'),
  );
}

function formatStorage(info: KafkaBrokerInfo): void {
  const java = (args: string[]) =>
    execFileSync('java', ['-Xmx256m', '-XX:TieredStopAtLevel=1', '-cp', `${info.libDir}/*`, ...args], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  const clusterId = java(['kafka.tools.StorageTool', 'random-uuid']).trim().split('\n').pop()!;
  java([
    'kafka.tools.StorageTool',
    'format',
    '-t',
    clusterId,
    '-c',
    join(info.dir, 'server.properties'),
    '--ignore-formatted',
  ]);
}

/**
 * Ready means a client can do everything Spillway does: metadata, and a group coordinator that
 * has loaded (asking for a group creates and loads __consumer_offsets on a fresh broker).
 */
export async function kafkaReady(brokers: string): Promise<boolean> {
  const admin = new Kafka({
    clientId: 'spillway-readiness',
    brokers: brokers.split(','),
    logLevel: logLevel.NOTHING,
    connectionTimeout: 1_000,
    requestTimeout: 3_000,
    retry: { ...KAFKA_BACKOFF, retries: 2, initialRetryTime: 100, maxRetryTime: 500 },
  }).admin();
  try {
    await admin.connect();
    await admin.describeCluster();
    await admin.describeGroups(['spillway-readiness']);
    return true;
  } catch {
    return false;
  } finally {
    await admin.disconnect().catch(() => {});
  }
}
