import { Worker } from 'node:worker_threads';
import { SpillwayError } from '../common/errors.ts';
import type { ModelBundle } from './models/model-cache.ts';
import type { ModelRunner, OnDecoded, PassRequest, RenderedPass } from './model-runner.ts';
import { sharedClock } from './render-pass.ts';
import type { PriorityResult } from './thread-priority.ts';

interface Thread {
  worker: Worker;
  inFlight: number;
}

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  thread: Thread;
  /** A render pass reports its decode's end before its result. */
  onDecoded?: OnDecoded;
}

type Reply = { id?: number; result?: unknown; error?: string; decoded?: number };

/**
 * The models on a small pool of worker threads, so a model run never stalls the event loop that
 * serves HTTP, heartbeats and Kafka. Each call goes to the least busy thread. Arguments are copied
 * over (token grids, a few KB; an edit's input image); results are transferred back, not copied. A
 * pass is decoded, moderated and encoded in its thread, so no frame reaches this one: in embedded
 * mode this is the gateway's loop, where frames' ArrayBuffers (4 MB each at 1024²) set off
 * mark-compact GCs that stalled refusals.
 */
export class ModelPool implements ModelRunner {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;

  private constructor(
    private readonly threads: Thread[],
    /** What each thread made of the lower CPU priority asked of it (see thread-priority.ts). */
    readonly priorities: PriorityResult[],
  ) {
    for (const t of threads) {
      t.worker.on('message', (msg: Reply) => this.settle(msg));
      t.worker.on('error', (err) => this.failThread(t, err));
    }
  }

  /** `nice` (0–19) lowers each model thread's CPU priority below the event loops'; 0 leaves it. */
  static async start(bundle: ModelBundle, size: number, nice = 0): Promise<ModelPool> {
    const started = await Promise.all(
      Array.from({ length: Math.max(1, size) }, async () => {
        // The .mjs bootstrap registers tsx in the thread, which then runs model-thread.ts.
        const worker = new Worker(new URL('./model-thread.bootstrap.mjs', import.meta.url), {
          workerData: { bundle, nice },
        });
        const priority = await new Promise<PriorityResult>((resolve, reject) => {
          worker.once('message', (msg: { priority: PriorityResult }) => resolve(msg.priority));
          worker.once('error', reject);
        });
        return { thread: { worker, inFlight: 0 }, priority };
      }),
    );
    return new ModelPool(
      started.map((s) => s.thread),
      started.map((s) => s.priority),
    );
  }

  private settle(msg: Reply) {
    if (msg.id === undefined) return;
    const p = this.pending.get(msg.id);
    if (!p) return;
    if (msg.decoded !== undefined) {
      p.onDecoded?.(msg.decoded);
      return;
    }
    this.pending.delete(msg.id);
    p.thread.inFlight--;
    if (msg.error !== undefined) p.reject(new SpillwayError('model_failed', msg.error));
    else p.resolve(msg.result);
  }

  private failThread(thread: Thread, err: Error) {
    for (const [id, p] of this.pending) {
      if (p.thread !== thread) continue;
      this.pending.delete(id);
      p.reject(new SpillwayError('model_thread_died', err.message));
    }
  }

  private call<T>(
    method: Exclude<keyof ModelRunner, 'close'>,
    args: unknown[],
    onDecoded?: OnDecoded,
  ): Promise<T> {
    const thread = this.threads.reduce((a, b) => (b.inFlight < a.inFlight ? b : a));
    const id = this.nextId++;
    thread.inFlight++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, thread, onDecoded });
      thread.worker.postMessage({ id, method, args });
    });
  }

  moderatePrompt(tokens: number[]) {
    return this.call<Float32Array>('moderatePrompt', [tokens]);
  }

  prior(tokens: number[], seed: number, rows: number, cols: number) {
    return this.call<Int32Array>('prior', [tokens, seed, rows, cols]);
  }

  renderPass(pass: PassRequest, onDecoded: OnDecoded) {
    // Timed from here: a pass waiting for a busy thread is what the pass latency signal is for.
    return this.call<RenderedPass>('renderPass', [pass, sharedClock()], onDecoded);
  }

  decode(grid: Int32Array, rows: number, cols: number, width: number, height: number, detail: number) {
    return this.call<Uint8Array>('decode', [grid, rows, cols, width, height, detail]);
  }

  encode(rgb: Uint8Array, rows: number, cols: number, keep: Float32Array, prior: Int32Array) {
    return this.call<Int32Array>('encode', [rgb, rows, cols, keep, prior]);
  }

  async close() {
    await Promise.all(this.threads.map((t) => t.worker.terminate()));
    for (const p of this.pending.values())
      p.reject(new SpillwayError('model_pool_closed', 'model pool closed'));
    this.pending.clear();
  }
}
