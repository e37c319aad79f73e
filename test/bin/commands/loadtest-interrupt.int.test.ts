import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { processAlive } from '../../../common/parent-watch.ts';

interface Proc {
  pid: number;
  name: string;
}

/** The processes whose parent is `ppid` (from /proc: this test runs on Linux like the CI). */
function childrenOf(ppid: number): Proc[] {
  const out: Proc[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // comm may hold spaces: the fields after its closing parenthesis are fixed.
      const after = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(after[1]) !== ppid) continue;
      out.push({ pid: Number(entry), name: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')) });
    } catch {
      // The process ended while we looked.
    }
  }
  return out;
}

describe('interrupting a distributed load test', () => {
  it('stops the Redis, Kafka and Spillway processes it started (Ctrl-C leaves nothing running)', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, SPILLWAY_LOG_LEVEL: 'silent' };
    // Its own servers, not the suite's: those are the ones it must stop.
    delete env.SPILLWAY_REDIS_URL;
    delete env.SPILLWAY_KAFKA_BROKERS;
    const out = mkdtempSync(join(tmpdir(), 'spillway-interrupt-'));
    const runner = spawn(
      process.execPath,
      [
        'bin/spillway.js',
        'loadtest',
        'steady',
        '--mode',
        'distributed',
        '--duration',
        '60s',
        '--capacity',
        '5',
        '--quiet',
        '--out',
        out,
      ],
      { env, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    runner.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = once(runner, 'exit');
    let started: Proc[] = [];
    try {
      // Up: the servers and at least the controller and the gateway (node children).
      await vi.waitFor(
        () => {
          started = childrenOf(runner.pid!);
          expect(started.some((p) => p.name.startsWith('redis'))).toBe(true);
          expect(started.some((p) => p.name === 'java')).toBe(true);
          expect(started.filter((p) => p.name.startsWith('node')).length).toBeGreaterThanOrEqual(2);
        },
        { timeout: 60_000, interval: 250 },
      );
      runner.kill('SIGINT');
      await exited;
      await vi.waitFor(
        () => {
          const left = started.filter((p) => processAlive(p.pid));
          expect(left, `still running after the runner was interrupted:\n${stderr.slice(-2000)}`).toEqual([]);
        },
        { timeout: 15_000, interval: 250 },
      );
    } finally {
      runner.kill('SIGKILL');
      for (const p of started) if (processAlive(p.pid)) process.kill(p.pid, 'SIGKILL');
    }
  }, 120_000);
});
