import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import {
  atCpuPriority,
  BACKGROUND_NICE,
  schedIdleAvailable,
} from '../../../common/dev-services/cpu-priority.ts';

const SCHED_OTHER = 0;
const SCHED_IDLE = 5;

/** Policy and nice value of the process running `line`, read by itself from /proc/self/stat. */
function policyOf(line: { command: string; args: string[] }): { policy: number; nice: number } {
  const out = spawnSync(line.command, line.args, { encoding: 'utf8' });
  expect(out.status, out.stderr).toBe(0);
  // The command name is in parentheses and may hold spaces: fields are counted after its close.
  const fields = out.stdout.slice(out.stdout.lastIndexOf(')') + 2).split(' ');
  return { policy: Number(fields[38]), nice: Number(fields[16]) };
}

const reportSelf = { command: 'cat', args: ['/proc/self/stat'] };

describe('atCpuPriority', () => {
  it('leaves a normal command line as it is', () => {
    expect(atCpuPriority('normal', reportSelf)).toEqual(reportSelf);
    expect(policyOf(atCpuPriority('normal', reportSelf))).toEqual({ policy: SCHED_OTHER, nice: 0 });
  });

  it('starts a background process under SCHED_IDLE, which this machine has (chrt, util-linux)', () => {
    expect(schedIdleAvailable()).toBe(true);
    const line = atCpuPriority('background', reportSelf);
    expect(line.command).toBe('chrt');
    expect(policyOf(line).policy).toBe(SCHED_IDLE);
  });

  it('falls back to nice where SCHED_IDLE cannot be had', () => {
    const line = atCpuPriority('background', reportSelf, () => false);
    expect(line).toEqual({
      command: 'nice',
      args: ['-n', String(BACKGROUND_NICE), 'cat', '/proc/self/stat'],
    });
    expect(policyOf(line)).toEqual({ policy: SCHED_OTHER, nice: BACKGROUND_NICE });
  });
});
