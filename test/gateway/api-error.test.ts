import { describe, expect, it } from 'vitest';
import { ApiError, refusalBody } from '../../gateway/api-error.ts';

describe('refusal bodies', () => {
  it('is the envelope an ApiError of the same status, code and message gives', () => {
    const body = refusalBody(429, 'capacity_exceeded', 'At capacity.');
    expect(JSON.parse(body)).toEqual(new ApiError(429, 'capacity_exceeded', 'At capacity.').envelope());
    expect(refusalBody(429, 'capacity_exceeded', 'At capacity.')).toBe(body);
  });

  it('never answers one message with another status or code remembered for it', () => {
    refusalBody(429, 'capacity_exceeded', 'Shared wording.');
    expect(JSON.parse(refusalBody(503, 'tier_unavailable', 'Shared wording.')).error).toEqual({
      message: 'Shared wording.',
      type: 'service_unavailable',
      param: null,
      code: 'tier_unavailable',
    });
    expect(JSON.parse(refusalBody(429, 'rate_limit_exceeded', 'Shared wording.')).error.code).toBe(
      'rate_limit_exceeded',
    );
  });

  it('stays correct past the memo’s bound (messages beyond it are serialised each time)', () => {
    for (let i = 0; i < 200; i++) {
      const error = JSON.parse(refusalBody(403, 'feature_not_available', `Message ${i}.`)).error;
      expect(error).toMatchObject({ message: `Message ${i}.`, type: 'permission_error' });
    }
  });
});
