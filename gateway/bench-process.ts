import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { NODE_HEAP_FLAGS } from '../common/node-heap-flags.ts';
import type { BenchPorts } from './bench-server.ts';

/** The server child: its ports, and its CPU time on request (see bench-server.ts). */
export class BenchServer {
  private readonly lines: string[] = [];
  private readonly waiting: ((line: string) => void)[] = [];

  private constructor(private readonly child: ChildProcess) {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const w = this.waiting.shift();
      if (w) w(line);
      else this.lines.push(line);
    });
  }

  /**
   * Starts bench-server.ts of this checkout, or of another one (`root`, a checkout's top folder:
   * bench-change.ts runs an earlier commit's server beside this one's).
   */
  static async start(
    env: Record<string, string>,
    root?: string,
  ): Promise<{ server: BenchServer; ports: BenchPorts }> {
    // SPILLWAY_BENCH_CPU_PROF=<dir> profiles the server child (node refuses --cpu-prof in NODE_OPTIONS).
    const profile = process.env.SPILLWAY_BENCH_CPU_PROF;
    const child = spawn(
      process.execPath,
      [
        ...NODE_HEAP_FLAGS,
        ...(profile ? ['--cpu-prof', `--cpu-prof-dir=${profile}`] : []),
        '--import',
        'tsx',
        root
          ? join(root, 'gateway', 'bench-server.ts')
          : fileURLToPath(new URL('./bench-server.ts', import.meta.url)),
      ],
      {
        stdio: ['pipe', 'pipe', 'inherit'],
        env: { ...process.env, SPILLWAY_LOG_LEVEL: 'silent', ...env },
      },
    );
    const server = new BenchServer(child);
    const exited = once(child, 'exit').then(([code]) => {
      throw new Error(`bench server exited with ${code} before it was ready`);
    });
    const ports = (await Promise.race([server.next(), exited]).then(JSON.parse)) as BenchPorts;
    exited.catch(() => {});
    return { server, ports };
  }

  private next(): Promise<string> {
    const line = this.lines.shift();
    if (line !== undefined) return Promise.resolve(line);
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  async cpuUs(): Promise<number> {
    this.child.stdin!.write('cpu\n');
    return (JSON.parse(await this.next()) as { cpuUs: number }).cpuUs;
  }

  async stop(): Promise<void> {
    this.child.stdin!.end();
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = once(this.child, 'exit');
    const timer = setTimeout(() => this.child.kill(), 10_000);
    await exited;
    clearTimeout(timer);
  }
}

export interface BenchDependencies {
  /** What a bench server child needs in its environment to use them. */
  env: Record<string, string>;
  stop(): Promise<void>;
}

/** Real Redis and Kafka for a distributed bench server, or the reason they cannot run here. */
export async function startBenchDependencies(): Promise<BenchDependencies | { skipped: string }> {
  const { startRedisServer } = await import('../common/dev-services/redis-server.ts');
  const { startKafkaBroker } = await import('../common/dev-services/kafka-broker.ts');
  try {
    const [redis, kafka] = await Promise.all([startRedisServer({ fsync: 'everysec' }), startKafkaBroker()]);
    return {
      env: { SPILLWAY_REDIS_URL: redis.url, SPILLWAY_KAFKA_BROKERS: kafka.info.brokers },
      stop: async () => {
        await Promise.all([redis.stop(), kafka.stop()]);
        for (const dir of [redis.info.dir, kafka.info.dir]) rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    return { skipped: (err as Error).message };
  }
}
