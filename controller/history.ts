import type { AdmissionState } from '../common/contracts/index.ts';
import type { ControlView } from './control-step.ts';

/** One interval as the status page charts it. */
export interface HistorySample {
  t: number;
  capacity: number;
  utilisation: number | null;
  offered: number;
  admitted: number;
  shed: number;
  /** By `lane/tier`. */
  waitSec: Record<string, number | null>;
  rate: Record<string, number | null>;
  brownout: Record<string, number>;
  saturation: Record<string, number | null>;
}

/** The last few minutes of control intervals, oldest first; bounded so a long run costs nothing. */
export class ControlHistory {
  private readonly samples: HistorySample[] = [];

  constructor(private readonly size = 600) {}

  record(state: AdmissionState, view: ControlView) {
    const sum = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);
    const waitSec: HistorySample['waitSec'] = {};
    const rate: HistorySample['rate'] = {};
    const brownout: HistorySample['brownout'] = {};
    for (const [lane, tiers] of Object.entries(state.lanes)) {
      for (const [tier, a] of Object.entries(tiers)) {
        const k = `${lane}/${tier}`;
        waitSec[k] = a.expectedWaitMs / 1000;
        rate[k] = a.rate;
        brownout[k] = a.brownout.level;
      }
    }
    this.samples.push({
      t: state.issuedAt,
      capacity: view.capacity.total,
      utilisation: view.capacity.utilisation,
      offered: sum(view.traffic.offered),
      admitted: sum(view.traffic.admitted),
      shed: sum(view.traffic.shed),
      waitSec,
      rate,
      brownout,
      saturation: Object.fromEntries(Object.entries(view.saturation).map(([d, s]) => [d, s.value])),
    });
    if (this.samples.length > this.size) this.samples.splice(0, this.samples.length - this.size);
  }

  all(): HistorySample[] {
    return this.samples.slice();
  }
}
