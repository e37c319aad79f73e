import type { BlobStore } from '../common/blob/blob-store.ts';
import type { JobRecord, ProgressEvent, ResultImage } from '../common/contracts/index.ts';
import type { EventLog } from '../common/store/event-log.ts';
import { finishAndAnnounce } from '../common/store/finish-and-announce.ts';
import type { JobStore, UpdateResult } from '../common/store/job-store.ts';
import { type Checkpoint, decodeCheckpoint, encodeCheckpoint } from './checkpoint.ts';
import { CONTENT_TYPES, type EncodeOptions } from './encode.ts';
import type { ModelRunner, RenderedPass } from './model-runner.ts';
import { type Verdict, verdictOf } from './moderation-verdict.ts';
import { tokenGrid } from './prior.ts';
import { moderatePrompt } from './prompt-moderation.ts';
import { passDetail, type RenderPlan, usageFor } from './render-plan.ts';
import { tokenize } from './tokenizer.ts';

export interface PipelineObserver {
  /** A pass's decode time, from asking for it (see OnDecoded). */
  onPass?(width: number, height: number, ms: number): void;
  onBlobWrite?(ms: number): void;
  onStoreWrite?(ms: number): void;
}

export interface PipelineDeps {
  jobs: JobStore;
  events: EventLog;
  blobs: BlobStore;
  models: ModelRunner;
  categories: { text: string[]; visual: string[] };
  leaseMs: number;
  now?: () => number;
  observer?: PipelineObserver;
}

export interface JobRun {
  record: JobRecord;
  fence: number;
  plan: RenderPlan;
  /** Aborted on cancellation, loss of the job, or shutdown; checked between steps. */
  signal: AbortSignal;
  /** Told after each recorded pass, so the lease heartbeat repeats the current progress. */
  onProgress?(pass: number, passes: number): void;
  /**
   * Told once the run needs no more model calls (the last pass rendered and found clean), before
   * the final image is stored and the job finished: the worker may start the next job's passes
   * while this one's writes are under way.
   */
  onModelsDone?(): void;
}

export type Outcome =
  | { kind: 'completed'; passesRun: number }
  | { kind: 'blocked'; stage: 'prompt' | 'image'; pass: number; categories: string[] }
  | { kind: 'aborted'; reason: 'fenced' | 'terminal' | 'not_found' | 'illegal_transition' | 'signal' };

/** Thrown inside the pipeline to unwind at once when a fenced write is refused or the run aborts. */
class Abort extends Error {
  constructor(readonly reason: Extract<Outcome, { kind: 'aborted' }>['reason']) {
    super(reason);
  }
}

interface PendingPass {
  pass: number;
  width: number;
  height: number;
  /** Settles when the pass's decode has ended (or the pass failed before it did). */
  decoded: Promise<unknown>;
  /** Scores and, when the pass will be stored (a partial or the final), its image file. */
  rendered: Promise<RenderedPass>;
}

interface StoredPass {
  pass: number;
  width: number;
  height: number;
  image: Uint8Array | null;
}

/**
 * One job from prompt to stored image: prompt moderation → prior → render passes. A pass is
 * decoded, moderated and (if stored) encoded by one model call, where the models run: the frames
 * stay off this thread. The next pass is asked for as soon as this one's decode ends, so the models
 * decode it while this pass is moderated and encoded; an encoding is only stored once its pass's
 * verdict is clean. After every pass the job's progress, partial image (if asked for) and
 * checkpoint are written with the claim's fence; a refused write ends the run at once. A
 * checkpoint from an earlier owner is resumed: finished passes are not decoded again and partials
 * already recorded are neither encoded nor sent again.
 */
export async function runPipeline(deps: PipelineDeps, run: JobRun): Promise<Outcome> {
  try {
    return await new PipelineRun(deps, run).execute();
  } catch (err) {
    if (err instanceof Abort) return { kind: 'aborted', reason: err.reason };
    throw err;
  }
}

class PipelineRun {
  private readonly now: () => number;
  private readonly id: string;
  private readonly tokens: number[];
  private passesRun = 0;
  private images: ResultImage[] = [];
  private partials: Set<string>;

  constructor(
    private readonly deps: PipelineDeps,
    private readonly run: JobRun,
  ) {
    this.now = deps.now ?? Date.now;
    this.id = run.record.id;
    this.tokens = tokenize(run.record.message.prompt);
    this.partials = new Set(run.record.partials);
  }

  async execute(): Promise<Outcome> {
    const { plan } = this.run;
    const checkpoint = decodeCheckpoint(await this.deps.jobs.loadCheckpoint(this.id));
    if (!checkpoint) {
      const verdict = await moderatePrompt(this.deps.models, this.tokens, this.deps.categories.text);
      if (verdict.flagged) return this.block('prompt', 0, verdict);
    } else {
      this.images = checkpoint.images;
      this.passesRun = checkpoint.passesRun;
    }
    for (let image = checkpoint?.image ?? 0; image < plan.images; image++) {
      const resumed = checkpoint && checkpoint.image === image ? checkpoint : null;
      const outcome = await this.renderImage(image, resumed);
      if (outcome) return outcome;
    }
    return this.complete();
  }

  /** Pass commits in order, off the decode loop; the first failure stops the ones after it. */
  private commits: Promise<void> = Promise.resolve();
  private commitFailure: unknown = null;

  private checkSignal() {
    if (this.commitFailure) throw this.commitFailure;
    if (this.run.signal.aborted) throw new Abort('signal');
  }

  /**
   * Storing a pass (partial, progress, checkpoint) does not hold up the next decode: at small
   * sizes those writes take longer than the next pass, and the models would wait on them.
   */
  private queueCommit(commit: () => Promise<void>): void {
    this.commits = this.commits.then(commit);
    this.commits.catch((err) => {
      this.commitFailure ??= err;
    });
  }

  private async write(op: () => Promise<UpdateResult>): Promise<void> {
    const started = performance.now();
    const result = await op();
    this.deps.observer?.onStoreWrite?.(performance.now() - started);
    if (!result.ok) throw new Abort(result.code);
  }

  private async renderImage(image: number, resumed: Checkpoint | null): Promise<Outcome | null> {
    const { plan } = this.run;
    const grid = resumed
      ? Int32Array.from(resumed.grid)
      : await tokenGrid(this.deps.models, this.deps.blobs, this.run.record.message, plan, this.tokens, image);
    let previous: PendingPass | null = null;
    for (let pass = (resumed?.pass ?? 0) + 1; pass <= plan.passes; pass++) {
      this.checkSignal();
      const current = this.render(image, grid, pass);
      if (previous) {
        const { done, verdict } = await this.settle(previous);
        if (verdict.flagged) {
          // The pass already rendering is discarded; no later pass starts.
          await current.rendered.catch(() => undefined);
          return this.block('image', done.pass, verdict);
        }
        this.queueCommit(() => this.commitPass(image, grid, done));
      }
      await current.decoded;
      previous = current;
    }
    if (!previous) return null;
    const { done, verdict } = await this.settle(previous);
    if (verdict.flagged) return this.block('image', done.pass, verdict);
    if (image === plan.images - 1) this.run.onModelsDone?.();
    await this.commits;
    await this.commitFinal(image, grid, done);
    return null;
  }

  private render(image: number, grid: Int32Array, pass: number): PendingPass {
    const { plan } = this.run;
    const { width, height } = plan.passSizes[pass - 1];
    let markDecoded = () => {};
    const decodeEnded = new Promise<void>((resolve) => {
      markDecoded = resolve;
    });
    const request = {
      grid,
      rows: plan.rows,
      cols: plan.cols,
      width,
      height,
      detail: passDetail(pass, plan.passes),
      encode: this.encodeOptions(image, pass),
    };
    const rendered = this.deps.models.renderPass(request, (decodeMs) => {
      this.deps.observer?.onPass?.(width, height, decodeMs);
      this.passesRun++;
      markDecoded();
    });
    // A pass that fails before its decode ends never reports one: its failure ends the wait.
    const decoded = Promise.race([decodeEnded, rendered]);
    // Both are awaited unless the run unwinds first; then their failures must not go unhandled.
    rendered.catch(() => undefined);
    decoded.catch(() => undefined);
    return { pass, width, height, decoded, rendered };
  }

  /** Step 4: every pass is moderated; its scores, read against the visual categories, decide. */
  private async settle(pending: PendingPass): Promise<{ done: StoredPass; verdict: Verdict }> {
    const { scores, image } = await pending.rendered;
    const { pass, width, height } = pending;
    return { done: { pass, width, height, image }, verdict: verdictOf(scores, this.deps.categories.visual) };
  }

  private overallPass(image: number, pass: number): { pass: number; passes: number } {
    const { plan } = this.run;
    return { pass: image * plan.passes + pass, passes: plan.images * plan.passes };
  }

  private async storeBlob(key: string, data: Uint8Array, contentType: string) {
    const started = performance.now();
    // A view, not a copy: the bytes arrived transferred from the model thread.
    await this.deps.blobs.put(key, Buffer.from(data.buffer, data.byteOffset, data.byteLength), contentType);
    this.deps.observer?.onBlobWrite?.(performance.now() - started);
  }

  /** How to encode a pass that will be stored (a partial not yet recorded, or the final); else null. */
  private encodeOptions(image: number, pass: number): EncodeOptions | null {
    const final = pass === this.run.plan.passes;
    const partial = this.partialIndex(image, pass);
    if (!final && (partial < 0 || this.partials.has(this.partialKey(partial)))) return null;
    const p = this.run.record.message.params;
    return {
      format: p.outputFormat,
      compression: p.outputCompression,
      transparent: p.background === 'transparent',
      fast: !final,
    };
  }

  /**
   * Partials belong to the first image only. OpenAI's partial_images is a count for the whole
   * stream, its partial_image_index one 0-based sequence, and a partial event names no image: with
   * n > 1 the partials of several images could not be told apart (and the gateway caps the stream
   * at partial_images events anyway). Partials are optional work, so later images skip them.
   */
  private partialIndex(image: number, pass: number): number {
    return image === 0 ? this.run.plan.partialPasses.indexOf(pass) : -1;
  }

  private partialKey(index: number): string {
    return `jobs/${this.id}/partial-${index}.${this.run.record.message.params.outputFormat}`;
  }

  private async commitPass(image: number, grid: Int32Array, done: StoredPass): Promise<void> {
    this.checkSignal();
    const { fence } = this.run;
    const partialIndex = this.partialIndex(image, done.pass);
    let lastImage: string | null = null;
    if (partialIndex >= 0) {
      const format = this.run.record.message.params.outputFormat;
      const key = this.partialKey(partialIndex);
      lastImage = key;
      if (!this.partials.has(key) && done.image) {
        await this.storeBlob(key, done.image, CONTENT_TYPES[format]);
        await this.write(() => this.deps.jobs.addPartial(this.id, fence, key, this.now()));
        this.partials.add(key);
        const at = this.overallPass(image, done.pass);
        await this.append({
          type: 'partial',
          index: partialIndex,
          ...at,
          blob: key,
          width: done.width,
          height: done.height,
          at: this.now(),
        });
      }
    }
    await this.recordProgress(image, done.pass, grid, lastImage);
  }

  private async recordProgress(image: number, pass: number, grid: Int32Array, lastImage: string | null) {
    const { fence, plan } = this.run;
    const at = this.overallPass(image, pass);
    const now = this.now();
    const finishedImage = pass === plan.passes;
    const checkpoint: Checkpoint = {
      v: 1,
      image: finishedImage ? image + 1 : image,
      pass: finishedImage ? 0 : pass,
      passesRun: this.passesRun,
      rows: plan.rows,
      cols: plan.cols,
      grid: finishedImage ? [] : [...grid],
      images: this.images,
      lastImage,
    };
    // Both fenced and independent: one round trip of latency instead of two.
    await Promise.all([
      this.write(() =>
        this.deps.jobs.progress(this.id, fence, at.pass, at.passes, now + this.deps.leaseMs, now),
      ),
      this.write(() => this.deps.jobs.saveCheckpoint(this.id, fence, encodeCheckpoint(checkpoint))),
    ]);
    this.run.onProgress?.(at.pass, at.passes);
    await this.append({ type: 'state', state: 'running', ...at, at: now });
  }

  private async commitFinal(image: number, grid: Int32Array, done: StoredPass): Promise<void> {
    this.checkSignal();
    const format = this.run.record.message.params.outputFormat;
    const key = `jobs/${this.id}/image-${image}.${format}`;
    // The final pass is always asked for an encoding (encodeOptions).
    await this.storeBlob(key, done.image!, CONTENT_TYPES[format]);
    this.images = [...this.images, { blob: key, format, width: done.width, height: done.height }];
    await this.recordProgress(image, done.pass, grid, key);
  }

  private async append(event: ProgressEvent) {
    await this.deps.events.append(this.id, event);
  }

  private async complete(): Promise<Outcome> {
    const { record, plan, fence } = this.run;
    const now = this.now();
    const usage = usageFor(
      plan,
      this.tokens.length,
      record.message.operation === 'edit' ? 1 : 0,
      this.passesRun,
    );
    const result = { created: Math.floor(now / 1000), images: this.images, usage };
    const at = this.overallPass(plan.images - 1, plan.passes);
    await this.write(() => finishAndAnnounce(this.deps, this.id, fence, 'completed', { result }, now, at));
    return { kind: 'completed', passesRun: this.passesRun };
  }

  private async block(stage: 'prompt' | 'image', pass: number, verdict: Verdict): Promise<Outcome> {
    // Earlier passes were clean: their partials stand. A failed commit ends the run as it would have.
    await this.commits;
    const now = this.now();
    const error = {
      code: 'moderation_blocked',
      message: `Your request was rejected by the safety system (${stage}: ${verdict.categories.join(', ')}).`,
    };
    const { passes } = this.overallPass(0, 0);
    await this.write(() =>
      finishAndAnnounce(this.deps, this.id, this.run.fence, 'blocked', { error }, now, { pass, passes }),
    );
    return { kind: 'blocked', stage, pass, categories: verdict.categories };
  }
}
