import { KEYS } from '../../bin/stack-fixture.ts';

const TERMINAL = ['completed', 'blocked', 'failed', 'expired', 'cancelled'];
const SMALL = { prompt: 'a lighthouse at dusk', size: '256x256' };

export interface CampaignResult {
  admitted: number;
  refused: number;
  streamed: number;
  /** Final states of the async jobs, by state. */
  finals: Record<string, number>;
}

async function submit(url: string, key: string, body: Record<string, unknown>, async = true) {
  const res = await fetch(`${url}/v1/images/generations`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${key}`,
      'content-type': 'application/json',
      ...(async ? { prefer: 'respond-async' } : {}),
    },
    body: JSON.stringify(body),
  });
  await res.text();
  return { status: res.status, location: res.headers.get('location') };
}

async function finalState(url: string, key: string, location: string, timeoutMs: number): Promise<string> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const job = (await (
      await fetch(new URL(location, url), { headers: { authorization: `Bearer ${key}` } })
    ).json()) as { status: string };
    if (TERMINAL.includes(job.status)) return job.status;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`job ${location} not finished after ${timeoutMs} ms`);
}

/**
 * A short campaign against the embedded stack, in two identical rounds `pauseMs` apart: paid async
 * jobs in both lanes (one cancelled while queued), paid streams with partial images, and a free
 * account past its own rate limit, so admitted, refused, completed, cancelled and streamed all
 * produce data. The first round creates every labelled series; the second makes them move, so
 * rates over the campaign are real numbers rather than 0/0. Bounded in time.
 */
export async function runCampaign(url: string, pauseMs: number, timeoutMs = 60_000): Promise<CampaignResult> {
  const total: CampaignResult = { admitted: 0, refused: 0, streamed: 0, finals: {} };
  for (let round = 0; round < 2; round++) {
    if (round > 0) await new Promise((r) => setTimeout(r, pauseMs));
    const r = await runRound(url, timeoutMs);
    total.admitted += r.admitted;
    total.refused += r.refused;
    total.streamed += r.streamed;
    for (const [state, n] of Object.entries(r.finals)) total.finals[state] = (total.finals[state] ?? 0) + n;
  }
  return total;
}

async function runRound(url: string, timeoutMs: number): Promise<CampaignResult> {
  const jobs: { key: string; location: string }[] = [];
  let admitted = 0;
  let refused = 0;
  const count = (r: { status: number; location: string | null }, key: string) => {
    if (r.status === 202 && r.location) {
      admitted++;
      jobs.push({ key, location: r.location });
    } else if (r.status === 429 || r.status === 503) refused++;
    else throw new Error(`unexpected status ${r.status}`);
  };
  const paid = await Promise.all([
    ...Array.from({ length: 5 }, () => submit(url, KEYS.pro, SMALL)),
    ...Array.from({ length: 4 }, () => submit(url, KEYS.plus, SMALL)),
  ]);
  for (const [i, r] of paid.entries()) count(r, i < 5 ? KEYS.pro : KEYS.plus);
  // The last one waits behind the others: cancelling it makes a worker drop it unrun.
  const last = jobs[jobs.length - 1];
  await fetch(new URL(last.location, url), {
    method: 'DELETE',
    headers: { authorization: `Bearer ${last.key}` },
  });
  const streams = await Promise.all(
    Array.from({ length: 2 }, () =>
      submit(url, KEYS.otherPro, { ...SMALL, stream: true, partial_images: 2 }, false),
    ),
  );
  const streamed = streams.filter((s) => s.status === 200).length;
  for (let i = 0; i < 8; i++) count(await submit(url, KEYS.free, SMALL), KEYS.free);
  const finals: Record<string, number> = {};
  for (const j of jobs) {
    const state = await finalState(url, j.key, j.location, timeoutMs);
    finals[state] = (finals[state] ?? 0) + 1;
  }
  return { admitted, refused, streamed, finals };
}
