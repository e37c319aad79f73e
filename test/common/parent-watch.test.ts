import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { freePort } from '../../common/dev-services/free-port.ts';
import { PARENT_PID_ENV, parentPidFrom, processAlive, watchParent } from '../../common/parent-watch.ts';
import { stackDirs } from '../bin/stack-fixture.ts';

afterEach(() => {
  vi.useRealTimers();
});

describe('watchParent', () => {
  it('tells once, within one interval, that the parent is gone', () => {
    vi.useFakeTimers();
    let alive = true;
    const gone = vi.fn();
    watchParent(4242, gone, { intervalMs: 1000, alive: () => alive });
    vi.advanceTimersByTime(5000);
    expect(gone).not.toHaveBeenCalled();
    alive = false;
    vi.advanceTimersByTime(1000);
    vi.advanceTimersByTime(5000);
    expect(gone).toHaveBeenCalledTimes(1);
  });

  it('stops watching when asked', () => {
    vi.useFakeTimers();
    const gone = vi.fn();
    const stop = watchParent(4242, gone, { intervalMs: 1000, alive: () => false });
    stop();
    vi.advanceTimersByTime(5000);
    expect(gone).not.toHaveBeenCalled();
  });

  it('knows a live process from an ended one', async () => {
    expect(processAlive(process.pid)).toBe(true);
    const child = spawn('sleep', ['30']);
    expect(processAlive(child.pid!)).toBe(true);
    child.kill('SIGKILL');
    await once(child, 'exit');
    expect(processAlive(child.pid!)).toBe(false);
  });

  it('reads the parent pid from the environment, and nothing else', () => {
    expect(parentPidFrom({ [PARENT_PID_ENV]: '1234' })).toBe(1234);
    expect(parentPidFrom({})).toBeNull();
    expect(parentPidFrom({ [PARENT_PID_ENV]: '' })).toBeNull();
    expect(parentPidFrom({ [PARENT_PID_ENV]: 'abc' })).toBeNull();
    // init adopts orphans: it is never the parent worth watching.
    expect(parentPidFrom({ [PARENT_PID_ENV]: '1' })).toBeNull();
  });
});

describe('a stack started by a supervisor that dies without stopping it', () => {
  it('stops by itself (kill -9 of the load-test runner leaves no embedded stack behind)', async () => {
    const supervisor = spawn('sleep', ['60']);
    const { env } = stackDirs();
    const stack = spawn(process.execPath, ['bin/spillway.js', 'start'], {
      env: {
        ...process.env,
        ...env,
        PORT: String(await freePort()),
        SPILLWAY_STATUS_PORT: String(await freePort()),
        SPILLWAY_WORKER_SLOTS: '1',
        [PARENT_PID_ENV]: String(supervisor.pid),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    stack.stdout.on('data', (d: Buffer) => (out += d.toString()));
    stack.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = once(stack, 'exit');
    try {
      await vi.waitFor(() => expect(out).toContain('listening on'), { timeout: 30_000, interval: 100 });
      supervisor.kill('SIGKILL');
      const [code] = await Promise.race([
        exited,
        new Promise<never>((_, reject) =>
          setTimeout(
            () => reject(new Error(`stack still running 10 s after its parent died:\n${out}`)),
            10_000,
          ),
        ),
      ]);
      expect(code).toBe(0);
      expect(out).toContain(`parent process ${supervisor.pid} gone`);
    } finally {
      supervisor.kill('SIGKILL');
      stack.kill('SIGKILL');
    }
  }, 45_000);
});
