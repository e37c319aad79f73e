import type { ClientBehaviour } from '../campaign-schema.ts';
import type { Arrival } from './arrivals.ts';
import type { AttemptOutcome, ImagesClient } from './http-client.ts';
import type { Random } from './random.ts';
import type { Recorder } from './recorder.ts';
import { decideRetry } from './retry-policy.ts';

export interface FlowContext {
  client: ImagesClient;
  recorder: Recorder;
  behaviour: ClientBehaviour;
  random: Random;
  /** performance.now() at the campaign start. */
  t0: number;
  apiKey(key: string): string;
  prompt(): string;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Endings of requests the client waited on until it gave up, with no result and no refusal. */
export const ABANDONED = 'gave up waiting';

/** Why a client stopped waiting: in the queue of an accepted job, or before any answer. */
function giveUpCause(out: AttemptOutcome, delivery: string): string {
  if (out.admitted) return `${ABANDONED} for an accepted job (${delivery}, polling)`;
  if (out.responseMs > 0) return `${ABANDONED} for the response (${delivery})`;
  return 'gave up before sending a retry';
}

/**
 * One user request from its scheduled arrival to its end: attempts, SDK-like retries, and giving
 * up. Latency counts from the scheduled time, including any wait for a free connection.
 */
export async function runRequest(arrival: Arrival, ctx: FlowContext): Promise<void> {
  const { recorder: rec, t0, behaviour: b } = ctx;
  const scheduled = t0 + arrival.at;
  const deadline = scheduled + b.giveUpAfter;
  const key = arrival.key;
  const apiKey = ctx.apiKey(key);
  const prompt = ctx.prompt();
  rec.count(arrival.at, key, 'offered');
  rec.enter(arrival.at);
  let admitted = false;
  const end = (counter: 'completed' | 'blocked' | 'gaveUp' | 'failed', cause: string) => {
    const now = performance.now();
    if (counter === 'completed') rec.completed(now - t0, key, now - scheduled);
    else rec.count(now - t0, key, counter);
    rec.ended(key, cause);
  };
  try {
    for (let retries = 0; ; retries++) {
      const sentAt = performance.now() - t0;
      rec.count(sentAt, key, 'attempts');
      const out = await ctx.client.attempt({
        entry: arrival.entry,
        apiKey,
        prompt,
        retryCount: retries,
        deadline,
        pollIntervalMs: b.pollInterval,
      });
      const now = performance.now();
      if (out.admitted && !admitted) {
        admitted = true;
        rec.count(sentAt, key, 'admitted');
      }
      if (out.kind === 'completed') return end('completed', 'completed');
      if (out.kind === 'blocked') return end('blocked', 'blocked');
      if (out.kind === 'timeout') return end('gaveUp', giveUpCause(out, arrival.entry.delivery));
      if (out.kind === 'refused') rec.refused(sentAt, key, out.responseMs, out.code);
      const why = `${out.status ?? 'network'} ${out.code}`;
      const next = decideRetry(out.status, out.headers, retries, b, ctx.random, Date.now());
      if (!next.retry) {
        return out.kind === 'refused'
          ? end('gaveUp', `refused, no retry left (${why})`)
          : end('failed', `failed (${why})`);
      }
      if (now + next.delayMs >= deadline)
        return end('gaveUp', `${out.kind}, next retry past give-up (${why})`);
      await sleep(next.delayMs);
    }
  } finally {
    rec.leave(performance.now() - t0);
  }
}
