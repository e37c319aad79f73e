/**
 * V8 flags every Spillway process starts with: `bin/spillway.js` carries them in its first line
 * (`#!/usr/bin/env -S node …`), and whatever starts a Spillway process with `node` itself (load-test
 * stacks, test fixtures, the load-test vitest project) passes these. A test keeps them equal.
 *
 * Why: a gateway's live heap is small (20–30 MB) while it allocates fast, and V8 starts marking the
 * old generation whenever that generation's headroom is below the young generation's capacity —
 * with a 30 MB heap, always. Measured on launch-day (24 s, `--trace-gc`): a mark-compact every
 * 300 ms in the embedded stack (59) and the load generator (84), each pausing the event loop
 * 6–20 ms, which is most of a refusal's p99. With the old space starting at 128 MB: 11–13 and 6,
 * and refusal p99 went from 13–21 ms to 9–11 ms.
 */
export const NODE_HEAP_FLAGS: readonly string[] = ['--initial-old-space-size=128'];
