import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DependencyError } from '../errors.ts';
import { freePort } from './free-port.ts';
import { ServiceProcess } from './service-process.ts';

export const REDIS_INSTALL_HINT =
  'install it with `bash scripts/setup.sh` (or `apt-get install -y redis-server`)';

export interface RedisServerOptions {
  port?: number;
  /** Data directory (AOF); a new temporary one by default. Reuse it to keep data across restarts. */
  dir?: string;
  /**
   * `always` makes every acknowledged write survive a kill -9 (what the chaos tests check);
   * `everysec` is Redis's default and much cheaper for development and benchmarks.
   */
  fsync?: 'always' | 'everysec';
  startTimeoutMs?: number;
}

/** Connection details of a running server; plain data, so they can cross to test workers. */
export interface RedisServerInfo {
  url: string;
  port: number;
  dir: string;
  version: string;
  fsync: 'always' | 'everysec';
}

/** A real redis-server (Debian's package) on 127.0.0.1, with controls for chaos tests. */
export class RedisServer {
  readonly process: ServiceProcess;

  constructor(readonly info: RedisServerInfo) {
    this.process = new ServiceProcess({
      name: 'redis',
      command: 'redis-server',
      args: [
        '--port',
        String(info.port),
        '--bind',
        '127.0.0.1',
        '--dir',
        info.dir,
        '--save',
        '',
        '--appendonly',
        'yes',
        '--appendfsync',
        info.fsync,
        '--protected-mode',
        'no',
        '--loglevel',
        'warning',
      ],
      dir: info.dir,
      ready: () => pingRedis(info.port),
    });
  }

  get url(): string {
    return this.info.url;
  }

  start(timeoutMs = 15_000) {
    return this.process.start(timeoutMs);
  }

  stop() {
    return this.process.stop();
  }

  kill() {
    return this.process.kill();
  }

  /** Starts again on the same port and directory, with the data it had persisted. */
  async restart(timeoutMs = 15_000) {
    if (this.process.running()) await this.process.stop();
    await this.process.start(timeoutMs);
  }
}

/** The installed redis-server's version; throws DependencyError with the install command if absent. */
export function redisServerVersion(): string {
  try {
    const out = execFileSync('redis-server', ['--version'], { encoding: 'utf8' });
    return /v=(\S+)/.exec(out)?.[1] ?? out.trim();
  } catch {
    throw new DependencyError('redis-server', `redis-server is not installed: ${REDIS_INSTALL_HINT}`);
  }
}

export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  const version = redisServerVersion();
  const port = options.port ?? (await freePort());
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'spillway-redis-'));
  mkdirSync(dir, { recursive: true });
  const fsync = options.fsync ?? 'always';
  const server = new RedisServer({ url: `redis://127.0.0.1:${port}`, port, dir, version, fsync });
  await server.start(options.startTimeoutMs);
  return server;
}

/** One PING over a raw socket: true on +PONG (not while loading the AOF, which answers -LOADING). */
export function pingRedis(port: number, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (data) => done(data.toString().startsWith('+PONG')));
  });
}
