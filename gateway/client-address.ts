import { BlockList, isIP } from 'node:net';

/**
 * The client's address: the socket peer, or — only when that peer is a trusted proxy
 * (SPILLWAY_TRUSTED_PROXIES, comma-separated IPs or CIDRs) — the right-most untrusted entry of
 * X-Forwarded-For, so a client cannot pick its own address by sending the header.
 */
export class ClientAddress {
  private readonly trusted = new BlockList();
  private readonly any: boolean;

  constructor(spec: string) {
    const entries = spec
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    this.any = entries.length > 0;
    for (const e of entries) {
      const [addr, bits] = e.split('/');
      const family = isIP(addr) === 6 ? 'ipv6' : 'ipv4';
      if (bits !== undefined) this.trusted.addSubnet(addr, Number(bits), family);
      else this.trusted.addAddress(addr, family);
    }
  }

  private isTrusted(addr: string): boolean {
    const family = isIP(addr);
    if (family === 0) return false;
    return this.trusted.check(addr, family === 6 ? 'ipv6' : 'ipv4');
  }

  resolve(peer: string | undefined, forwardedFor: string | null): string {
    const direct = normalize(peer ?? 'unknown');
    if (!this.any || !forwardedFor || !this.isTrusted(direct)) return direct;
    const hops = forwardedFor
      .split(',')
      .map((s) => normalize(s.trim()))
      .filter(Boolean);
    for (let i = hops.length - 1; i >= 0; i--) {
      if (!this.isTrusted(hops[i])) return hops[i];
    }
    return hops[0] ?? direct;
  }
}

function normalize(addr: string): string {
  return addr.startsWith('::ffff:') && isIP(addr.slice(7)) === 4 ? addr.slice(7) : addr;
}
