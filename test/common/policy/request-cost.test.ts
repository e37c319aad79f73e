import { describe, expect, it } from 'vitest';
import { defaultRequestCost, requestCost } from '../../../common/policy/request-cost.ts';
import { testPolicy } from '../../gateway/support/harness.ts';

describe('defaultRequestCost', () => {
  it("prices the default model's default size, one image, for each policy it is given", async () => {
    const base = (await testPolicy()).policy;
    const model = base.models.available.find((m) => m.name === base.models.default)!;
    const [w, h] = (model.defaultSize ?? '1024x1024').split('x').map(Number);
    expect(defaultRequestCost(base, 'generate')).toBe(requestCost(base, 'generate', 1, w, h));
    expect(defaultRequestCost(base, 'edit')).toBe(requestCost(base, 'edit', 1, w, h));
    // A new policy (as a reload ships) is priced afresh, not served the last one's figure.
    const dearer = (await testPolicy({ operations: { generate: { cost: 7 }, edit: { cost: 9 } } })).policy;
    expect(defaultRequestCost(dearer, 'generate')).toBe(requestCost(dearer, 'generate', 1, w, h));
    expect(defaultRequestCost(dearer, 'generate')).not.toBe(defaultRequestCost(base, 'generate'));
  });
});
