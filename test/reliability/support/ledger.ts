import { isTerminal, type JobRecord, type ProgressEvent } from '../../../common/contracts/index.ts';

/** One job a client got an id for: from a 202, or from the job-id header of a stream. */
export interface LedgerEntry {
  id: string;
  account: string;
  key: string;
  fault: string;
  via: 'async' | 'stream';
  issuedAt: number;
  /** Terminal states clients saw for this job (should be one value). */
  seen: Set<string>;
}

/** What clients saw of the service during one fault window. */
export interface Answers {
  statuses: Record<string, number>;
  /** No answer within the client timeout. */
  hangs: number;
  /** 429/503 without retry-after. */
  hintless: number;
  /** Statuses outside 2xx/429/503 (400s from our own valid requests included). */
  unexpected: number;
  /** Connection refused/reset: the request hit a process that was being killed. */
  cut: number;
}

export function newAnswers(): Answers {
  return { statuses: {}, hangs: 0, hintless: 0, unexpected: 0, cut: 0 };
}

/** The exact accounting of the chaos suite: ids handed out vs terminal states observed. */
export class Ledger {
  readonly entries = new Map<string, LedgerEntry>();
  readonly answers = new Map<string, Answers>();
  fault = 'warm-up';

  issue(id: string, account: string, key: string, via: LedgerEntry['via']) {
    if (this.entries.has(id)) return;
    this.entries.set(id, { id, account, key, fault: this.fault, via, issuedAt: Date.now(), seen: new Set() });
  }

  answer(kind: 'status' | 'hang' | 'cut', status = 0, hinted = true) {
    let a = this.answers.get(this.fault);
    if (!a) {
      a = newAnswers();
      this.answers.set(this.fault, a);
    }
    if (kind === 'hang') a.hangs++;
    else if (kind === 'cut') a.cut++;
    else {
      a.statuses[status] = (a.statuses[status] ?? 0) + 1;
      if ((status === 429 || status === 503) && !hinted) a.hintless++;
      if (!((status >= 200 && status < 300) || status === 429 || status === 503)) a.unexpected++;
    }
  }

  ids(fault?: string): string[] {
    return [...this.entries.values()].filter((e) => !fault || e.fault === fault).map((e) => e.id);
  }
}

/** Terminal `state` events in a job's event log: exactly one for a finished job, else a duplicate. */
export function terminalEvents(events: ProgressEvent[]): string[] {
  return events.flatMap((e) => (e.type === 'state' && isTerminal(e.state) ? [e.state] : []));
}

export function terminal(record: JobRecord | null): boolean {
  return record !== null && isTerminal(record.state);
}
