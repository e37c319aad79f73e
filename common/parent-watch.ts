/**
 * A process started by a supervisor that may die without a word (a load-test runner or benchmark
 * killed with kill -9, or one whose terminal closed) must not outlive it: a forgotten stack keeps
 * its ports and burns the cores the next run measures on. The supervisor names itself in this
 * variable; the child checks that it is still alive and stops when it is not.
 */
export const PARENT_PID_ENV = 'SPILLWAY_PARENT_PID';

const DEFAULT_INTERVAL_MS = 1000;

/** Whether a process exists (signal 0 checks without sending; EPERM means it exists, not ours). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The supervisor's pid from the environment, or null when there is none (or it is not a pid). */
export function parentPidFrom(env: NodeJS.ProcessEnv): number | null {
  const raw = env[PARENT_PID_ENV];
  if (raw === undefined || raw === '') return null;
  const pid = Number(raw);
  return Number.isInteger(pid) && pid > 1 ? pid : null;
}

/**
 * Calls `onGone` once, within `intervalMs`, after process `pid` has ended. Returns the stop.
 * The timer does not hold the event loop open: a child that is done anyway exits as usual.
 */
export function watchParent(
  pid: number,
  onGone: () => void,
  opts: { intervalMs?: number; alive?: (pid: number) => boolean } = {},
): () => void {
  const alive = opts.alive ?? processAlive;
  const timer = setInterval(() => {
    if (alive(pid)) return;
    clearInterval(timer);
    onGone();
  }, opts.intervalMs ?? DEFAULT_INTERVAL_MS);
  timer.unref();
  return () => clearInterval(timer);
}
