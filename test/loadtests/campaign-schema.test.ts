import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  applyOverrides,
  campaignDurationMs,
  campaignJsonSchema,
  loadCampaign,
  parseCampaign,
  parseCampaignText,
} from '../../loadtests/campaign-schema.ts';
import type { SpillwayError } from '../../common/errors.ts';

const DIR = new URL('../../loadtests/campaigns/', import.meta.url);
const SHIPPED = [
  'launch-day',
  'steady',
  'soak',
  'retry-storm',
  'capacity-drop',
  'fleet-restart',
  'launch-week',
];

describe('campaign schema', () => {
  it('ships every required campaign, each valid', async () => {
    const names = (await readdir(DIR)).map((n) => n.replace(/\.yaml$/, ''));
    for (const n of SHIPPED) expect(names).toContain(n);
    for (const n of names) expect((await loadCampaign(n)).name).toBe(n);
  });

  it('keeps the CI-sized campaigns to tens of seconds', async () => {
    for (const n of SHIPPED.filter((x) => x !== 'launch-week')) {
      expect(campaignDurationMs(await loadCampaign(n))).toBeLessThanOrEqual(60_000);
    }
  });

  it('launch-week offers about 700 M images in a week', async () => {
    const c = await loadCampaign('launch-week');
    expect(campaignDurationMs(c)).toBe(7 * 86_400_000);
    let total = 0;
    const { classRatesAt } = await import('../../loadtests/runner/arrivals.ts');
    for (let t = 0; t < campaignDurationMs(c); t += 60_000) {
      total += classRatesAt(c, t + 30_000).reduce((s, x) => s + x.rate, 0) * 60;
    }
    expect(total / 700e6).toBeGreaterThan(0.95);
    expect(total / 700e6).toBeLessThan(1.05);
  });

  it('the exported JSON Schema is current and accepts the shipped campaigns', async () => {
    const file = JSON.parse(
      await readFile(new URL('../../loadtests/campaign.schema.json', import.meta.url), 'utf8'),
    );
    expect(file).toEqual(JSON.parse(JSON.stringify(campaignJsonSchema())));
    const validate = new Ajv2020({ strict: false }).compile(file);
    for (const n of SHIPPED) {
      const doc = parse(await readFile(new URL(`${n}.yaml`, DIR), 'utf8'));
      expect(validate(doc), JSON.stringify(validate.errors)).toBe(true);
    }
  });

  it('names the field at fault', () => {
    expect(() =>
      parseCampaign({
        name: 'x',
        mix: [{ lane: 'chat', tier: 'free', weight: 1 }],
        stages: [{ name: 's', duration: 'soon', rate: 1 }],
      }),
    ).toThrow(/stages\.0\.duration/);
  });

  it('names every problem of a campaign file as file:line:col: field: message', () => {
    const text = [
      'name: x',
      'mix: [{ lane: chat, tier: free, weight: 1 }]',
      'stages:',
      '  - { name: a, duration: soon, rate: 1 }',
      'stagez: 1',
      '',
    ].join('\n');
    const err = (() => {
      try {
        parseCampaignText(text, 'campaigns/x.yaml');
      } catch (e) {
        return e as SpillwayError;
      }
      throw new Error('accepted');
    })();
    expect(err.code).toBe('campaign_invalid');
    expect(err.message.split('\n')).toEqual([
      'campaigns/x.yaml:4:26: stages.0.duration: must be a duration such as 250ms, 90s, 10m, 1h',
      'campaigns/x.yaml:5:1: stagez: unknown key "stagez"',
    ]);
  });

  it('points a YAML syntax error at its line, and a duplicate key too', () => {
    expect(() => parseCampaignText('name: x\nstages:\n  - { name: a\n', 'c.yaml')).toThrow(
      /^c\.yaml:4:1: yaml: /,
    );
    expect(() => parseCampaignText('name: x\nname: y\n', 'c.yaml')).toThrow(
      /^c\.yaml:2:1: yaml: Map keys must be unique/,
    );
  });

  it('shows a campaign file by the path it was given', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'spillway-campaign-'));
    try {
      const file = join(dir, 'bad.yaml');
      await writeFile(file, 'name: bad\n');
      await expect(loadCampaign(file)).rejects.toThrow(
        new RegExp(`^${file}:1:1: mix: Invalid input: missing \\(expected array\\)`),
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it.each([0, 9, 1.5])('refuses stack.workers %s, naming it', (workers) => {
    expect(() =>
      parseCampaign({
        name: 'x',
        mix: [{ lane: 'chat', tier: 'free', weight: 1 }],
        stages: [{ name: 's', duration: '1s', rate: 1 }],
        stack: { workers },
      }),
    ).toThrow(/stack\.workers/);
  });

  it('--scale multiplies rates and --duration compresses stages and faults in proportion', async () => {
    const c = await loadCampaign('retry-storm');
    const o = applyOverrides(c, { scale: 2, durationMs: campaignDurationMs(c) / 2 });
    expect(campaignDurationMs(o)).toBeCloseTo(campaignDurationMs(c) / 2, -1);
    expect(o.stages[1].rate).toBe(c.stages[1].rate * 2);
    expect(o.faults[0].at).toBe(c.faults[0].at / 2);
  });
});
