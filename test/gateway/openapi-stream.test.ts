import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { buildOpenApi } from '../../gateway/openapi.ts';
import { jsonInit, KEYS, startHarness } from './support/harness.ts';

/** The documented SSE events are what the gateway streams: every event's data validates. */
describe('/openapi.json describes the image stream as sent', () => {
  it('validates every streamed event of a generation against ImageStreamEvent', async () => {
    const doc = buildOpenApi() as { components: { schemas: Record<string, unknown> } };
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    for (const [name, schema] of Object.entries(doc.components.schemas)) {
      ajv.addSchema(schema as object, `#/components/schemas/${name}`);
    }
    const validate = ajv.getSchema('#/components/schemas/ImageStreamEvent');
    expect(validate).toBeTruthy();

    const h = await startHarness({ worker: true });
    try {
      const res = await h.request(
        '/v1/images/generations',
        jsonInit({ prompt: 'a pier', size: '256x256', stream: true, partial_images: 2 }, KEYS.pro),
      );
      expect(res.headers.get('content-type')).toContain('text/event-stream');
      const events = (await res.text())
        .split('\n\n')
        .map((block) =>
          block
            .split('\n')
            .find((l) => l.startsWith('data: '))
            ?.slice(6),
        )
        .filter((d): d is string => Boolean(d));
      expect(events.length).toBe(3);
      for (const data of events) {
        const ok = validate!(JSON.parse(data));
        expect(ok, JSON.stringify(validate!.errors)).toBe(true);
      }
    } finally {
      await h.close();
    }
  });
});
