/**
 * Spillway metric names a PromQL expression refers to (`spillway_…`, histogram series suffixes
 * included), for checking dashboards and alerts against what the services actually export.
 */
export function metricReferences(expr: string): string[] {
  return [...new Set(expr.match(/\bspillway_[a-z0-9_]+/g) ?? [])];
}

/**
 * Names in a Prometheus text exposition: `declared` from # TYPE lines (with the _bucket, _sum and
 * _count series of histograms), `sampled` from the series that have at least one sample.
 */
export function exposedMetrics(exposition: string): { declared: Set<string>; sampled: Set<string> } {
  const declared = new Set<string>();
  const sampled = new Set<string>();
  for (const line of exposition.split('\n')) {
    const type = /^# TYPE (\S+) (\w+)/.exec(line);
    if (type) {
      declared.add(type[1]);
      if (type[2] === 'histogram' || type[2] === 'summary')
        for (const s of ['_bucket', '_sum', '_count']) declared.add(type[1] + s);
      continue;
    }
    const sample = /^([a-zA-Z_:][\w:]*)[{ ]/.exec(line);
    if (sample) sampled.add(sample[1]);
  }
  return { declared, sampled };
}
