import { describe, expect, it } from 'vitest';
import { randomAlphanumeric } from '../../gateway/api-keys.ts';
import { randomBytesView, randomHex } from '../../gateway/random-pool.ts';

describe('random pool', () => {
  it('hands out distinct draws across many refills of the pool', () => {
    const ids = Array.from({ length: 3000 }, () => randomHex(24));
    for (const id of ids) expect(id).toMatch(/^[\da-f]{48}$/);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('serves requests larger than the pool and of exact length', () => {
    expect(randomBytesView(20_000).byteLength).toBe(20_000);
    expect(randomBytesView(1).byteLength).toBe(1);
    expect(randomHex(0)).toBe('');
    expect(randomHex(20_000)).toMatch(/^[\da-f]{40000}$/);
  });

  it('spreads bytes over all values (a stuck or zeroed pool would not)', () => {
    const seen = new Set<number>();
    for (let i = 0; i < 200; i++) for (const b of randomBytesView(64)) seen.add(b);
    expect(seen.size).toBeGreaterThan(250);
  });

  it('mints alphanumeric ids of the asked length, all distinct', () => {
    const ids = Array.from({ length: 2000 }, () => randomAlphanumeric(24));
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9]{24}$/);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
