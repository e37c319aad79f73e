import type { ModelRunner } from './model-runner.ts';
import { type Verdict, verdictOf } from './moderation-verdict.ts';

/** Step 1: a blocked prompt never reaches the prior or the decoder. */
export async function moderatePrompt(
  models: ModelRunner,
  tokens: number[],
  categories: string[],
): Promise<Verdict> {
  return verdictOf(await models.moderatePrompt(tokens), categories);
}
