import {
  FAULT_HOOKS_CHANNEL,
  FAULT_HOOKS_ENV,
  type HookFault,
  type HookReply,
  HookRequest,
} from '../common/contracts/fault-hooks.ts';
import { SpillwayError } from '../common/errors.ts';
import type { Logger } from '../common/log.ts';

/** What applies and undoes the faults (EmbeddedFaultHooks). */
export interface FaultHookHandler {
  apply(fault: HookFault): Promise<{ token: string; note: string }>;
  undo(token: string): Promise<string>;
  close(): Promise<void>;
}

/** The IPC end of this process (`process` when it was spawned with an IPC channel). */
export interface HookPort {
  on(event: 'message', listener: (message: unknown) => void): unknown;
  off(event: 'message', listener: (message: unknown) => void): unknown;
  /** The callback receives a failed write (an 'error' event otherwise, which would crash). */
  send?(message: unknown, callback: (err: Error | null) => void): boolean;
}

/** Whether this process should take fault hooks: asked for, and spawned with an IPC channel. */
export function faultHooksWanted(env: Record<string, string | undefined>, port: HookPort): boolean {
  return env[FAULT_HOOKS_ENV] === '1' && typeof port.send === 'function';
}

/**
 * Serves the fault-hook requests of the load-test runner that spawned this process: each request
 * is answered once, with its note (and a token to undo it by) or an error code. Messages that are
 * not on the fault-hook channel are ignored. The returned close stops listening and undoes what is
 * still applied.
 */
export function listenForFaultHooks(
  port: HookPort,
  handler: FaultHookHandler,
  log: Logger,
): { close(): Promise<void> } {
  // A reply that cannot be written means the runner is gone (it kills this stack when it ends):
  // nothing waits for it.
  const unsent = (err: unknown) => log.warn({ err }, 'fault hook reply not sent');
  const reply = (r: HookReply) => {
    try {
      port.send?.(r, (err) => err && unsent(err));
    } catch (err) {
      unsent(err);
    }
  };
  const onMessage = (message: unknown) => {
    if ((message as { channel?: unknown } | null)?.channel !== FAULT_HOOKS_CHANNEL) return;
    const parsed = HookRequest.safeParse(message);
    if (!parsed.success) {
      const id = (message as { id?: unknown }).id;
      reply({
        channel: FAULT_HOOKS_CHANNEL,
        id: typeof id === 'number' ? id : -1,
        ok: false,
        code: 'hook_invalid_request',
        message: parsed.error.issues[0]?.message ?? 'invalid request',
      });
      return;
    }
    void serve(parsed.data, handler).then(reply);
  };
  port.on('message', onMessage);
  return {
    close: async () => {
      port.off('message', onMessage);
      await handler.close();
    },
  };
}

async function serve(request: HookRequest, handler: FaultHookHandler): Promise<HookReply> {
  const base = { channel: FAULT_HOOKS_CHANNEL, id: request.id } as const;
  try {
    if (request.op === 'apply') {
      const { token, note } = await handler.apply(request.fault);
      return { ...base, ok: true, note, token };
    }
    return { ...base, ok: true, note: await handler.undo(request.token) };
  } catch (err) {
    const code = err instanceof SpillwayError ? err.code : 'fault_failed';
    return { ...base, ok: false, code, message: err instanceof Error ? err.message : String(err) };
  }
}
