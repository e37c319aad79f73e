import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Keys for every default tier and lane, written as an accounts file for SPILLWAY_ACCOUNTS_FILE. */
export const KEYS = {
  pro: 'sk-test-pro-000000000000000000000001',
  plus: 'sk-test-plus-00000000000000000000002',
  free: 'sk-test-free-00000000000000000000003',
  otherPro: 'sk-test-pro-000000000000000000000004',
};

export function stackDirs(): { dir: string; env: Record<string, string> } {
  const dir = mkdtempSync(join(tmpdir(), 'spillway-stack-'));
  const accounts = join(dir, 'accounts.yaml');
  writeFileSync(
    accounts,
    [
      `- { key: ${KEYS.pro}, tier: pro, lane: api, account: acct-pro }`,
      `- { key: ${KEYS.plus}, tier: plus, lane: chat, account: acct-plus }`,
      `- { key: ${KEYS.free}, tier: free, lane: chat, account: acct-free }`,
      `- { key: ${KEYS.otherPro}, tier: pro, lane: api, account: acct-other }`,
    ].join('\n'),
  );
  return {
    dir,
    env: {
      SPILLWAY_ACCOUNTS_FILE: accounts,
      SPILLWAY_DATA_DIR: join(dir, 'data'),
      SPILLWAY_POLICY_DIR: 'policies',
      SPILLWAY_LOG_LEVEL: 'warn',
      SPILLWAY_ADMIN_TOKEN: 'admin-token-for-tests-0001',
    },
  };
}

/** Submits an async generation and polls its job until a terminal state; returns the last body. */
export async function asyncRoundTrip(
  baseUrl: string,
  key: string,
  body: Record<string, unknown>,
  timeoutMs = 60_000,
): Promise<{ status: number; location: string | null; job: Record<string, unknown> }> {
  const res = await fetch(`${baseUrl}/v1/images/generations`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', prefer: 'respond-async' },
    body: JSON.stringify(body),
  });
  const location = res.headers.get('location');
  await res.text();
  if (res.status !== 202 || !location) return { status: res.status, location, job: {} };
  const until = Date.now() + timeoutMs;
  const seen = new Set<string>();
  while (Date.now() < until) {
    const r = await fetch(new URL(location, baseUrl), { headers: { authorization: `Bearer ${key}` } });
    const job = (await r.json()) as Record<string, unknown>;
    seen.add(String(job.status ?? job.state));
    if (
      ['completed', 'blocked', 'failed', 'expired', 'cancelled'].includes(String(job.status ?? job.state))
    ) {
      return { status: res.status, location, job: { ...job, seenStates: [...seen] } };
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`job ${location} did not finish in ${timeoutMs} ms; states seen: ${[...seen].join(', ')}`);
}
