import { parentPort, workerData } from 'node:worker_threads';
import type { ModelBundle } from './models/model-cache.ts';
import type { ModelRunner } from './model-runner.ts';
import { OnnxModels } from './onnx-models.ts';
import { lowerThreadPriority } from './thread-priority.ts';

/** Entry of a model thread (see model-pool.ts): loads the sessions, then serves calls in order. */
type Method = Exclude<keyof ModelRunner, 'close'>;

const port = parentPort!;
const data = workerData as { bundle: ModelBundle; nice: number };
// Before the sessions load, so any thread they start inherits the lower priority too.
const priority = lowerThreadPriority(data.nice);
const models = await OnnxModels.load(data.bundle);
port.on('message', async (msg: { id: number; method: Method; args: unknown[] }) => {
  try {
    const fn = models[msg.method] as (...a: unknown[]) => Promise<unknown>;
    const result = await fn.apply(models, msg.args);
    port.postMessage({ id: msg.id, result }, ownBuffer(result));
  } catch (err) {
    port.postMessage({ id: msg.id, error: err instanceof Error ? err.message : String(err) });
  }
});
port.postMessage({ ready: true, priority });

/** A result that owns its whole buffer moves to the caller instead of being copied (4 MB at 1024²). */
function ownBuffer(result: unknown): ArrayBuffer[] {
  if (!ArrayBuffer.isView(result) || !(result.buffer instanceof ArrayBuffer)) return [];
  if (result.byteOffset !== 0 || result.byteLength !== result.buffer.byteLength) return [];
  return [result.buffer];
}
