import { describe, expect, it } from 'vitest';
import { ExpiryQueue } from '../../common/expiry-queue.ts';

describe('ExpiryQueue', () => {
  it('takes the keys due at or before now, oldest first, and only once', () => {
    const q = new ExpiryQueue<string>();
    q.set('a', 10);
    q.set('b', 20);
    q.set('c', 30);
    expect(q.takeExpired(9)).toEqual([]);
    expect(q.takeExpired(20)).toEqual(['a', 'b']);
    expect(q.takeExpired(20)).toEqual([]);
    expect(q.size).toBe(1);
  });

  it('reschedules a key set again, and forgets a deleted one', () => {
    const q = new ExpiryQueue<string>();
    q.set('a', 10);
    q.set('b', 20);
    q.set('a', 30);
    q.set('c', 40);
    q.delete('c');
    expect(q.takeExpired(25)).toEqual(['b']);
    expect(q.takeExpired(100)).toEqual(['a']);
    expect(q.size).toBe(0);
  });

  it('releases a key behind a later-expiring one late, never early', () => {
    const q = new ExpiryQueue<string>();
    q.set('long', 100);
    q.set('short', 10);
    expect(q.takeExpired(50)).toEqual([]);
    expect(q.takeExpired(100)).toEqual(['long', 'short']);
  });
});
