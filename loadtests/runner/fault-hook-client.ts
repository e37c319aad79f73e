import {
  FAULT_HOOKS_CHANNEL,
  type HookFault,
  type HookReply,
  type HookRequest,
} from '../../common/contracts/fault-hooks.ts';
import { SpillwayError } from '../../common/errors.ts';

/** The runner's end of a child's IPC channel (StackProcess started with `ipc`). */
export interface HookTransport {
  send(message: unknown): boolean;
  onMessage(listener: (message: unknown) => void): () => void;
  onExit(listener: () => void): () => void;
}

type Body = { op: 'apply'; fault: HookFault } | { op: 'undo'; token: string };

interface Waiting {
  resolve(reply: Extract<HookReply, { ok: true }>): void;
  reject(err: SpillwayError): void;
  timer: NodeJS.Timeout;
}

/**
 * Requests to the embedded stack's fault hooks, each answered once: by the child's reply, or by an
 * error when the child exits, cannot be written to, or does not answer within `timeoutMs`.
 */
export class FaultHookClient {
  private nextId = 1;
  private readonly waiting = new Map<number, Waiting>();
  private readonly unsubscribe: (() => void)[];

  constructor(
    private readonly transport: HookTransport,
    private readonly timeoutMs = 60_000,
  ) {
    this.unsubscribe = [
      transport.onMessage((m) => this.settle(m)),
      transport.onExit(() => this.failAll('hook_channel_closed', 'the embedded stack exited')),
    ];
  }

  /** Resolves with the reply (note, and the undo token of an applied fault); rejects with its error code. */
  request(body: Body): Promise<Extract<HookReply, { ok: true }>> {
    const id = this.nextId++;
    const request = { channel: FAULT_HOOKS_CHANNEL, id, ...body } satisfies HookRequest;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new SpillwayError('hook_timeout', `no answer to ${body.op} within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      this.waiting.set(id, { resolve, reject, timer });
      if (!this.transport.send(request)) {
        this.waiting.delete(id);
        clearTimeout(timer);
        reject(new SpillwayError('hook_channel_closed', 'the embedded stack has no open IPC channel'));
      }
    });
  }

  close(): void {
    for (const u of this.unsubscribe) u();
    this.failAll('hook_channel_closed', 'fault hooks closed');
  }

  private settle(message: unknown): void {
    const reply = message as HookReply | null;
    if (reply?.channel !== FAULT_HOOKS_CHANNEL) return;
    const waiting = this.waiting.get(reply.id);
    if (!waiting) return;
    this.waiting.delete(reply.id);
    clearTimeout(waiting.timer);
    if (reply.ok) waiting.resolve(reply);
    else waiting.reject(new SpillwayError(reply.code, reply.message));
  }

  private failAll(code: string, message: string): void {
    for (const [id, w] of this.waiting) {
      this.waiting.delete(id);
      clearTimeout(w.timer);
      w.reject(new SpillwayError(code, message));
    }
  }
}
