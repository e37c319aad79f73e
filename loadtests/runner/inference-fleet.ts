import { freePort } from '../../common/dev-services/free-port.ts';
import { StackProcess } from './stack-process.ts';

/** One `spillway start inference` process: its metrics port survives restarts. */
export interface InferenceWorker {
  process: StackProcess;
  metricsPort: number;
}

/**
 * The inference processes of a distributed load-test stack ("GPU hosts"): started, killed and
 * brought back by faults. Each serves /metrics (busy slots) and /healthz on its own port. They
 * run in the background CPU class: on real hardware the model runs on a GPU and takes no core
 * from the gateway.
 */
export class InferenceFleet {
  private readonly workers: InferenceWorker[] = [];
  private started = 0;

  constructor(
    private readonly env: Record<string, string>,
    private readonly readyTimeoutMs: number,
  ) {}

  /** Starts `n` more processes in parallel; resolves once every one serves its /healthz. */
  async add(n: number): Promise<InferenceWorker[]> {
    const added: InferenceWorker[] = [];
    for (let i = 0; i < n; i++) {
      const metricsPort = await freePort();
      const env = { ...this.env, SPILLWAY_METRICS_PORT: String(metricsPort) };
      const worker = {
        process: new StackProcess(`inference ${++this.started}`, ['inference'], env, {
          priority: 'background',
        }),
        metricsPort,
      };
      this.workers.push(worker);
      added.push(worker);
    }
    await this.start(added);
    return added;
  }

  live(): InferenceWorker[] {
    return this.workers.filter((w) => w.process.running());
  }

  metricsUrls(): string[] {
    return this.live().map((w) => `http://127.0.0.1:${w.metricsPort}/metrics`);
  }

  /** kill -9: jobs in flight are lost to their lease; the Kafka group rebalances after its session. */
  async kill(workers: InferenceWorker[]): Promise<void> {
    await Promise.all(workers.map((w) => w.process.kill()));
  }

  /** Starts stopped or killed processes again, on their metrics ports. */
  async start(workers: InferenceWorker[]): Promise<void> {
    await Promise.all(
      workers.map((w) => w.process.start(`http://127.0.0.1:${w.metricsPort}/healthz`, this.readyTimeoutMs)),
    );
  }

  /** Graceful stop (drain, then SIGKILL after the grace), and out of the fleet. */
  async remove(workers: InferenceWorker[]): Promise<void> {
    await Promise.all(workers.map((w) => w.process.stop()));
    for (const w of workers) this.workers.splice(this.workers.indexOf(w), 1);
  }

  close(): Promise<void> {
    return this.remove([...this.workers]);
  }

  killNow(): void {
    for (const w of this.workers) w.process.killNow();
  }
}
