import { parentPort, workerData } from 'node:worker_threads';
import type { ModelBundle } from './models/model-cache.ts';
import type { ModelRunner } from './model-runner.ts';
import { OnnxModels } from './onnx-models.ts';

/** Entry of a model thread (see model-pool.ts): loads the sessions, then serves calls in order. */
type Method = Exclude<keyof ModelRunner, 'close'>;

const port = parentPort!;
const models = await OnnxModels.load((workerData as { bundle: ModelBundle }).bundle);
port.on('message', async (msg: { id: number; method: Method; args: unknown[] }) => {
  try {
    const fn = models[msg.method] as (...a: unknown[]) => Promise<unknown>;
    port.postMessage({ id: msg.id, result: await fn.apply(models, msg.args) });
  } catch (err) {
    port.postMessage({ id: msg.id, error: err instanceof Error ? err.message : String(err) });
  }
});
port.postMessage({ ready: true });
