import { randomBytes } from 'node:crypto';
import { Hono } from 'hono';
import type { Config } from '../common/config.ts';
import { DependencyError } from '../common/errors.ts';
import { jobTopic } from '../common/contracts/index.ts';
import type { Infra } from '../common/infra.ts';
import { type Logger, rateLimitedLog } from '../common/log.ts';
import { metricsText, registry, requestedMetricNames } from '../common/metrics.ts';
import type { PolicySource } from '../common/policy/policy-source.ts';
import type { Policy } from '../common/policy/schema.ts';
import { accountRoutes } from './account-routes.ts';
import { AccountLimits } from './account-limits.ts';
import { loadAccountsFile } from './accounts-file.ts';
import { ADMISSION_REFRESH_MS, AdmissionCache } from './admission-cache.ts';
import { ApiError, INTERNAL_ERROR, errorResponse } from './api-error.ts';
import { AuthClient, type AuthCacheOptions, DEFAULT_AUTH_CACHE } from './auth-client.ts';
import { type AuthSource, AuthSourceChain, StoreAuthSource } from './auth-source.ts';
import { ClientAddress } from './client-address.ts';
import { HeldConnections } from './connection-limits.ts';
import { type GatewayContext, TrafficCounters } from './gateway-context.ts';
import { authCacheTotal, requestSeconds, requestsTotal } from './gateway-metrics.ts';
import { BucketShadow } from './bucket-shadow.ts';
import { IdempotencyMemo } from './idempotency-memo.ts';
import { imageRoutes } from './image-routes.ts';
import { IntrospectionAuthSource } from './introspection-auth-source.ts';
import { ImageUrlSigner } from './image-urls.ts';
import { jobRoutes } from './job-routes.ts';
import { buildOpenApi } from './openapi.ts';
import { traceRequests } from './request-trace.ts';
import { SIGNAL_INTERVAL_MS, startSignalReporter } from './signal-reporter.ts';
import { jitteredHintMs, retryHeaders } from './retry-hints.ts';
import { SignupLimits } from './signup-limits.ts';

export { serveGateway } from './server.ts';

export interface GatewayDeps {
  infra: Infra;
  policy: PolicySource;
  log: Logger;
  config: Config;
  extraRoutes?: (app: Hono) => void;
  /** Tuning for tests and benchmarks; production uses the defaults. */
  tuning?: {
    authSource?: AuthSource;
    authCache?: AuthCacheOptions;
    admissionRefreshMs?: number;
    signalIntervalMs?: number;
  };
}

export interface Gateway {
  app: Hono;
  fetch: Hono['fetch'];
  /** Held requests (sync waits, streams) stop waiting and answer with a retry hint. */
  releaseHeld(): void;
  /** Requests currently held open (sync waits and streams). */
  held(): number;
  /** Re-reads the admission state now instead of at the next refresh (tests, operators). */
  refreshAdmission(): Promise<void>;
  close(): Promise<void>;
}

/** Paths the gateway serves and their methods: anything else on them is a 405, not a 404. */
const ROUTE_METHODS: [string, string[]][] = [
  ['/v1/images/generations', ['POST']],
  ['/v1/images/edits', ['POST']],
  ['/v1/images/jobs/:id', ['GET', 'DELETE']],
  ['/v1/images/jobs/:id/events', ['GET']],
  ['/v1/images/files/:id/:index', ['GET']],
  ['/v1/signup', ['POST']],
  ['/admin/keys', ['POST']],
  ['/admin/keys/:keyId', ['DELETE']],
  ['/healthz', ['GET']],
  ['/readyz', ['GET']],
  ['/metrics', ['GET']],
  ['/openapi.json', ['GET']],
];

function allTopics(policy: Policy): string[] {
  return Object.keys(policy.lanes).flatMap((lane) =>
    Object.keys(policy.tiers).map((tier) => jobTopic(lane, tier)),
  );
}

/**
 * A store or queue that is down or too slow (ioredis fails fast with no offline queue, see
 * common/store/redis-client.ts): the client is told to retry, as for any overload, never a 500.
 */
function isDependencyFailure(err: Error): boolean {
  if (err instanceof DependencyError) return true;
  if (err.name === 'MaxRetriesPerRequestError') return true;
  const code = (err as { code?: string }).code ?? '';
  return /Stream isn't writeable|Connection is closed|Command timed out|ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|queue_publish_failed/.test(
    `${code} ${err.message}`,
  );
}

const DEPENDENCY_DOWN = () =>
  new ApiError(
    503,
    'service_unavailable',
    'The service is temporarily unavailable. Please retry.',
    null,
    retryHeaders(jitteredHintMs(1000, Math.random()), null),
  );

export async function createGateway(deps: GatewayDeps): Promise<Gateway> {
  const { infra, log, config } = deps;
  const active = deps.policy.current();
  if (config.SPILLWAY_ACCOUNTS_FILE) {
    const n = await loadAccountsFile(config.SPILLWAY_ACCOUNTS_FILE, active.policy, infra.accounts);
    log.info({ keys: n }, 'accounts file loaded');
  }
  await infra.queue.ensureTopics(allTopics(active.policy));

  const limits = new AccountLimits(infra.redis);
  limits.apply(active.policy);
  let current = active;
  const unsubscribe = deps.policy.onChange((next) => {
    current = next;
    limits.apply(next.policy);
    infra.queue
      .ensureTopics(allTopics(next.policy))
      .catch((err) => log.warn({ err: err.message }, 'ensureTopics failed'));
    log.info({ version: next.version }, 'gateway applied policy');
  });

  const admission = new AdmissionCache(
    infra.coord,
    deps.policy,
    log,
    deps.tuning?.admissionRefreshMs ?? ADMISSION_REFRESH_MS,
  );
  await admission.start();
  const introspection = config.SPILLWAY_AUTH_INTROSPECTION_URL
    ? new IntrospectionAuthSource({
        url: config.SPILLWAY_AUTH_INTROSPECTION_URL,
        clientCredentials: config.SPILLWAY_AUTH_INTROSPECTION_CLIENT,
        timeoutMs: config.SPILLWAY_AUTH_INTROSPECTION_TIMEOUT_MS,
        maxPending: config.SPILLWAY_AUTH_INTROSPECTION_MAX_PENDING,
      })
    : null;
  const store = new StoreAuthSource(infra.accounts);
  const auth = new AuthClient(
    deps.tuning?.authSource ?? (introspection ? new AuthSourceChain([store, introspection]) : store),
    deps.tuning?.authCache ?? DEFAULT_AUTH_CACHE,
  );
  auth.observe = (result) => authCacheTotal.inc([result]);
  const shutdown = new AbortController();
  const g: GatewayContext = {
    infra,
    log,
    policy: () => current,
    admission,
    limits,
    auth,
    clients: new ClientAddress(config.SPILLWAY_TRUSTED_PROXIES),
    held: new HeldConnections(),
    signer: new ImageUrlSigner(config.SPILLWAY_URL_SIGNING_KEY),
    idempotency: new IdempotencyMemo(),
    buckets: new BucketShadow(),
    counters: new TrafficCounters(),
    shutdown: shutdown.signal,
    adminToken: config.SPILLWAY_ADMIN_TOKEN ?? null,
    refusalLog: rateLimitedLog(20),
  };

  const app = new Hono();
  app.use(
    '*',
    traceRequests((c, startedAt) => {
      const route = c.req.routePath;
      requestsTotal.inc([route, String(c.res.status)]);
      requestSeconds.observe([route], (performance.now() - startedAt) / 1000);
    }),
  );
  imageRoutes(app, g);
  jobRoutes(app, g);
  accountRoutes(app, g, new SignupLimits(infra.redis));
  const openapi = JSON.stringify(buildOpenApi());
  app.get('/openapi.json', (c) => c.body(openapi, 200, { 'content-type': 'application/json' }));
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', async (c) => {
    const [queue, store] = await Promise.all([
      infra.queue.healthy().catch(() => false),
      infra.jobs.ping().then(
        () => true,
        () => false,
      ),
    ]);
    if (queue && store) return c.json({ ready: true, queue, store });
    throw new ApiError(
      503,
      'not_ready',
      `Not ready: queue ${queue ? 'ok' : 'unusable'}, store ${store ? 'ok' : 'unusable'}.`,
    );
  });
  app.get('/metrics', async (c) =>
    c.body(await metricsText(requestedMetricNames(c.req.url)), 200, {
      'content-type': registry.contentType,
    }),
  );
  deps.extraRoutes?.(app);
  for (const [path, methods] of ROUTE_METHODS) {
    app.all(path, (c) => {
      throw new ApiError(
        405,
        'method_not_allowed',
        `Method ${c.req.method} is not allowed on ${c.req.path}.`,
        null,
        {
          allow: methods.join(', '),
        },
      );
    });
  }
  app.notFound((c) =>
    errorResponse(new ApiError(404, 'not_found', `Invalid URL (${c.req.method} ${c.req.path})`)),
  );
  app.onError((err, c) => {
    if (err instanceof ApiError) return errorResponse(err);
    if (isDependencyFailure(err)) {
      g.refusalLog((dropped) =>
        log.warn({ err: err.message, path: c.req.path, dropped }, 'dependency unavailable'),
      );
      return errorResponse(DEPENDENCY_DOWN());
    }
    log.error({ err: err.message, stack: err.stack, path: c.req.path }, 'unhandled error');
    return new Response(JSON.stringify(INTERNAL_ERROR), {
      status: 500,
      headers: { 'content-type': 'application/json' },
    });
  });

  const signals = startSignalReporter(
    `gateway-${randomBytes(4).toString('hex')}`,
    infra,
    auth,
    g.counters,
    log,
    deps.tuning?.signalIntervalMs ?? SIGNAL_INTERVAL_MS,
  );

  return {
    app,
    fetch: app.fetch,
    releaseHeld: () => shutdown.abort(),
    held: () => g.held.held,
    refreshAdmission: () => admission.refresh(),
    close: async () => {
      shutdown.abort();
      signals.stop();
      admission.close();
      unsubscribe();
      await introspection?.close();
    },
  };
}
