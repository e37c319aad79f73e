import { describe, expect, it } from 'vitest';
import { freePort, PortAllocator } from '../../../common/dev-services/free-port.ts';

describe('free ports', () => {
  it('never hands out a port twice, even when the OS offers it again', async () => {
    const offers = [5000, 5000, 5001, 5000, 5002];
    const ports = new PortAllocator(async () => offers.shift()!);
    expect([await ports.next(), await ports.next(), await ports.next()]).toEqual([5000, 5001, 5002]);
  });

  it('gives up with an error rather than loop forever', async () => {
    const ports = new PortAllocator(async () => 5000);
    await ports.next();
    await expect(ports.next()).rejects.toThrow(/no port/);
  });

  it('gives distinct real ports to concurrent callers', async () => {
    const ports = await Promise.all(Array.from({ length: 20 }, () => freePort()));
    expect(new Set(ports).size).toBe(20);
  });
});
