#!/usr/bin/env -S node --initial-old-space-size=128
// The flags above are common/node-heap-flags.ts (kept equal by test/common/node-heap-flags.test.ts).
// The CLI is TypeScript run through tsx, so the repository needs no build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('./cli.ts');
process.exitCode = await main(process.argv.slice(2));
