import { mkdir } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { type Campaign, loadCampaign } from '../../loadtests/campaign-schema.ts';
import { runLoadtest } from '../../loadtests/runner/loadtest.ts';

/**
 * The shipped campaigns against the distributed mode: a Redis, a Kafka broker, and the gateway,
 * controller and inference processes started by `spillway start <role>`, all by the runner on free
 * loopback ports. Each stack gets a Redis and a Kafka of its own, not the suite's shared pair:
 * other integration files run stacks of their own on that pair at the same time, and their
 * workers and controllers would take this run's jobs and admission state. Reports land in
 * test-results/loadtests/.
 *
 * launch-day probes its capacity (another stack and 7 s of load): its GPU-use check counts the
 * seconds when demand exceeds capacity, and a capacity given below the real one (6 req/s was given
 * here once, against 19.6 measured) made seconds the stack served with room to spare count as
 * overloaded — 57 % "GPU use" where the spike itself ran at 95 %. retry-storm's capacity is given
 * (256², 2 processes × 1 slot: 16.6 req/s measured here), set below what this machine measured so
 * that its recovery stage at 0.7× leaves spare capacity on a busier machine too.
 */
const OUT = 'test-results/loadtests';
const short = (c: Campaign, giveUpMs: number): Campaign => ({
  ...c,
  client: { ...c.client, giveUpAfter: giveUpMs },
});

describe('load tests against the distributed stack', () => {
  // Asserted: paid first, every request answered, GPU use while overloaded, and refusal p99
  // within 3× a health check's in the same seconds (a ratio measured in one run: 0.82–2.70× in
  // the runs with it so far; a cold key's look-up is a Redis round trip the health check does
  // not make). GPU use was only printed until retries stopped being charged twice their cost in
  // the bucket (they need the headroom, take their cost): it sank to 36–55 % in the seconds when
  // only retries were left, 81.9–97.7 % over a run; 92.1–97.6 % in 8 runs since. Measured,
  // reported and printed, not asserted: the absolute refusal p99 (2026-12-04, with the broker and
  // inference in SCHED_IDLE: 5.7–13.2 ms, 6 of 7 runs here ≤ 10 ms): figures in the README. A run
  // that misses is run again once.
  const HOLDS = [
    'paid success',
    'no paid refusal while free admitted',
    'requests left unanswered until give-up',
    'refusal p99 over a health check',
    'GPU utilisation while overloaded',
  ];

  it('launch day: paid before free, every request answered, GPU kept busy, refusals as cheap as a health check, over Kafka and Redis', {
    retry: 1,
    timeout: 150_000,
  }, async () => {
    await mkdir(OUT, { recursive: true });
    const campaign = short(await loadCampaign('launch-day', { durationMs: 20_000 }), 15_000);
    const { report, files } = await runLoadtest({
      campaign,
      mode: 'distributed',
      modes: ['on'],
      outDir: OUT,
    });
    const [run] = report.runs;
    expect(run.run.label).toMatch(/^distributed/);
    const line = (c: (typeof run.checks)[number]) => `${c.name}: ${c.actual} (expected ${c.expected})`;
    console.log(
      `[launch-day, distributed] ${files?.html}\n  ${run.checks.map((c) => `${c.pass ? 'ok  ' : 'MISS'} ${line(c)}`).join('\n  ')}`,
    );
    // GPU use is read from the inference process's /metrics, not the gateway's.
    expect(run.run.metrics.some((m) => m.slotsBusy !== null && m.slotsBusy > 0)).toBe(true);
    const held = run.checks.filter((c) => HOLDS.includes(c.name));
    expect(held.map((c) => c.name).sort()).toEqual([...HOLDS].sort());
    expect(held.filter((c) => !c.pass).map(line), `report: ${files?.html}`).toEqual([]);
  });

  it('retry storm with half the inference processes killed (kill -9): recovers within 60 s', async () => {
    const shipped = short(await loadCampaign('retry-storm'), 20_000);
    // The shipped 20 s recovery stage only shows recoveries under 20 s; measured here: 11–18 s
    // (the killed worker's Kafka partitions wait out its session, then the backlog drains). 30 s
    // leaves a margin; a recovery slower than that fails here, though the issue allows 60 s.
    const campaign = {
      ...shipped,
      stages: shipped.stages.map((s) => (s.name === 'recovery' ? { ...s, duration: 30_000 } : s)),
    };
    const { report, files } = await runLoadtest({
      campaign,
      mode: 'distributed',
      workerProcesses: 2,
      workerSlots: 1,
      modes: ['on'],
      capacity: 8,
      outDir: OUT,
    });
    const { run, figures } = report.runs[0];
    console.log(
      `[retry-storm, distributed] ${files?.html}\n  faults: ${JSON.stringify(run.faults)}\n  recovery: ${figures.recoverySeconds} s after the trigger ended at ${figures.triggerEndS} s`,
    );
    const kill = run.faults.filter((f) => f.kind === 'kill-workers');
    expect(kill.map((f) => f.applied)).toEqual([true]);
    expect(kill[0].note).toMatch(/killed 1 of 2 inference processes/);
    // Undone (the killed process started again) without a failure entry in the log.
    expect(run.faults.filter((f) => !f.applied)).toEqual([]);
    expect(figures.recoverySeconds, JSON.stringify(figures)).not.toBeNull();
    expect(figures.recoverySeconds!).toBeLessThanOrEqual(60);
  }, 150_000);
});
