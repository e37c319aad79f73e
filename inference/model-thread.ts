import { parentPort, workerData } from 'node:worker_threads';
import type { ModelBundle } from './models/model-cache.ts';
import type { ModelRunner, PassRequest } from './model-runner.ts';
import { OnnxModels } from './onnx-models.ts';
import { lowerThreadPriority } from './thread-priority.ts';

/**
 * Entry of a model thread (see model-pool.ts): loads the sessions, then serves calls as they come.
 * Handlers overlap: while one pass's encoding runs on the libuv pool, the next call's decode runs.
 */
type Call = { id: number; method: Exclude<keyof ModelRunner, 'close'>; args: unknown[] };

const port = parentPort!;
const data = workerData as { bundle: ModelBundle; nice: number };
// Before the sessions load, so any thread they start inherits the lower priority too.
const priority = lowerThreadPriority(data.nice);
const models = await OnnxModels.load(data.bundle);
port.on('message', async (msg: Call) => {
  try {
    const transfer: ArrayBuffer[] = [];
    const result = movable(await serve(msg), transfer);
    port.postMessage({ id: msg.id, result }, transfer);
  } catch (err) {
    port.postMessage({ id: msg.id, error: err instanceof Error ? err.message : String(err) });
  }
});
port.postMessage({ ready: true, priority });

function serve(msg: Call): Promise<unknown> {
  if (msg.method === 'renderPass') {
    const [pass, startedAt] = msg.args as [PassRequest, number];
    const onDecoded = (decodeMs: number) => port.postMessage({ id: msg.id, decoded: decodeMs });
    return models.renderPass(pass, onDecoded, startedAt);
  }
  const fn = models[msg.method] as (...a: unknown[]) => Promise<unknown>;
  return fn.apply(models, msg.args);
}

/**
 * Typed arrays of a result (itself or its fields) move to the caller instead of being copied there
 * (4 MB at 1024²), which would allocate on the caller's heap. Node moves only an ArrayBuffer a
 * view covers whole and that it may detach: a Buffer (sharp's output is external memory Node will
 * not detach; a small one may be a slice of the pool) is first copied here into one it owns.
 */
function movable(value: unknown, transfer: ArrayBuffer[]): unknown {
  if (ArrayBuffer.isView(value)) {
    const own = Buffer.isBuffer(value) ? new Uint8Array(value) : value;
    if (own.buffer instanceof ArrayBuffer && own.byteOffset === 0 && own.byteLength === own.buffer.byteLength)
      transfer.push(own.buffer);
    return own;
  }
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => movable(v, transfer));
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, movable(v, transfer)]));
}
