import { ConfigError } from '../../common/errors.ts';
import { DEFAULT_MODEL_DIR, ensureModels } from '../../inference/models/model-cache.ts';
import { DEFAULT_MODERATION_FILE } from '../../inference/moderation-policy.ts';

const USAGE = `usage: spillway models build [--force] [--dir ${DEFAULT_MODEL_DIR}] [--moderation ${DEFAULT_MODERATION_FILE}]
       spillway models info  [--dir …] [--moderation …]

Builds the ONNX models (prompt moderation, prior, decoder, image moderation, edit encoder) with
deterministic weights from the moderation policy data. Services build them on first use too.
`;

function flag(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  if (i < 0) return undefined;
  const v = args[i + 1];
  if (!v || v.startsWith('--')) throw new ConfigError(name, 'needs a value');
  return v;
}

export async function run(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== 'build' && sub !== 'info') {
    process.stderr.write(USAGE);
    return sub === '--help' || sub === '-h' ? 0 : 2;
  }
  const bundle = await ensureModels({
    dir: flag(rest, '--dir'),
    moderationFile: flag(rest, '--moderation'),
    force: sub === 'build' && rest.includes('--force'),
    onBuilt: (name, bytes, ms) =>
      process.stdout.write(
        `built ${name.padEnd(18)} ${(bytes / 1024).toFixed(0).padStart(6)} KiB  ${ms.toFixed(0)} ms\n`,
      ),
  });
  process.stdout.write(`models ${bundle.hash} in ${bundle.dir}\n`);
  process.stdout.write(`  text categories:   ${bundle.textCategories.join(', ')}\n`);
  process.stdout.write(`  visual categories: ${bundle.visualCategories.join(', ')}\n`);
  return 0;
}
