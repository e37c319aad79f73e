import sharp from 'sharp';
import { type JobMessage, jobTopic } from '../../../common/contracts/index.ts';
import type { Infra } from '../../../common/infra.ts';
import type { Consumer } from '../../../common/queue/queue.ts';

/**
 * A stand-in for the inference worker, in tests only: consumes the job topics and writes what the
 * real worker writes — claim, `running` events, a partial image per pass (blob + record + event),
 * then the result images and a terminal event. Prompts containing "forbidden" are blocked.
 */
export interface FakeWorker {
  /** Messages seen (including ones whose claim was refused, e.g. cancelled jobs). */
  seen: JobMessage[];
  /** Jobs actually run to the end. */
  ran: string[];
  pause(): void;
  resume(): void;
  close(): Promise<void>;
}

let tinyPng: Buffer | null = null;
async function image(size: number): Promise<Buffer> {
  if (size === 8 && tinyPng) return tinyPng;
  const buf = await sharp({
    create: { width: size, height: size, channels: 3, background: { r: 10, g: 120, b: 200 } },
  })
    .png()
    .toBuffer();
  if (size === 8) tinyPng = buf;
  return buf;
}

export async function startFakeWorker(
  infra: Infra,
  topics: { lanes: string[]; tiers: string[] },
  options: { passDelayMs?: number } = {},
): Promise<FakeWorker> {
  const all = topics.lanes.flatMap((l) => topics.tiers.map((t) => jobTopic(l, t)));
  const seen: JobMessage[] = [];
  const ran: string[] = [];
  const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const run = async (m: JobMessage) => {
    const claim = await infra.jobs.claim(m.id, 'fake-worker', 30_000, Date.now());
    if (!claim.ok) return;
    const fence = claim.fence;
    const passes = claim.record.passes;
    const cap = Math.min(m.params.partialImages, m.brownout?.partialImages ?? 3);
    await infra.jobs.markServed(m.lane, m.tier, claim.record.ticket);
    await infra.events.append(m.id, { type: 'state', state: 'running', pass: 0, passes, at: Date.now() });
    for (let pass = 1; pass <= passes; pass++) {
      if (options.passDelayMs) await delay(options.passDelayMs);
      const p = await infra.jobs.progress(m.id, fence, pass, passes, Date.now() + 30_000, Date.now());
      if (!p.ok) return; // cancelled or taken over: stop at once
      if (m.prompt.includes('forbidden')) {
        await infra.jobs.finish(
          m.id,
          fence,
          'blocked',
          { error: { code: 'moderation_blocked', message: 'blocked by the image classifier' } },
          Date.now(),
        );
        await infra.events.append(m.id, { type: 'state', state: 'blocked', pass, passes, at: Date.now() });
        return;
      }
      await infra.events.append(m.id, { type: 'state', state: 'running', pass, passes, at: Date.now() });
      if (pass <= cap) {
        const blob = `partials/${m.id}/${pass - 1}`;
        await infra.blobs.put(blob, await image(8), 'image/png');
        await infra.jobs.addPartial(m.id, fence, blob, Date.now());
        await infra.events.append(m.id, {
          type: 'partial',
          index: pass - 1,
          pass,
          passes,
          blob,
          width: 8,
          height: 8,
          at: Date.now(),
        });
      }
    }
    const [w, h] = m.params.size.split('x').map(Number);
    const images = [];
    for (let i = 0; i < m.params.n; i++) {
      const blob = `results/${m.id}/${i}`;
      await infra.blobs.put(blob, await image(8), 'image/png');
      images.push({ blob, format: m.params.outputFormat, width: w, height: h });
    }
    const usage = {
      input_tokens: 10,
      output_tokens: 100,
      total_tokens: 110,
      input_tokens_details: { text_tokens: 10, image_tokens: 0 },
    };
    const done = await infra.jobs.finish(
      m.id,
      fence,
      'completed',
      { result: { created: Math.floor(Date.now() / 1000), images, usage } },
      Date.now(),
    );
    if (!done.ok) return;
    ran.push(m.id);
    await infra.events.append(m.id, {
      type: 'state',
      state: 'completed',
      pass: passes,
      passes,
      at: Date.now(),
    });
  };
  const consumer: Consumer = await infra.queue.consume({
    groupId: 'fake-workers',
    topics: all,
    onMessage: (d) => {
      const m = JSON.parse(d.value.toString()) as JobMessage;
      seen.push(m);
      run(m)
        .catch((err) => console.error('fake worker', err))
        .finally(() => d.ack());
    },
  });
  return {
    seen,
    ran,
    pause: () => consumer.pause(all),
    resume: () => consumer.resume(all),
    close: () => consumer.close(),
  };
}
