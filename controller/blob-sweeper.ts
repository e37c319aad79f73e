import type { BlobStore } from '../common/blob/blob-store.ts';
import type { Logger } from '../common/log.ts';
import { DEFAULT_TERMINAL_RETENTION_MS } from '../common/store/retention.ts';

const HOUR_MS = 3_600_000;

/**
 * Images are written before their job finishes (inputs at admission, partials during the run), and
 * a finished job stays readable for the retention counted from its finish. A day on top covers
 * the time from a job's first upload to its finish, so a readable job never points at a lost image.
 */
export const DEFAULT_IMAGE_RETENTION_MS = DEFAULT_TERMINAL_RETENTION_MS + 24 * HOUR_MS;

export interface BlobSweeperOptions {
  /** Age at which an image is deleted; keep it above the job store's terminal retention. */
  olderThanMs?: number;
  /** Least time between the starts of two sweeps (a sweep walks every stored file). */
  everyMs?: number;
}

/**
 * Deletes images older than the retention (leader controller only, so one process sweeps). A
 * sweep runs in the background: the control interval never waits for a directory walk.
 */
export class BlobSweeper {
  private readonly olderThanMs: number;
  private readonly everyMs: number;
  private lastStart = Number.NEGATIVE_INFINITY;
  private running: Promise<void> | null = null;
  private readonly stopping = new AbortController();

  constructor(
    private readonly blobs: BlobStore,
    private readonly log: Logger,
    options: BlobSweeperOptions = {},
  ) {
    this.olderThanMs = options.olderThanMs ?? DEFAULT_IMAGE_RETENTION_MS;
    this.everyMs = options.everyMs ?? HOUR_MS;
  }

  /** Starts a sweep when one is due and none is running; returns it, or null (tests await it). */
  maybeStart(now: number): Promise<void> | null {
    if (this.running || this.stopping.signal.aborted || now - this.lastStart < this.everyMs) return null;
    this.lastStart = now;
    this.running = this.sweep(now).finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async sweep(now: number) {
    try {
      const deleted = await this.blobs.sweep(this.olderThanMs, now, this.stopping.signal);
      if (deleted > 0) this.log.info({ deleted, olderThanMs: this.olderThanMs }, 'old images deleted');
    } catch (err) {
      // The next due sweep retries; nothing is lost by a failed one.
      this.log.warn({ err }, 'image sweep failed');
    }
  }

  /** Ends a running sweep early and waits for it. */
  async stop() {
    this.stopping.abort();
    await this.running;
  }
}
