import type { Position } from '../lib';
import type { PipelineStore } from '../lib/state/pipeline-store';
import { formatPosition } from '../lib/time/position';
import type { ObservedCheckpoint } from './invariants';
import { pause } from './pause';

/**
 * Samples a pipeline's checkpoint every 25 ms, recording each new version, and seeks it: a checkpoint
 * read while a seek is under way, or first after one, is marked `afterSeek` (it may stand behind the
 * one before it without counting as a regression).
 *
 * @example
 * ```ts
 * const watcher = new CheckpointWatcher(store, 'orders');
 * watcher.start();
 * await watcher.seek(position, 'replay');
 * await watcher.stop();
 * watcher.checkpoints;
 * ```
 */
export class CheckpointWatcher {
  /** Every checkpoint version seen, in order. */
  readonly checkpoints: ObservedCheckpoint[] = [];
  /** Where each seek went, counted before it landed. */
  readonly seekTargets: string[] = [];
  private seeking = 0;
  private seekSettling = false;
  private watching = false;
  private watcher?: Promise<void>;

  constructor(
    private readonly store: PipelineStore,
    private readonly pipeline: string,
  ) {}

  /** Starts sampling. */
  start(): void {
    this.watching = true;
    this.watcher = this.watch();
  }

  /** Stops sampling, once the sample in progress has ended. */
  async stop(): Promise<void> {
    this.watching = false;
    await this.watcher;
  }

  /**
   * Seeks the pipeline: the checkpoint read next may stand behind the one before it without counting
   * as a regression, and events after `position` may be handled again (a seek is a replay).
   */
  async seek(position: Position, reason: string): Promise<void> {
    this.seeking += 1;
    try {
      // Counted before it lands: a seek that fails after writing still replayed.
      this.seekTargets.push(formatPosition(position));
      await this.store.seek(this.pipeline, position, { reason });
    } finally {
      this.seeking -= 1;
      this.seekSettling = true;
    }
  }

  private async watch(): Promise<void> {
    while (this.watching) {
      try {
        const state = await this.store.getState(this.pipeline);
        const last = this.checkpoints.at(-1);
        if (state && (!last || last.version !== state.version)) {
          const afterSeek = this.seeking > 0 || this.seekSettling;
          this.seekSettling = false;
          this.checkpoints.push({
            version: state.version,
            position: formatPosition(state.position),
            ...(afterSeek ? { afterSeek } : {}),
          });
        }
      } catch {
        // The checker's own client has no faults; a failed read is only a missed sample.
      }
      await pause(25);
    }
  }
}
