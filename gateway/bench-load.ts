import { Pool } from 'undici';
import { BENCH_REQUEST } from './bench-server.ts';

export interface LoadResult {
  requests: number;
  seconds: number;
  wrong: number;
  latencies: number[];
  generatorCpuUs: number;
}

/**
 * Sends the bench request (BENCH_REQUEST with `key`) to `origin` from `connections` × `pipelining`
 * workers for `durationMs`: how many were answered, how fast, and how many with another status
 * than `expected`.
 */
export async function load(
  origin: string,
  key: string,
  expected: number,
  connections: number,
  pipelining: number,
  durationMs: number,
): Promise<LoadResult> {
  const pool = new Pool(origin, { connections, pipelining });
  const { path, body } = BENCH_REQUEST;
  const headers = { ...BENCH_REQUEST.headers, authorization: `Bearer ${key}` };
  const latencies: number[] = [];
  let wrong = 0;
  const cpu = process.cpuUsage();
  const began = performance.now();
  const deadline = began + durationMs;
  const worker = async () => {
    while (performance.now() < deadline) {
      const started = performance.now();
      const res = await pool.request({ path, method: 'POST', headers, body });
      await res.body.dump();
      latencies.push(performance.now() - started);
      if (res.statusCode !== expected) wrong++;
    }
  };
  await Promise.all(Array.from({ length: connections * pipelining }, worker));
  const seconds = (performance.now() - began) / 1000;
  const used = process.cpuUsage(cpu);
  await pool.close();
  return { requests: latencies.length, seconds, wrong, latencies, generatorCpuUs: used.user + used.system };
}
