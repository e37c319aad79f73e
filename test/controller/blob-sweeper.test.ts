import { describe, expect, it } from 'vitest';
import type { BlobStore } from '../../common/blob/blob-store.ts';
import { MemoryBlobStore } from '../../common/blob/memory-blob-store.ts';
import { createLogger } from '../../common/log.ts';
import { createMemoryInfra } from '../../common/memory-infra.ts';
import { StaticPolicySource } from '../../common/policy/policy-source.ts';
import { DEFAULT_TERMINAL_RETENTION_MS } from '../../common/store/retention.ts';
import { BlobSweeper, DEFAULT_IMAGE_RETENTION_MS } from '../../controller/blob-sweeper.ts';
import { Controller } from '../../controller/service.ts';
import { until } from '../support/until.ts';
import { testPolicy } from './scenario.ts';

const log = createLogger('blob-sweeper-test', 'silent');

/** A blob store whose sweeps finish only when the test says so. */
function heldSweeps() {
  const calls: { olderThanMs: number; now: number; signal?: AbortSignal; finish(n: number | Error): void }[] =
    [];
  const blobs = {
    sweep: (olderThanMs: number, now: number, signal?: AbortSignal) =>
      new Promise<number>((resolve, reject) => {
        calls.push({
          olderThanMs,
          now,
          signal,
          finish: (n) => (n instanceof Error ? reject(n) : resolve(n)),
        });
      }),
  } as unknown as BlobStore;
  return { blobs, calls };
}

describe('BlobSweeper', () => {
  it('keeps images a day longer than finished jobs by default', () => {
    expect(DEFAULT_IMAGE_RETENTION_MS).toBe(DEFAULT_TERMINAL_RETENTION_MS + 86_400_000);
  });

  it('starts a sweep only when one is due and none is running', async () => {
    const { blobs, calls } = heldSweeps();
    const sweeper = new BlobSweeper(blobs, log, { olderThanMs: 500, everyMs: 1_000 });
    const first = sweeper.maybeStart(10_000);
    expect(first).not.toBeNull();
    expect(calls).toMatchObject([{ olderThanMs: 500, now: 10_000 }]);
    expect(sweeper.maybeStart(20_000)).toBeNull();
    calls[0].finish(3);
    await first;
    expect(sweeper.maybeStart(10_999)).toBeNull();
    const second = sweeper.maybeStart(11_000);
    expect(calls).toHaveLength(2);
    // A failed sweep is logged, never thrown into the control loop.
    calls[1].finish(new Error('disk gone'));
    await expect(second).resolves.toBeUndefined();
    expect(sweeper.maybeStart(12_000)).not.toBeNull();
  });

  it('ends a running sweep on stop and starts none after', async () => {
    const { blobs, calls } = heldSweeps();
    const sweeper = new BlobSweeper(blobs, log);
    sweeper.maybeStart(0);
    calls[0].signal?.addEventListener('abort', () => calls[0].finish(0));
    await sweeper.stop();
    expect(calls[0].signal?.aborted).toBe(true);
    expect(sweeper.maybeStart(Number.MAX_SAFE_INTEGER)).toBeNull();
  });

  it('runs on the leader controller only, deleting images past the retention', async () => {
    let written = 0;
    const blobStore = new MemoryBlobStore({ now: () => written });
    const infra = createMemoryInfra(blobStore);
    const policy = new StaticPolicySource(testPolicy('aimd', { control: { interval: '200ms', ttl: '1s' } }));
    const deps = {
      infra,
      policy,
      log,
      now: () => DEFAULT_IMAGE_RETENTION_MS + 60_000,
      blobSweep: { everyMs: 0 },
    };
    const leader = new Controller({ ...deps, id: 'a' });
    const standby = new Controller({ ...deps, id: 'b' });
    await leader.tick();
    expect(leader.status().leader).toBe(true);
    await blobStore.put('jobs/old/image-0.png', Buffer.from('o'), 'image/png');
    written = 120_000;
    await blobStore.put('jobs/new/image-0.png', Buffer.from('n'), 'image/png');

    await standby.tick();
    expect(blobStore.size()).toBe(2);
    await leader.tick();
    await until(() => blobStore.size() === 1);
    expect(await blobStore.get('jobs/new/image-0.png')).not.toBeNull();
    await Promise.all([leader.stop(false), standby.stop(false)]);
  });
});
