import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { type RunningStack, startEmbeddedStack } from '../../../bin/commands/start.ts';

/** Keys of the accounts file: two accounts on the same tier and lane, so only ownership differs. */
export const KEYS = {
  alice: 'sk-sec-alice-0000000000000000000000000001',
  bob: 'sk-sec-bob-000000000000000000000000000002',
  free: 'sk-sec-free-00000000000000000000000000003',
};
export const ADMIN_TOKEN = 'sec-admin-token-0123456789abcdef';
export const URL_SIGNING_KEY = 'sec-url-signing-key-0123456789ab';
/** Timeouts short enough that slow-client tests take seconds, through the policy as ops would set them. */
export const HEADERS_TIMEOUT_MS = 1_000;
export const REQUEST_TIMEOUT_MS = 3_000;

export interface SecureStack extends RunningStack {
  dir: string;
  policyDir: string;
  /** Every log line the stack wrote (at debug level), for secret-leak checks. */
  logText(): string;
}

/**
 * The embedded stack with a copy of the shipped policies plus one override file, two tenants on
 * the same plan, an admin token and a URL signing key, logging at debug into memory.
 */
export async function startSecureStack(extraEnv: Record<string, string> = {}): Promise<SecureStack> {
  const dir = mkdtempSync(join(tmpdir(), 'spillway-sec-'));
  const policyDir = join(dir, 'policies');
  cpSync('policies', policyDir, { recursive: true });
  writeFileSync(
    join(policyDir, 'zz-security-test.yaml'),
    [
      'limits:',
      `  headersTimeout: ${HEADERS_TIMEOUT_MS}ms`,
      `  requestTimeout: ${REQUEST_TIMEOUT_MS}ms`,
      '',
    ].join('\n'),
  );
  const accounts = join(dir, 'accounts.yaml');
  writeFileSync(
    accounts,
    [
      `- { key: ${KEYS.alice}, tier: pro, lane: api, account: acct_alice }`,
      `- { key: ${KEYS.bob}, tier: pro, lane: api, account: acct_bob }`,
      `- { key: ${KEYS.free}, tier: free, lane: chat, account: acct_free }`,
    ].join('\n'),
  );
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  const log = pino(
    {
      level: 'debug',
      redact: {
        paths: ['key', 'apiKey', 'authorization', '*.authorization', 'headers.authorization'],
        censor: '[redacted]',
      },
    },
    sink,
  );
  const stack = await startEmbeddedStack({
    port: 0,
    log,
    env: {
      SPILLWAY_POLICY_DIR: policyDir,
      SPILLWAY_ACCOUNTS_FILE: accounts,
      SPILLWAY_DATA_DIR: join(dir, 'data'),
      SPILLWAY_ADMIN_TOKEN: ADMIN_TOKEN,
      SPILLWAY_URL_SIGNING_KEY: URL_SIGNING_KEY,
      SPILLWAY_WORKER_SLOTS: '1',
      SPILLWAY_TRUSTED_PROXIES: '',
      ...extraEnv,
    },
  });
  const close = async () => {
    await stack.close();
    rmSync(dir, { recursive: true, force: true });
  };
  return { ...stack, close, dir, policyDir, logText: () => lines.join('') };
}

/** fetch with a client timeout: a hang is a failure, never a stuck test. */
// biome-ignore lint/suspicious/noExplicitAny: tests read response bodies field by field
export type Json = any;

export async function call(
  stack: { url: string },
  path: string,
  init: RequestInit & { key?: string; timeoutMs?: number } = {},
): Promise<{ status: number; headers: Headers; text: string; json: Json }> {
  const headers = new Headers(init.headers);
  if (init.key) headers.set('authorization', `Bearer ${init.key}`);
  const res = await fetch(new URL(path, stack.url), {
    ...init,
    headers,
    signal: AbortSignal.timeout(init.timeoutMs ?? 20_000),
  });
  const text = await res.text();
  let json: Json = null;
  try {
    json = JSON.parse(text);
  } catch {}
  return { status: res.status, headers: res.headers, text, json };
}

/** A stack trace or a Node internals path in a body means an error leaked to the client. */
export function leaksInternals(body: string): boolean {
  return /\n\s+at |node:internal|\/node_modules\/|\.ts:\d+/.test(body);
}
