import type { ModelRunner } from './model-runner.ts';
import { type Verdict, verdictOf } from './moderation-verdict.ts';

/** Step 4: every decoded pass is checked; the pipeline runs this alongside the next pass. */
export async function moderateImage(
  models: ModelRunner,
  rgba: Uint8Array,
  width: number,
  height: number,
  categories: string[],
): Promise<Verdict> {
  return verdictOf(await models.moderateImage(rgba, width, height), categories);
}
