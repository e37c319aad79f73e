import { describe, expect, it } from 'vitest';
import { MemoryBlobStore } from '../../../common/blob/memory-blob-store.ts';
import { blobStoreConformance } from './blob-store-conformance.ts';

describe('MemoryBlobStore', () => {
  blobStoreConformance(async () => new MemoryBlobStore());

  it('sweeps by the time of the last put, keeping a blob written exactly at the cutoff', async () => {
    let now = 1_000;
    const store = new MemoryBlobStore({ now: () => now });
    await store.put('a', Buffer.from('a'), 'text/plain');
    now = 1_010;
    await store.put('b', Buffer.from('b'), 'text/plain');
    now = 1_020;
    await store.put('a', Buffer.from('a2'), 'text/plain');
    expect(await store.sweep(100, 1_110)).toBe(0);
    expect(await store.sweep(100, 1_111)).toBe(1);
    expect(await store.get('b')).toBeNull();
    expect(store.size()).toBe(1);
    expect(await store.sweep(100, 1_121)).toBe(1);
    expect(store.size()).toBe(0);
  });
});
