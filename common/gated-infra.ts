import type { BlobStore } from './blob/blob-store.ts';
import type { Infra } from './infra.ts';
import type { Queue } from './queue/queue.ts';
import type { AccountStore } from './store/account-store.ts';
import type { CoordinationStore } from './store/coordination-store.ts';
import type { EventLog } from './store/event-log.ts';
import type { JobStore } from './store/job-store.ts';

/**
 * What a call must wait for, or fail with (a rejected promise), before it reaches its adapter;
 * undefined lets it through at once, with no extra promise.
 */
export type Gate = () => Promise<void> | undefined;

export type GatedAdapter = 'jobs' | 'events' | 'accounts' | 'coord' | 'blobs' | 'queue';

type AsyncMethod<T> = {
  [K in keyof T]-?: T[K] extends (...args: never[]) => Promise<unknown> ? K : never;
}[keyof T];

/**
 * The calls of an adapter that reach its dependency: every method returning a promise except
 * close (shutting down must work whatever is switched). Listed by hand and checked against the
 * interface, so a method added there does not compile until it is listed here; sync methods
 * (EventLog.watch) and the objects calls return (a queue Consumer) are left as they are.
 */
type Calls<T> = Record<Exclude<AsyncMethod<T>, 'close'>, true>;

const CALLS = {
  jobs: {
    create: true,
    get: true,
    claim: true,
    progress: true,
    addPartial: true,
    finish: true,
    saveCheckpoint: true,
    loadCheckpoint: true,
    listOverdue: true,
    nextTicket: true,
    markServed: true,
    queueStats: true,
    ping: true,
  } satisfies Calls<JobStore>,
  events: { append: true, read: true } satisfies Calls<EventLog>,
  accounts: { put: true, byKeyHash: true, revoke: true } satisfies Calls<AccountStore>,
  coord: {
    acquireLease: true,
    releaseLease: true,
    publishAdmission: true,
    readAdmission: true,
    readHandover: true,
    reportSignal: true,
    readSignals: true,
    takeTokens: true,
  } satisfies Calls<CoordinationStore>,
  blobs: { put: true, get: true, delete: true, sweep: true } satisfies Calls<BlobStore>,
  queue: {
    ensureTopics: true,
    publish: true,
    consume: true,
    lag: true,
    healthy: true,
  } satisfies Calls<Queue>,
};

/**
 * `target` with each listed call passing `gate` first. Everything else (other methods, fields,
 * an implementation's extras such as MemoryQueue.held) reads through unchanged; methods always
 * run on the target itself.
 */
export function gateCalls<T extends object>(target: T, calls: Record<string, true>, gate: Gate): T {
  const cache = new Map<PropertyKey, unknown>();
  return new Proxy(target, {
    get(t, prop) {
      const value = Reflect.get(t, prop, t);
      if (typeof value !== 'function') return value;
      let fn = cache.get(prop);
      if (!fn) {
        const method = value as (...args: unknown[]) => unknown;
        fn = Object.hasOwn(calls, prop)
          ? (...args: unknown[]) => {
              const wait = gate();
              return wait ? wait.then(() => method.apply(t, args)) : method.apply(t, args);
            }
          : method.bind(t);
        cache.set(prop, fn);
      }
      return fn;
    },
  });
}

/** `infra` with the calls of each adapter that has a gate passing it first; close is untouched. */
export function gatedInfra(infra: Infra, gates: Partial<Record<GatedAdapter, Gate>>): Infra {
  const gated = { ...infra };
  for (const adapter of Object.keys(CALLS) as GatedAdapter[]) {
    const gate = gates[adapter];
    if (gate) Object.assign(gated, { [adapter]: gateCalls(infra[adapter], CALLS[adapter], gate) });
  }
  return gated;
}
