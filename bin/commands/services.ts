import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { type KafkaBroker, startKafkaBroker } from '../../common/dev-services/kafka-broker.ts';
import { type RedisServer, startRedisServer } from '../../common/dev-services/redis-server.ts';
import { ConfigError } from '../../common/errors.ts';

const USAGE = `usage: spillway services start [--dir <path>] [--redis-port <n>] [--kafka-port <n>]

Starts a real Redis and a real Apache Kafka broker (KRaft) on 127.0.0.1 for development, prints
the environment to export for the distributed mode, and stays in the foreground until Ctrl-C.
Data lives under --dir (default .cache/services) and survives a restart of this command.
Needs redis-server, java and the Kafka jars: \`bash scripts/setup.sh\` installs them.
`;

export async function run(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== 'start') {
    process.stdout.write(USAGE);
    return sub === undefined || sub === '--help' || sub === '-h' ? 0 : 2;
  }
  const { values } = parseArgs({
    args: rest,
    options: {
      dir: { type: 'string', default: '.cache/services' },
      'redis-port': { type: 'string', default: '6379' },
      'kafka-port': { type: 'string', default: '9092' },
    },
  });
  const dir = resolve(values.dir);
  const redisPort = port('--redis-port', values['redis-port']);
  const kafkaPort = port('--kafka-port', values['kafka-port']);

  const servers: { redis?: RedisServer; kafka?: KafkaBroker } = {};
  const killAll = () => {
    servers.redis?.process.killNow();
    servers.kafka?.process.killNow();
  };
  process.once('exit', killAll);
  try {
    process.stderr.write('starting Redis and Kafka…\n');
    servers.redis = await startRedisServer({ port: redisPort, dir: join(dir, 'redis'), fsync: 'everysec' });
    servers.kafka = await startKafkaBroker({
      port: kafkaPort,
      controllerPort: kafkaPort + 1,
      dir: join(dir, 'kafka'),
    });
  } catch (err) {
    killAll();
    throw err;
  }
  const { redis, kafka } = servers;
  process.stdout.write(
    [
      `# Redis ${redis.info.version} and Apache Kafka ${kafka.info.version} (KRaft) are running; data in ${dir}`,
      'export SPILLWAY_MODE=distributed',
      `export SPILLWAY_REDIS_URL=${redis.url}`,
      `export SPILLWAY_KAFKA_BROKERS=${kafka.brokers}`,
      '# Ctrl-C stops both.',
      '',
    ].join('\n'),
  );

  // Signal handlers do not keep Node alive; this watchdog does, and notices a server dying.
  const died = await new Promise<string | null>((resolveStop) => {
    const watchdog = setInterval(() => {
      for (const s of [redis, kafka]) {
        if (!s.process.running()) {
          clearInterval(watchdog);
          resolveStop(`${s.process.spec.name} exited; last output:\n${s.process.outputTail()}`);
        }
      }
    }, 2_000);
    const stop = () => {
      clearInterval(watchdog);
      resolveStop(null);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  if (died) process.stderr.write(`${died}\n`);
  process.stderr.write('stopping…\n');
  await Promise.all([kafka.stop(), redis.stop()]);
  process.off('exit', killAll);
  return died ? 1 : 0;
}

function port(flag: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65534) throw new ConfigError(flag, `not a port: ${value}`);
  return n;
}
