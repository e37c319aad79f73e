import { defineConfig } from 'vitest/config';
import { NODE_HEAP_FLAGS } from './common/node-heap-flags.ts';

// Four projects: unit (no external process), integration (real Redis and Kafka started by
// test/support/global-setup.ts), load (load-test campaigns against whole stacks, one at a time),
// chaos (kills and restarts those processes). Suffixes decide.

// Stacks started by unit and integration tests run beside other test files at nice 0: their model
// threads at the shipped nice 19 would wait for those (a 2.5 s fault-hook test took 50 s beside
// two busy processes). The load and chaos projects run alone and keep the shipped priority.
const MODELS_AT_TEST_PRIORITY = { SPILLWAY_MODEL_NICE: '0' };
// Every project's run gets a temp root of its own, removed when the run ends (first: the servers
// the integration and chaos projects start keep their files in it too).
const TEMP_ROOT = 'test/support/temp-root.ts';
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          sequence: { groupOrder: 0 },
          include: ['test/**/*.test.ts'],
          exclude: ['test/**/*.int.test.ts', 'test/**/*.chaos.test.ts', 'test/**/*.load.test.ts'],
          testTimeout: 20_000,
          globalSetup: [TEMP_ROOT],
          env: MODELS_AT_TEST_PRIORITY,
          // Vitest's default is one worker fewer than the cores: one on a 2-core CI machine. Unit
          // files wait on child processes and timers as much as they compute; two workers took
          // the project from 146–175 s to 96–106 s here, with no test changing its verdict.
          maxWorkers: 2,
        },
      },
      {
        test: {
          name: 'integration',
          sequence: { groupOrder: 1 },
          include: ['test/**/*.int.test.ts'],
          globalSetup: [TEMP_ROOT, 'test/support/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 90_000,
          env: MODELS_AT_TEST_PRIORITY,
          maxWorkers: 2,
        },
      },
      {
        // Load tests measure latency and GPU use on the machine they run on: one at a time, alone.
        // Each starts the stacks (and any Redis or Kafka) it needs.
        test: {
          name: 'load',
          sequence: { groupOrder: 2 },
          include: ['test/**/*.load.test.ts'],
          testTimeout: 240_000,
          globalSetup: [TEMP_ROOT],
          // The generator measures refusal latency: its own GC pauses would be in the figures.
          execArgv: [...NODE_HEAP_FLAGS],
          maxWorkers: 1,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'chaos',
          sequence: { groupOrder: 3 },
          include: ['test/**/*.chaos.test.ts'],
          globalSetup: [TEMP_ROOT, 'test/support/global-setup.ts'],
          testTimeout: 180_000,
          hookTimeout: 120_000,
          maxWorkers: 1,
          fileParallelism: false,
        },
      },
    ],
  },
});
