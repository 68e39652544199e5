import { type Position, parsePosition, positionAfterEvent } from '../lib';
import type { Fetcher, FetcherRunOptions } from '../lib/fetcher/fetcher';
import type { FetcherRunSummary } from '../lib/fetcher/types';
import { comparePositions } from '../lib/time/position';
import { pause } from './pause';

/** The counts of fetcher runs a scenario reports. */
export interface FetcherRunCounts {
  readonly fetcherRuns: number;
  readonly fetcherErrors: number;
  /** Fetcher runs that found their lease taken over (their checkpoint write refused by the fencing token). */
  readonly fetcherLeasesLost: number;
  /** Why fetcher runs stopped, counted. */
  readonly fetcherStopReasons: Readonly<Record<string, number>>;
  /** Events the runs sent before the settle window had passed them (early delivery). */
  readonly eventsSentAhead: number;
}

/**
 * What the fetcher runs of a scenario ended with: how many ran, failed, lost their lease, why they
 * stopped, and the ranges they reported expired (events they can no longer read).
 *
 * @example
 * ```ts
 * const runs = new FetcherRuns();
 * await runs.run(fetcher, 2_000);
 * runs.counts().fetcherErrors;
 * runs.reportedExpired(eventId);
 * ```
 */
export class FetcherRuns {
  private runs = 0;
  private errors = 0;
  private leasesLost = 0;
  private sentAhead = 0;
  private readonly stopReasons: Record<string, number> = {};
  private readonly expiredRanges: { from: Position; to: Position }[] = [];

  /** Runs one fetcher run, counting it and any error it ended with (a crash included). */
  async run(
    fetcher: Fetcher,
    budgetMs: number,
    options: Omit<FetcherRunOptions, 'budgetMs'> = {},
  ): Promise<void> {
    this.runs += 1;
    try {
      this.ended(await fetcher.run({ ...options, budgetMs }));
    } catch {
      this.crashed();
    }
  }

  /**
   * Runs fetchers one after another, as the schedule does, until the returned function is called
   * (which resolves once the run in progress has ended).
   */
  loop(make: (run: number) => Fetcher, budgetMs: number): () => Promise<void> {
    let running = true;
    const loop = (async () => {
      for (let run = 0; running; run += 1) {
        await this.run(make(run), budgetMs);
        await pause(50);
      }
    })();
    return async () => {
      running = false;
      await loop;
    };
  }

  /** Records how a run ended, from its summary. */
  ended(summary: FetcherRunSummary): void {
    const ended = Object.values(summary.pipelines);
    if (ended.some((pipeline) => pipeline.error)) this.errors += 1;
    if (ended.some((pipeline) => pipeline.stopReason === 'lease lost')) this.leasesLost += 1;
    for (const { counts } of ended) this.sentAhead += counts.eventsSentAhead ?? 0;
    for (const { expired } of ended)
      if (expired)
        this.expiredRanges.push({ from: parsePosition(expired.from), to: parsePosition(expired.to) });
    for (const { stopReason = 'none', outcome } of ended) {
      const reason = outcome === 'locked' ? 'locked' : stopReason;
      this.stopReasons[reason] = (this.stopReasons[reason] ?? 0) + 1;
    }
  }

  /** Records a run that threw (a crash included). */
  crashed(): void {
    this.errors += 1;
    this.stopReasons.crashed = (this.stopReasons.crashed ?? 0) + 1;
  }

  /** Whether a run reported the event inside a range it could no longer read. */
  reportedExpired(id: string): boolean {
    const at = positionAfterEvent(id);
    return this.expiredRanges.some(
      (range) => comparePositions(at, range.from) > 0 && comparePositions(at, range.to) <= 0,
    );
  }

  /** The counts so far. */
  counts(): FetcherRunCounts {
    return {
      fetcherRuns: this.runs,
      fetcherErrors: this.errors,
      fetcherLeasesLost: this.leasesLost,
      fetcherStopReasons: { ...this.stopReasons },
      eventsSentAhead: this.sentAhead,
    };
  }
}
