import { readlinkSync } from 'node:fs';
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
