import { setTimeout as sleep } from 'node:timers/promises';

/**
 * A store made with a short retention, and a way to let time pass for it: a fake clock for the
 * memory stores, real waiting for Redis (whose expiry runs on the server's own clock).
 */
export interface Expiring<S> {
  store: S;
  elapse(ms: number): Promise<void>;
}

export type MakeExpiring<S> = (retentionMs: number) => Promise<Expiring<S>>;

/** For Redis: time passes by waiting. */
export const realTime = async (ms: number) => {
  await sleep(ms);
};

/** For the memory stores: a clock that moves only when told. */
export function fakeClock(start: number) {
  let t = start;
  return {
    now: () => t,
    elapse: async (ms: number) => {
      t += ms;
    },
  };
}
