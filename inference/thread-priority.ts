import { readdirSync, readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';

export type PriorityResult = { applied: true; threadId: number } | { applied: false; reason: string };

/**
 * Lowers the CPU priority of the calling thread only (Linux: setpriority on the thread's own id),
 * so model threads yield the cores to the event loops that answer HTTP, heartbeats and Kafka.
 * The models stand in for GPUs, which never take CPU from the gateway; on one shared machine this
 * is what keeps a refusal fast while every core is busy rendering. ONNX sessions run on the
 * calling thread (intra-op threads = 1), so this one call covers their work.
 */
export function lowerThreadPriority(nice: number): PriorityResult {
  if (nice <= 0) return { applied: false, reason: 'nice 0 asked' };
  let threadId: number;
  try {
    // "/proc/thread-self" links to "<pid>/task/<tid>"; it exists on Linux only.
    threadId = Number(readlinkSync('/proc/thread-self').split('/').pop());
  } catch {
    return { applied: false, reason: 'no /proc/thread-self (not Linux)' };
  }
  if (!Number.isInteger(threadId) || threadId <= 0) return { applied: false, reason: 'unreadable thread id' };
  try {
    setPriority(threadId, nice);
  } catch (err) {
    return { applied: false, reason: (err as Error).message };
  }
  return { applied: true, threadId };
}

/**
 * Lowers the CPU priority of every thread of this process, and so of every thread started later
 * (a thread starts with its creator's nice value). For `spillway start inference`: a whole
 * inference process stands in for a GPU host, and on one shared machine its own CPU appetite —
 * job orchestration, store writes, image encoding on sharp's threads — must yield to the
 * processes that answer requests, as its model threads already do (measured during a distributed
 * launch-day spike: 41 % of a core at nice 0 besides the model thread, next to a gateway at 32 %).
 */
export function lowerProcessPriority(nice: number): PriorityResult[] {
  if (nice <= 0) return [{ applied: false, reason: 'nice 0 asked' }];
  let threadIds: number[];
  try {
    threadIds = readdirSync('/proc/self/task').map(Number);
  } catch {
    return [{ applied: false, reason: 'no /proc/self/task (not Linux)' }];
  }
  return threadIds.map((threadId): PriorityResult => {
    try {
      setPriority(threadId, nice);
      return { applied: true, threadId };
    } catch (err) {
      return { applied: false, reason: (err as Error).message };
    }
  });
}
