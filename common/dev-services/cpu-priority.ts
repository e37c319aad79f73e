import { spawnSync } from 'node:child_process';

/**
 * The CPU priority a process is started at on a machine it shares with the processes a run
 * measures. `background` is for stand-ins of other machines (a Kafka broker, an inference "GPU
 * host" in a load test), which production would never put beside the gateway: Linux's SCHED_IDLE
 * policy through chrt(1), under which a waking normal task takes the CPU at once, so the stand-in
 * uses only the time the measured processes leave. Where chrt or the policy is missing it falls
 * back to nice(1) at BACKGROUND_NICE, under which a waking task can wait for the running slice.
 */
export type CpuPriority = 'normal' | 'background';

export interface CommandLine {
  command: string;
  args: string[];
}

export const BACKGROUND_NICE = 10;

let schedIdle: boolean | undefined;

/** Whether chrt can start a process under SCHED_IDLE on this machine (asked once). */
export function schedIdleAvailable(): boolean {
  schedIdle ??= spawnSync('chrt', ['--idle', '0', 'true'], { stdio: 'ignore' }).status === 0;
  return schedIdle;
}

/**
 * The command line that runs `line` at `priority`. Both wrappers exec the command, so the child's
 * pid is the command's own (signals and /proc reach it), and every thread it starts inherits the
 * priority (a change after start would reach only the threads that exist by then).
 */
export function atCpuPriority(
  priority: CpuPriority,
  line: CommandLine,
  idleAvailable: () => boolean = schedIdleAvailable,
): CommandLine {
  if (priority === 'normal') return line;
  if (idleAvailable()) return { command: 'chrt', args: ['--idle', '0', line.command, ...line.args] };
  return { command: 'nice', args: ['-n', String(BACKGROUND_NICE), line.command, ...line.args] };
}
