import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Result URLs served by the gateway: `/v1/images/files/{jobId}/{index}?expires=…&sig=…`, signed
 * with HMAC-SHA256 under SPILLWAY_URL_SIGNING_KEY (shared by all gateways) or a random key of
 * this process. The URL is the credential, as OpenAI's result URLs are.
 */
export class ImageUrlSigner {
  private readonly key: Buffer;

  constructor(key: string | undefined) {
    this.key = key ? Buffer.from(key) : randomBytes(32);
  }

  private sign(jobId: string, index: number, expires: number): string {
    return createHmac('sha256', this.key).update(`${jobId}/${index}/${expires}`).digest('base64url');
  }

  path(jobId: string, index: number, expires: number): string {
    return `/v1/images/files/${jobId}/${index}?expires=${expires}&sig=${this.sign(jobId, index, expires)}`;
  }

  verify(
    jobId: string,
    index: number,
    expires: string | undefined,
    sig: string | undefined,
    now: number,
  ): 'ok' | 'bad' | 'expired' {
    if (!expires || !sig || !/^\d+$/.test(expires)) return 'bad';
    const want = Buffer.from(this.sign(jobId, index, Number(expires)));
    const got = Buffer.from(sig);
    if (want.length !== got.length || !timingSafeEqual(want, got)) return 'bad';
    return Number(expires) * 1000 < now ? 'expired' : 'ok';
  }
}
