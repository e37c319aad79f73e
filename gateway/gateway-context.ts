import type { IncomingMessage } from 'node:http';
import type { Context } from 'hono';
import type { Account } from '../common/contracts/index.ts';
import type { Infra } from '../common/infra.ts';
import type { Logger } from '../common/log.ts';
import type { ActivePolicy } from '../common/policy/schema.ts';
import type { AccountLimits } from './account-limits.ts';
import type { AdmissionCache } from './admission-cache.ts';
import { ApiError } from './api-error.ts';
import { hashKey } from './api-keys.ts';
import type { AuthClient } from './auth-client.ts';
import type { ClientAddress } from './client-address.ts';
import type { HeldConnections } from './connection-limits.ts';
import { authCacheTotal } from './gateway-metrics.ts';
import type { BucketShadow } from './bucket-shadow.ts';
import type { IdempotencyMemo } from './idempotency-memo.ts';
import type { ImageUrlSigner } from './image-urls.ts';
import type { ResultContext } from './image-results.ts';
import { jitteredHintMs, retryHeaders } from './retry-hints.ts';
import { InlineBlobs } from './inline-blobs.ts';

/**
 * Counters since start by `lane/tier`, in COST UNITS (policy operation cost × images × size), as
 * the GatewaySignal contract says: the controller compares them with the cost workers finish.
 */
export class TrafficCounters {
  readonly offered: Record<string, number> = {};
  readonly admitted: Record<string, number> = {};
  readonly shed: Record<string, number> = {};
  signups = 0;
  /** Recent mean cost of a request by `lane/tier/operation`, from requests whose body was read. */
  private readonly typical = new Map<string, number>();

  count(kind: 'offered' | 'admitted' | 'shed', lane: string, tier: string, cost: number) {
    const k = `${lane}/${tier}`;
    this[kind][k] = (this[kind][k] ?? 0) + cost;
  }

  /** A request priced from its body: moves the typical cost of its kind. */
  priced(lane: string, tier: string, operation: string, cost: number) {
    const k = `${lane}/${tier}/${operation}`;
    const prev = this.typical.get(k);
    this.typical.set(k, prev === undefined ? cost : prev + TYPICAL_SMOOTHING * (cost - prev));
  }

  /**
   * What a request refused before its body was read probably cost, for the demand the controller
   * sees: the recent mean of its kind, else `fallback` (the policy's default request).
   */
  typicalCost(lane: string, tier: string, operation: string, fallback: number): number {
    return this.typical.get(`${lane}/${tier}/${operation}`) ?? fallback;
  }
}

/** Each priced request moves the typical cost 5 % of the way: a mix change shows within ~50 requests. */
const TYPICAL_SMOOTHING = 0.05;

/** Everything the routes share; built once by createGateway. */
export interface GatewayContext {
  infra: Infra;
  log: Logger;
  policy(): ActivePolicy;
  admission: AdmissionCache;
  limits: AccountLimits;
  auth: AuthClient;
  clients: ClientAddress;
  held: HeldConnections;
  signer: ImageUrlSigner;
  idempotency: IdempotencyMemo;
  /** Buckets this gateway was refused from: sure refusals skip the store (bucket-shadow.ts). */
  buckets: BucketShadow;
  counters: TrafficCounters;
  /** Aborted when the gateway shuts down: held requests stop waiting. */
  shutdown: AbortSignal;
  adminToken: string | null;
  /** Info lines about refusals, at most a few per second. */
  refusalLog: (log: (dropped: number) => void) => void;
}

const INVALID_KEY = new ApiError(
  401,
  'invalid_api_key',
  'Incorrect API key provided. You can find your API key in your account settings.',
  null,
  { 'x-should-retry': 'false' },
  'invalid_request_error',
);

const MISSING_KEY = new ApiError(
  401,
  'missing_api_key',
  "You didn't provide an API key. Send it as an HTTP Bearer token: 'Authorization: Bearer YOUR_KEY'.",
  null,
  { 'x-should-retry': 'false' },
  'invalid_request_error',
);

export async function authenticate(g: GatewayContext, c: Context): Promise<Account> {
  const header = c.req.header('authorization');
  if (!header) throw MISSING_KEY;
  const m = /^Bearer\s+(\S+)$/i.exec(header);
  if (!m) throw INVALID_KEY;
  let account: Account | null;
  const cached = g.auth;
  try {
    account = await cached.resolve({ token: m[1], hash: hashKey(m[1]) }, Date.now());
  } catch {
    authCacheTotal.inc(['error']);
    throw new ApiError(
      503,
      'auth_unavailable',
      'Authentication is temporarily unavailable. Please retry.',
      null,
      retryHeaders(jitteredHintMs(1000, Math.random()), null),
    );
  }
  if (!account) throw INVALID_KEY;
  return account;
}

export function resultContext(g: GatewayContext, c: Context, now: number): ResultContext {
  let origin: string | undefined;
  return {
    blobs: g.infra.blobs,
    signer: g.signer,
    // Parsed only for `url` results, once: most answers (202s, b64_json) never read it.
    get origin() {
      origin ??= new URL(c.req.url).origin;
      return origin;
    },
    urlTtlMs: g.policy().policy.limits.urlTtl,
    now,
    inline: new InlineBlobs(),
  };
}

/** The node request under @hono/node-server (its public `env.incoming`); undefined under app.fetch. */
export function nodeIncoming(c: Context): IncomingMessage | undefined {
  return (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
}

/** The peer address from the node server's socket, when there is one (not under app.fetch in tests). */
export function peerAddress(c: Context): string | undefined {
  const env = c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined;
  return env?.incoming?.socket?.remoteAddress;
}
