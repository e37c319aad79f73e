import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { TierAdmission } from '../../common/contracts/index.ts';
import { type AdmissionInput, decideAdmission } from '../../gateway/admission.ts';

const tierArb: fc.Arbitrary<TierAdmission> = fc.record({
  mode: fc.constantFrom('open', 'async-only', 'shed'),
  rate: fc.option(fc.double({ min: 0, max: 100, noNaN: true }), { nil: null }),
  burst: fc.double({ min: 0, max: 100, noNaN: true }),
  brownout: fc.record({ level: fc.integer({ min: 0, max: 3 }) }),
  edits: fc.boolean(),
  expectedWaitMs: fc.integer({ min: 0, max: 1_000_000 }),
  maxWaitMs: fc.integer({ min: 1, max: 1_000_000 }),
});

const outcomeArb = fc.record({ ok: fc.boolean(), waitMs: fc.integer({ min: 0, max: 10_000_000 }) });

const inputArb: fc.Arbitrary<AdmissionInput> = fc.record({
  operation: fc.constantFrom('generate', 'edit'),
  holdsConnection: fc.boolean(),
  allowAsync: fc.boolean(),
  retry: fc.boolean(),
  cost: fc.double({ min: 0.01, max: 40, noNaN: true }),
  gateOpen: fc.boolean(),
  tier: fc.option(tierArb, { nil: null }),
  syncWaitMs: fc.integer({ min: 1, max: 200_000 }),
  retryHeadroom: fc.double({ min: 1, max: 16, noNaN: true }),
  limits: fc.option(fc.record({ account: outcomeArb, global: fc.option(outcomeArb, { nil: null }) }), {
    nil: undefined,
  }),
  random: fc.double({ min: 0, max: 0.999999, noNaN: true }),
});

describe('decideAdmission (pure)', () => {
  it('every refusal hint is within (0, 60 s] or absent only when retrying cannot help', () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const d = decideAdmission(input);
        if (d.kind !== 'refuse') return;
        if (d.hintMs === null) expect(['rollout', 'unknown_tier']).toContain(d.reason);
        else {
          expect(d.hintMs).toBeGreaterThan(0);
          expect(d.hintMs).toBeLessThanOrEqual(60_000);
        }
      }),
    );
  });

  it('never admits what the gate, the shed mode, the account limit or the global bucket refuses', () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const d = decideAdmission(input);
        if (d.kind !== 'admit') return;
        expect(input.gateOpen).toBe(true);
        expect(input.tier?.mode).not.toBe('shed');
        expect(input.limits?.account.ok).toBe(true);
        if (input.limits?.global) expect(input.limits.global.ok).toBe(true);
        if (input.operation === 'edit') expect(input.tier?.edits).toBe(true);
        expect(input.tier!.expectedWaitMs).toBeLessThanOrEqual(input.tier!.maxWaitMs);
      }),
    );
  });

  it('without limit outcomes it either refuses or asks for them — it never admits blind', () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const d = decideAdmission({ ...input, limits: undefined });
        expect(d.kind).not.toBe('admit');
        if (d.kind === 'check-limits') {
          expect(d.tokens).toBe(input.cost);
          expect(d.need).toBeGreaterThanOrEqual(d.tokens);
        }
      }),
    );
  });

  it('retries are shed before first attempts: a retry admitted implies its first attempt is admitted', () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const asRetry = decideAdmission({ ...input, retry: true });
        const asFirst = decideAdmission({ ...input, retry: false });
        if (asRetry.kind === 'admit') expect(asFirst.kind).toBe('admit');
        if (asRetry.kind === 'check-limits') expect(asFirst.kind).toBe('check-limits');
        // A retry takes what a first attempt takes but needs the policy's headroom in the bucket.
        if (asRetry.kind === 'check-limits' && asFirst.kind === 'check-limits') {
          expect(asRetry.tokens).toBe(asFirst.tokens);
          expect(asFirst.need).toBe(input.cost);
          expect(asRetry.need).toBe(input.cost * input.retryHeadroom);
        }
      }),
    );
  });

  it('a sync request is only held when the tier is open and the expected wait fits the sync wait', () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const d = decideAdmission(input);
        if (d.kind !== 'admit' || d.respond !== 'sync') return;
        expect(input.holdsConnection).toBe(true);
        expect(input.tier!.mode).toBe('open');
        expect(input.tier!.expectedWaitMs).toBeLessThanOrEqual(input.syncWaitMs);
      }),
    );
  });

  it('carries the brownout only when the level says to degrade', () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const d = decideAdmission(input);
        if (d.kind !== 'admit') return;
        expect(d.brownout === null).toBe(input.tier!.brownout.level === 0);
      }),
    );
  });
});
