import { request } from 'undici';

/**
 * Samples the controller's live status JSON once a second during a run, keeping what the report
 * plots: GPU utilisation and the admission mode and brownout level of each lane/tier. The status
 * format belongs to the controller, so extraction looks for the fields it knows by name and keeps
 * the raw document of the last sample for the report.
 */
export interface StatusSample {
  t: number;
  gpuUtilisation: number | null;
  /** The controller's capacity estimate (cost units/s), when its status shows one. */
  capacity: number | null;
  /** lane/tier → { mode, brownout level, admitted rate } */
  admission: Record<string, { mode: string; brownout: number; rate: number | null }>;
}

const GPU_KEYS = ['gpuUtilization', 'gpuUtilisation', 'utilization', 'utilisation'];

function findNumber(doc: unknown, names: string[], depth = 0): number | null {
  if (depth > 6 || typeof doc !== 'object' || doc === null) return null;
  const rec = doc as Record<string, unknown>;
  for (const n of names) if (typeof rec[n] === 'number') return rec[n] as number;
  if (typeof rec.slotsBusy === 'number' && typeof rec.slotsTotal === 'number' && rec.slotsTotal > 0) {
    return rec.slotsBusy / rec.slotsTotal;
  }
  for (const v of Object.values(rec)) {
    const found = findNumber(v, names, depth + 1);
    if (found !== null) return found;
  }
  return null;
}

function findLanes(doc: unknown, depth = 0): Record<string, Record<string, unknown>> | null {
  if (depth > 4 || typeof doc !== 'object' || doc === null) return null;
  const rec = doc as Record<string, unknown>;
  if (rec.v === 1 && typeof rec.lanes === 'object' && rec.lanes) {
    return rec.lanes as Record<string, Record<string, unknown>>;
  }
  for (const v of Object.values(rec)) {
    const found = findLanes(v, depth + 1);
    if (found) return found;
  }
  return null;
}

export function extractStatus(doc: unknown, t: number): StatusSample {
  const admission: StatusSample['admission'] = {};
  for (const [lane, tiers] of Object.entries(findLanes(doc) ?? {})) {
    for (const [tier, a] of Object.entries(tiers ?? {})) {
      const ta = a as { mode?: string; brownout?: { level?: number }; rate?: number | null };
      admission[`${lane}/${tier}`] = {
        mode: ta.mode ?? 'unknown',
        brownout: ta.brownout?.level ?? 0,
        rate: ta.rate ?? null,
      };
    }
  }
  const view = (doc as { view?: { capacity?: { total?: unknown } } } | null)?.view;
  const capacity = typeof view?.capacity?.total === 'number' ? view.capacity.total : null;
  return { t, gpuUtilisation: findNumber(doc, GPU_KEYS), capacity, admission };
}

export class StatusSampler {
  readonly samples: StatusSample[] = [];
  last: unknown = null;
  available = false;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly urls: string[],
    private readonly t0: number,
  ) {}

  start(periodMs = 1000) {
    this.timer = setInterval(() => void this.sample(), periodMs);
    void this.sample();
  }

  async sample() {
    for (const url of this.urls) {
      try {
        const res = await request(url, { headersTimeout: 800, bodyTimeout: 800 });
        if (res.statusCode !== 200) {
          await res.body.dump();
          continue;
        }
        const doc = await res.body.json();
        this.available = true;
        this.last = doc;
        this.samples.push(extractStatus(doc, performance.now() - this.t0));
        return;
      } catch {
        // The status page is optional (a URL target may not expose it); try the next address.
      }
    }
  }

  stop() {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
