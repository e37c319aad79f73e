import { describe, expect, it } from 'vitest';
import { metricsText, registry, requestedMetricNames } from '../../common/metrics.ts';

const families = (text: string) =>
  text
    .split('\n')
    .filter((l) => l.startsWith('# TYPE '))
    .map((l) => l.split(' ')[2]);

describe('metricsText', () => {
  it('is the whole exposition when no family is named', async () => {
    const all = families(await registry.metrics());
    expect(all.length).toBeGreaterThan(20);
    expect(families(await metricsText())).toEqual(all);
  });

  it('holds only the families named, in valid exposition text, and skips unknown names', async () => {
    const text = await metricsText(['spillway_process_cpu_seconds_total', 'no_such_metric']);
    expect(text).toMatch(/^# HELP spillway_process_cpu_seconds_total /);
    expect(text).toMatch(/\nspillway_process_cpu_seconds_total \d/);
    expect(text).not.toContain('spillway_nodejs_heap');
    expect(text).not.toContain('no_such_metric');
  });

  it('answers the lag percentiles when the lag family is named with them', async () => {
    const text = await metricsText([
      'spillway_nodejs_eventloop_lag_seconds',
      'spillway_nodejs_eventloop_lag_p99_seconds',
      'spillway_nodejs_eventloop_lag_max_seconds',
    ]);
    expect(families(text)).toEqual([
      'spillway_nodejs_eventloop_lag_seconds',
      'spillway_nodejs_eventloop_lag_p99_seconds',
      'spillway_nodejs_eventloop_lag_max_seconds',
    ]);
    const value = (name: string) => Number(new RegExp(`\\n${name} (\\S+)`).exec(text)?.[1]);
    expect(Number.isFinite(value('spillway_nodejs_eventloop_lag_p99_seconds'))).toBe(true);
    expect(Number.isFinite(value('spillway_nodejs_eventloop_lag_max_seconds'))).toBe(true);
  });
});

describe('requestedMetricNames', () => {
  it('reads repeated name[] parameters, Prometheus-client style', () => {
    expect(requestedMetricNames('http://h/metrics?name[]=a&name[]=b_total')).toEqual(['a', 'b_total']);
    expect(requestedMetricNames('http://h/metrics?name%5B%5D=a')).toEqual(['a']);
    expect(requestedMetricNames('http://h/metrics')).toEqual([]);
  });
});
