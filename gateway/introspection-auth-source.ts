import { Pool } from 'undici';
import { z } from 'zod';
import type { Account } from '../common/contracts/index.ts';
import { SpillwayError } from '../common/errors.ts';
import type { AuthSource, Credential } from './auth-source.ts';

export interface IntrospectionOptions {
  /** The endpoint, e.g. https://auth.example/oauth2/introspect. */
  url: string;
  /** `client_id:client_secret` for HTTP Basic authentication of this gateway, as RFC 7662 asks. */
  clientCredentials?: string;
  /** The whole call, connect to last byte; past it the look-up fails (AuthClient serves stale). */
  timeoutMs: number;
  /** Connections kept to the endpoint. */
  connections?: number;
  /**
   * Calls in flight at most; past it a look-up fails at once. A flood of made-up tokens (each a
   * cache miss) then costs the endpoint and the front door a bounded amount, not a queue.
   */
  maxPending: number;
}

/**
 * RFC 7662 §2.2's answer. Only `active` is required; `tier` and `lane` are extension members the
 * authorization server adds for Spillway. Other members are allowed and ignored.
 */
export const IntrospectionResponse = z
  .object({
    active: z.boolean(),
    sub: z.string().min(1).optional(),
    client_id: z.string().min(1).optional(),
    exp: z.number().optional(),
    tier: z.string().min(1).optional(),
    lane: z.string().min(1).optional(),
  })
  .passthrough();
export type IntrospectionResponse = z.infer<typeof IntrospectionResponse>;

/** What a token that names no tier or lane gets: the least, never a paid tier by accident. */
export const INTROSPECTED_DEFAULTS = { tier: 'free', lane: 'api' } as const;

/**
 * The account an active token stands for. Its id is prefixed so an external subject can never
 * name a local account (and see its jobs). An expired token is no account, even if the server
 * still calls it active.
 */
export function introspectedAccount(
  r: IntrospectionResponse,
  credential: Credential,
  now: number,
): Account | null {
  if (!r.active) return null;
  if (r.exp !== undefined && r.exp * 1000 <= now) return null;
  const subject = r.sub ?? r.client_id ?? `token-${credential.hash.slice(0, 24)}`;
  return {
    id: `ext_${subject}`,
    tier: r.tier ?? INTROSPECTED_DEFAULTS.tier,
    lane: r.lane ?? INTROSPECTED_DEFAULTS.lane,
    createdAt: now,
    source: 'introspection',
    disabled: false,
    ...(r.exp !== undefined ? { credentialExpiresAt: r.exp * 1000 } : {}),
  };
}

/**
 * Token introspection (RFC 7662) over undici: POST token=…&token_type_hint=access_token, form
 * encoded, with the gateway's client credentials. A non-200 answer, an answer off the schema or a
 * call over its time fails the look-up with a code (introspection_*), which AuthClient counts as
 * an auth error and turns into a stale answer or a 503, never a 500 or an open door.
 */
export class IntrospectionAuthSource implements AuthSource {
  private readonly pool: Pool;
  private readonly path: string;
  private readonly authorization: string | null;
  private readonly maxPending: number;
  private pending = 0;

  constructor(
    private readonly options: IntrospectionOptions,
    private readonly now: () => number = Date.now,
  ) {
    const url = new URL(options.url);
    this.pool = new Pool(url.origin, { connections: options.connections ?? 16 });
    this.path = `${url.pathname}${url.search}`;
    this.maxPending = options.maxPending;
    this.authorization = options.clientCredentials
      ? `Basic ${Buffer.from(options.clientCredentials).toString('base64')}`
      : null;
  }

  async lookup(credential: Credential): Promise<Account | null> {
    if (this.pending >= this.maxPending)
      throw new SpillwayError(
        'introspection_overloaded',
        `token introspection: ${this.maxPending} calls already in flight`,
      );
    this.pending++;
    try {
      return await this.introspect(credential);
    } finally {
      this.pending--;
    }
  }

  private async introspect(credential: Credential): Promise<Account | null> {
    const headers: Record<string, string> = {
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
    };
    if (this.authorization) headers.authorization = this.authorization;
    const body = new URLSearchParams({ token: credential.token, token_type_hint: 'access_token' }).toString();
    const { timeoutMs } = this.options;
    let res: Awaited<ReturnType<Pool['request']>>;
    let text: string;
    try {
      res = await this.pool.request({
        method: 'POST',
        path: this.path,
        headers,
        body,
        signal: AbortSignal.timeout(timeoutMs),
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
      text = await res.body.text();
    } catch (err) {
      const timedOut = err instanceof Error && /timeout|aborted/i.test(`${err.name} ${err.message}`);
      throw new SpillwayError(
        timedOut ? 'introspection_timeout' : 'introspection_unreachable',
        `token introspection: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
    if (res.statusCode !== 200)
      throw new SpillwayError('introspection_failed', `token introspection answered ${res.statusCode}`);
    let parsed: ReturnType<typeof IntrospectionResponse.safeParse>;
    try {
      parsed = IntrospectionResponse.safeParse(JSON.parse(text));
    } catch {
      throw new SpillwayError('introspection_invalid', 'token introspection answered with invalid JSON');
    }
    if (!parsed.success)
      throw new SpillwayError(
        'introspection_invalid',
        `token introspection answer off RFC 7662: ${parsed.error.issues[0]?.path.join('.')} ${parsed.error.issues[0]?.message}`,
      );
    return introspectedAccount(parsed.data, credential, this.now());
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
