import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

/**
 * In a child process: lowering the whole process must reach every thread it already has (the
 * libuv pool, V8's helpers) and every thread it starts afterwards — this process is not touched.
 */
const CHILD = `
import { readdirSync, readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { lowerProcessPriority } from './inference/thread-priority.ts';
const nice = (tid) => { const s = readFileSync('/proc/self/task/' + tid + '/stat', 'utf8'); return Number(s.slice(s.lastIndexOf(')') + 2).split(' ')[16]); };
const before = readdirSync('/proc/self/task').length;
const results = lowerProcessPriority(6);
const worker = new Worker('setInterval(() => {}, 1000)', { eval: true });
await new Promise((r) => worker.once('online', r));
const nices = readdirSync('/proc/self/task').map(nice);
await worker.terminate();
console.log(JSON.stringify({ before, applied: results.filter((r) => r.applied).length, nices }));
`;

describe('lowerProcessPriority', () => {
  it('lowers every thread of the process, those started later included', () => {
    const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', CHILD], {
      encoding: 'utf8',
    });
    const { before, applied, nices } = JSON.parse(out) as {
      before: number;
      applied: number;
      nices: number[];
    };
    expect(applied).toBe(before);
    // The worker thread started afterwards brings threads of its own: all inherit the value.
    expect(nices.length).toBeGreaterThan(before);
    expect(new Set(nices)).toEqual(new Set([6]));
  });
});
