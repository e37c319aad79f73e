import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { policyJsonSchemaText } from '../../../common/policy/json-schema.ts';
import { DEFAULT_TEXT, LAUNCH_DAY_TEXT } from './policy-fixture.ts';

const committed = readFileSync(new URL('../../../policies/policy.schema.json', import.meta.url), 'utf8');

function validator() {
  const ajv = new Ajv2020({ allErrors: true, strict: true });
  // ajv-formats is not a dependency; date-time is the only format the schema uses.
  ajv.addFormat('date-time', { type: 'string', validate: (s: string) => !Number.isNaN(Date.parse(s)) });
  return ajv.compile(JSON.parse(committed));
}

describe('policies/policy.schema.json', () => {
  it('is what the zod schema generates today (run `spillway policy schema` when this fails)', () => {
    expect(committed).toBe(policyJsonSchemaText());
  });

  it.each([
    ['default.yaml', DEFAULT_TEXT],
    ['examples/launch-day.yaml', LAUNCH_DAY_TEXT],
  ])('validates %s with ajv', (_name, text) => {
    const validate = validator();
    const ok = validate(parse(text));
    expect(validate.errors ?? []).toEqual([]);
    expect(ok).toBe(true);
  });

  it('accepts a partial override file and rejects what the loader rejects', () => {
    const validate = validator();
    expect(validate({ tiers: { free: { maxWait: '90s' } } })).toBe(true);
    expect(validate({ tiers: { free: { maxWait: 'soon' } } })).toBe(false);
    expect(validate({ tiers: { free: { rateLimit: '10/week' } } })).toBe(false);
    expect(validate({ tiers: { Free: {} } })).toBe(false);
    expect(validate({ lanes: { chat: { share: 2 } } })).toBe(false);
    expect(validate({ rollout: [{ feature: 'edit', tier: 'free', startAt: 'tomorrow' }] })).toBe(false);
    expect(validate({ colour: 'red' })).toBe(false);
  });
});
