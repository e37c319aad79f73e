import { z } from 'zod';

/**
 * The embedded stack's fault hooks: what the load-test runner asks its `spillway start` child to
 * break and mend, over the Node IPC channel between the two processes. Never over HTTP, so nothing
 * on the network can reach them; the child listens only when started with this variable set to 1
 * and an IPC channel.
 */
export const FAULT_HOOKS_ENV = 'SPILLWAY_FAULT_HOOKS';

/** Tags every message, so either side ignores anything else that travels the channel. */
export const FAULT_HOOKS_CHANNEL = 'spillway-fault-hooks';

const Fraction = z.number().min(0).max(1);
const LatencyMs = z.number().min(0).max(600_000);

/**
 * A campaign fault as the child applies it, defaults already resolved by the runner. A restart
 * here is an outage until undone: the runner undoes it after the fault's `for`.
 */
export const HookFault = z.union([
  z.object({ kind: z.literal('kill-workers'), fraction: Fraction }).strict(),
  z.object({ kind: z.literal('add-workers'), fraction: Fraction }).strict(),
  z.object({ kind: z.literal('slow-store'), latencyMs: LatencyMs }).strict(),
  z.object({ kind: z.literal('slow-auth'), latencyMs: LatencyMs }).strict(),
  z.object({ kind: z.literal('restart-redis') }).strict(),
  z.object({ kind: z.literal('restart-kafka') }).strict(),
]);
export type HookFault = z.infer<typeof HookFault>;

/** Runner → child. `id` pairs the reply with its request. */
export const HookRequest = z.union([
  z
    .object({
      channel: z.literal(FAULT_HOOKS_CHANNEL),
      id: z.number().int(),
      op: z.literal('apply'),
      fault: HookFault,
    })
    .strict(),
  z
    .object({
      channel: z.literal(FAULT_HOOKS_CHANNEL),
      id: z.number().int(),
      op: z.literal('undo'),
      token: z.string(),
    })
    .strict(),
]);
export type HookRequest = z.infer<typeof HookRequest>;

/** Error codes a reply may carry (a SpillwayError's own code passes through as well). */
export type HookErrorCode = 'hook_invalid_request' | 'hook_unknown_token' | 'fault_failed';

/**
 * Child → runner. An applied fault's reply carries the token its undo names; every success
 * carries the note for the run's report.
 */
export type HookReply =
  | { channel: typeof FAULT_HOOKS_CHANNEL; id: number; ok: true; note: string; token?: string }
  | {
      channel: typeof FAULT_HOOKS_CHANNEL;
      id: number;
      ok: false;
      code: HookErrorCode | string;
      message: string;
    };
