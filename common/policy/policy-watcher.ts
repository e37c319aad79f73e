import { createHash } from 'node:crypto';
import { type FSWatcher, watch } from 'node:fs';
import type { Registry } from 'prom-client';
import { SpillwayError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { compilePolicy, type PolicyText, readPolicyDir } from './loader.ts';
import { formatIssue, type PolicyIssue, PolicyError } from './policy-issue.ts';
import { type PolicyMetrics, policyMetrics } from './policy-metrics.ts';
import type { PolicySource } from './policy-source.ts';
import type { ActivePolicy } from './schema.ts';

export interface PolicyWatcherOptions {
  /** Poll interval, the fallback when fs.watch misses an event (network mounts, replaced dir). 0 = off. */
  pollMs?: number;
  /** Quiet time after a file event before reloading: coalesces an editor's burst of writes. */
  debounceMs?: number;
  /**
   * A changed directory is read again after this long and used only when both reads agree: a file
   * written in place (truncate, then write) is never activated or refused half-written. 0 = off.
   */
  settleMs?: number;
  /** Use fs.watch (default true); tests turn it off to prove the poll alone suffices. */
  watch?: boolean;
  /** Audit entries kept in memory. */
  auditSize?: number;
  registry?: Registry;
}

export interface PolicyRejection {
  file: string;
  line: number;
  column: number;
  rule: string;
  message: string;
  at: number;
  issues: PolicyIssue[];
}

export interface PolicyAuditEntry {
  at: number;
  result: 'activated' | 'rejected';
  /** The version activated, or for a rejection the version that stays active. */
  version: string;
  previousVersion?: string;
  files: { path: string; sha256: string }[];
  issues?: PolicyIssue[];
}

export interface PolicyStatus {
  dir: string;
  version: string;
  loadedAt: number;
  files: { path: string; sha256: string }[];
  /** The active policy's warnings (files it loaded that have no effect, …). */
  warnings: PolicyIssue[];
  /** False while the files on disk are refused and the last good policy is running instead. */
  onDiskValid: boolean;
  lastRejection: PolicyRejection | null;
  reloads: { activated: number; rejected: number };
}

const DEFAULTS = { pollMs: 1000, debounceMs: 100, settleMs: 100, watch: true, auditSize: 50 };
/** Reads of a directory that keeps changing before the watcher gives up until the next event. */
const MAX_SETTLE_READS = 20;

function fingerprint(texts: PolicyText[]): string {
  const h = createHash('sha256');
  for (const t of texts) h.update(t.path).update('\0').update(t.text).update('\0');
  return h.digest('hex');
}

function fileHashes(texts: PolicyText[]) {
  return texts.map((t) => ({ path: t.path, sha256: createHash('sha256').update(t.text).digest('hex') }));
}

/**
 * Hot-reloading PolicySource over a policy directory. Every change (fs.watch, debounced, plus a
 * poll as fallback) re-reads the whole directory; a valid set becomes active and is announced to
 * listeners, an invalid one is refused as a whole and the last good policy stays. Deleting every
 * file is a rejection too: the last good policy keeps running.
 */
export class PolicyWatcher implements PolicySource {
  private readonly listeners = new Set<(active: ActivePolicy) => void>();
  private readonly auditLog: PolicyAuditEntry[] = [];
  private readonly opts: typeof DEFAULTS;
  private readonly metrics: PolicyMetrics;
  private fsWatcher: FSWatcher | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private debounceTimer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private pending = false;
  private closed = false;
  private lastFingerprint = '';
  private onDiskValid = true;
  private lastRejection: PolicyRejection | null = null;
  private counts = { activated: 0, rejected: 0 };

  private constructor(
    readonly dir: string,
    private readonly log: Logger,
    private active: ActivePolicy,
    initial: PolicyText[],
    opts: PolicyWatcherOptions,
  ) {
    this.opts = { ...DEFAULTS, ...opts };
    this.metrics = policyMetrics(opts.registry);
    this.lastFingerprint = fingerprint(initial);
    this.recordActivation(active, undefined, initial);
  }

  /** Starts on a valid policy or throws PolicyError (file:line:col) / SpillwayError. */
  static async create(dir: string, log: Logger, opts: PolicyWatcherOptions = {}): Promise<PolicyWatcher> {
    const texts = await readPolicyDir(dir);
    if (texts.length === 0)
      throw new PolicyError([
        { file: dir, line: 0, column: 0, rule: 'no-files', message: 'no policy files', path: '' },
      ]);
    const result = compilePolicy(texts);
    if (!result.ok) throw new PolicyError(result.issues);
    const watcher = new PolicyWatcher(dir, log, result.active, texts, opts);
    watcher.start();
    return watcher;
  }

  current(): ActivePolicy {
    return this.active;
  }

  onChange(listener: (active: ActivePolicy) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  status(): PolicyStatus {
    return {
      dir: this.dir,
      version: this.active.version,
      loadedAt: this.active.loadedAt,
      files: this.active.files,
      warnings: this.active.warnings ?? [],
      onDiskValid: this.onDiskValid,
      lastRejection: this.lastRejection,
      reloads: { ...this.counts },
    };
  }

  /** Newest last; at most `auditSize` entries. */
  audit(): PolicyAuditEntry[] {
    return [...this.auditLog];
  }

  /** Re-reads the directory now (also the SIGHUP / test hook); resolves once it was considered. */
  reload(): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (this.running) {
      this.pending = true;
      return this.running;
    }
    this.running = this.drain().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.fsWatcher?.close();
    this.fsWatcher = undefined;
    clearInterval(this.pollTimer);
    clearTimeout(this.debounceTimer);
    this.listeners.clear();
    await this.running;
  }

  private start() {
    this.watchDir();
    if (this.opts.pollMs > 0) {
      this.pollTimer = setInterval(() => {
        if (!this.fsWatcher) this.watchDir();
        void this.reload();
      }, this.opts.pollMs);
      this.pollTimer.unref();
    }
  }

  private watchDir() {
    if (!this.opts.watch || this.closed) return;
    try {
      this.fsWatcher = watch(this.dir, { persistent: false }, () => this.schedule());
      this.fsWatcher.on('error', () => {
        // The directory went away or was replaced: the poll re-establishes the watch.
        this.fsWatcher?.close();
        this.fsWatcher = undefined;
      });
    } catch {
      this.fsWatcher = undefined;
    }
  }

  private schedule() {
    if (this.closed) return;
    clearTimeout(this.debounceTimer);
    this.debounceTimer = setTimeout(() => void this.reload(), this.opts.debounceMs);
    this.debounceTimer.unref();
  }

  private async drain() {
    do {
      this.pending = false;
      await this.reloadOnce();
    } while (this.pending && !this.closed);
  }

  private async reloadOnce() {
    let texts: PolicyText[] | undefined;
    try {
      texts = await this.readSettled();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' && !(err instanceof SpillwayError)) {
        // A file vanished between listing and reading (an editor's rename): look again shortly.
        this.schedule();
        return;
      }
      const message = (err as Error).message;
      this.considerRejection(`unreadable:${message}`, [], [this.dirIssue('unreadable', message)]);
      return;
    }
    if (!texts) {
      this.schedule();
      return;
    }
    const print = fingerprint(texts);
    if (print === this.lastFingerprint) return;
    if (texts.length === 0) {
      this.considerRejection(print, texts, [this.dirIssue('no-files', 'no policy files (*.yaml) left')]);
      return;
    }
    const result = compilePolicy(texts);
    if (!result.ok) {
      this.considerRejection(print, texts, result.issues);
      return;
    }
    this.lastFingerprint = print;
    this.markOnDisk(true);
    if (result.active.version === this.active.version) {
      // Comments, formatting or a file that changed nothing: same policy, nothing to announce.
      this.metrics.reloads.inc({ result: 'unchanged' });
      this.active = { ...this.active, files: result.active.files, warnings: result.active.warnings };
      this.metrics.warnings.set(result.active.warnings?.length ?? 0);
      return;
    }
    const previous = this.active;
    this.active = result.active;
    this.recordActivation(result.active, previous.version, texts);
    for (const l of this.listeners) {
      try {
        l(result.active);
      } catch (err) {
        this.log.error({ err, event: 'policy_listener_failed' }, 'policy change listener threw');
      }
    }
  }

  /** The directory's texts once two reads `settleMs` apart agree; undefined if it never settled. */
  private async readSettled(): Promise<PolicyText[] | undefined> {
    let texts = await readPolicyDir(this.dir);
    for (let i = 0; i < MAX_SETTLE_READS; i++) {
      const print = fingerprint(texts);
      if (this.opts.settleMs <= 0 || print === this.lastFingerprint) return texts;
      await new Promise((r) => setTimeout(r, this.opts.settleMs));
      if (this.closed) return undefined;
      const again = await readPolicyDir(this.dir);
      if (fingerprint(again) === print) return texts;
      texts = again;
    }
    return undefined;
  }

  private dirIssue(rule: string, message: string): PolicyIssue {
    return { file: this.dir, line: 0, column: 0, rule, message, path: '' };
  }

  /** Each distinct broken state is reported once, then retried only when the files change. */
  private considerRejection(print: string, texts: PolicyText[], issues: PolicyIssue[]) {
    if (print === this.lastFingerprint) return;
    this.lastFingerprint = print;
    this.markOnDisk(false);
    const at = Date.now();
    const files = fileHashes(texts);
    this.lastRejection = { ...issues[0], at, issues };
    this.counts.rejected++;
    this.metrics.reloads.inc({ result: 'rejected' });
    this.metrics.lastRejection.set(at / 1000);
    this.pushAudit({ at, result: 'rejected', version: this.active.version, files, issues });
    this.log.error(
      {
        event: 'policy_rejected',
        activeVersion: this.active.version,
        files,
        issues,
        at: new Date(at).toISOString(),
      },
      `policy rejected, keeping ${this.active.version}: ${formatIssue(issues[0])}`,
    );
  }

  private markOnDisk(valid: boolean) {
    this.onDiskValid = valid;
    this.metrics.onDiskValid.set(valid ? 1 : 0);
  }

  private recordActivation(active: ActivePolicy, previousVersion: string | undefined, texts: PolicyText[]) {
    const at = active.loadedAt;
    const files = fileHashes(texts);
    this.counts.activated++;
    this.metrics.reloads.inc({ result: 'activated' });
    this.metrics.lastActivation.set(at / 1000);
    this.metrics.activeInfo.reset();
    this.metrics.activeInfo.set({ version: active.version }, 1);
    this.metrics.onDiskValid.set(1);
    this.metrics.warnings.set(active.warnings?.length ?? 0);
    this.pushAudit({ at, result: 'activated', version: active.version, previousVersion, files });
    this.log.info(
      {
        event: 'policy_activated',
        version: active.version,
        previousVersion,
        files,
        at: new Date(at).toISOString(),
      },
      `policy ${active.version} active`,
    );
    for (const warning of active.warnings ?? [])
      this.log.warn(
        { event: 'policy_warning', version: active.version, warning },
        `policy ${active.version}: ${formatIssue(warning)}`,
      );
  }

  private pushAudit(entry: PolicyAuditEntry) {
    this.auditLog.push(entry);
    if (this.auditLog.length > this.opts.auditSize)
      this.auditLog.splice(0, this.auditLog.length - this.opts.auditSize);
  }
}

/** See PolicyWatcher. */
export function createPolicyWatcher(
  dir: string,
  log: Logger,
  opts: PolicyWatcherOptions = {},
): Promise<PolicyWatcher> {
  return PolicyWatcher.create(dir, log, opts);
}
