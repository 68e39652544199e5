import { describe, ValidationError } from '../errors';
import { insertedEventItemOf, type LateCommit, lateCommitsIn, type TimedStreamRecord } from './late-commits';
import type { WakeRoute } from './wake-routes';

/** The part of a DynamoDB stream record the waker reads (the stream's `KEYS_ONLY` view is enough). */
export type LogStreamRecord = TimedStreamRecord;

/** Options of a {@link Waker}. */
export interface WakerOptions {
  readonly routes: readonly WakeRoute[];
  /**
   * Wakes one route's fetcher (an asynchronous Lambda invocation on AWS, a local run locally), to read
   * at least through `readThrough`, the newest event id of its stream in the records.
   */
  readonly wake: (route: WakeRoute, readThrough?: string) => Promise<void>;
  /**
   * A route woken less than this long ago, to read through an id at least as new as this batch's, is
   * not woken again: the run it started reads that far. @default 500
   */
  readonly minIntervalMs?: number;
  /**
   * Whether a run holding the route's pipeline lease will read the events without being woken: it
   * looks for them before it leaves (see `docs/wake-on-commit.md`, "Handing over"). Asked after the
   * records' events landed; the route is not woken when it resolves to true, and is woken when it
   * resolves to false or fails. @default never (every route due is woken)
   */
  readonly leftToHolder?: (route: WakeRoute) => Promise<boolean>;
  /**
   * A stream's settle window, to tell which records' items were stored after it had passed their ids
   * (see {@link lateCommitsIn}); a stream it cannot tell (undefined, or a failure) is not checked.
   * @default none: no record is checked
   */
  readonly settleWindowMsOf?: (stream: string) => Promise<number | undefined>;
  readonly clock?: () => number;
}

/** What one batch of stream records woke. */
export interface WakeOutcome {
  /** The pipelines whose fetchers were woken. */
  readonly woken: readonly string[];
  /** Pipelines with new events whose fetchers were woken a moment ago. */
  readonly skipped: readonly string[];
  /** Pipelines with new events whose lease a run holds that will read them: not woken. */
  readonly leftToHolder: readonly string[];
  /** Pipelines whose wake-up failed, with the error: the schedule's next run covers them. */
  readonly failed: readonly { readonly pipeline: string; readonly error: Error }[];
  /**
   * Items of routed streams stored after their settle window had passed them, with the pipelines
   * reading each stream: a pipeline whose checkpoint had passed the item before it was stored has
   * skipped its events.
   */
  readonly late: readonly (LateCommit & { readonly pipelines: readonly string[] })[];
}

/**
 * Turns the event log's table stream into wake-ups: for every stream that received events, wakes the
 * fetchers of the pipelines that read it, at most once per `minIntervalMs` each. A wake-up only
 * shortens waiting: the fetcher's checkpoint, lease and settle window still decide what is delivered,
 * and a lost wake-up delays events until the pipeline's schedule runs.
 *
 * @example
 * ```ts
 * const waker = new Waker({ routes, wake: (route) => invokeFetcher(route) });
 * const { woken } = await waker.onRecords(event.Records);
 * ```
 */
export class Waker {
  private readonly byStream = new Map<string, WakeRoute[]>();
  private readonly lastWoken = new Map<string, { readonly at: number; readonly through: string }>();
  private readonly wake: (route: WakeRoute, readThrough?: string) => Promise<void>;
  private readonly leftToHolder: (route: WakeRoute) => Promise<boolean>;
  private readonly settleWindowMsOf?: (stream: string) => Promise<number | undefined>;
  private readonly minIntervalMs: number;
  private readonly clock: () => number;

  constructor(options: WakerOptions) {
    const { minIntervalMs } = options;
    if (minIntervalMs !== undefined && !(Number.isFinite(minIntervalMs) && minIntervalMs >= 0))
      throw new ValidationError(
        `invalid Waker options: minIntervalMs must be 0 or more milliseconds (given ${describe(minIntervalMs)})`,
        options,
      );
    for (const route of options.routes)
      this.byStream.set(route.stream, [...(this.byStream.get(route.stream) ?? []), route]);
    this.wake = options.wake;
    this.leftToHolder = options.leftToHolder ?? (async () => false);
    if (options.settleWindowMsOf) this.settleWindowMsOf = options.settleWindowMsOf;
    this.minIntervalMs = minIntervalMs ?? 500;
    this.clock = options.clock ?? Date.now;
  }

  /** Wakes the fetchers of the streams that received events (`INSERT`s of events) in `records`. */
  async onRecords(records: readonly LogStreamRecord[]): Promise<WakeOutcome> {
    // The newest event id of each stream (ids sort by time, then by their random part).
    const newest = new Map<string, string>();
    for (const record of records) {
      const item = insertedEventItemOf(record);
      if (item === undefined) continue;
      const id = item.sortKey ?? '';
      if (id > (newest.get(item.stream) ?? '')) newest.set(item.stream, id);
    }
    const due: { route: WakeRoute; through: string }[] = [];
    const skipped: string[] = [];
    const now = this.clock();
    for (const [stream, through] of newest)
      for (const route of this.byStream.get(stream) ?? []) {
        const last = this.lastWoken.get(route.target);
        if (last !== undefined && now - last.at < this.minIntervalMs && through <= last.through)
          skipped.push(route.pipeline);
        else due.push({ route, through });
      }
    const woken: string[] = [];
    const leftToHolder: string[] = [];
    const failed: { pipeline: string; error: Error }[] = [];
    const [late] = await Promise.all([
      this.lateCommits(records, [...newest.keys()]),
      ...due.map(async ({ route, through }) => {
        // A holder that will look for these events needs no wake-up; if the lease cannot be read, wake.
        if (await this.leftToHolder(route).catch(() => false)) {
          leftToHolder.push(route.pipeline);
          return;
        }
        const previous = this.lastWoken.get(route.target);
        this.lastWoken.set(route.target, { at: now, through });
        try {
          await this.wake(route, through === '' ? undefined : through);
          woken.push(route.pipeline);
        } catch (error) {
          if (previous) this.lastWoken.set(route.target, previous);
          else this.lastWoken.delete(route.target);
          failed.push({
            pipeline: route.pipeline,
            error: error instanceof Error ? error : new Error(String(error)),
          });
        }
      }),
    ]);
    return { woken, skipped, leftToHolder, failed, late };
  }

  /** The items of routed streams in `records` stored after their settle window, with their pipelines. */
  private async lateCommits(
    records: readonly LogStreamRecord[],
    streams: readonly string[],
  ): Promise<WakeOutcome['late']> {
    const settleWindowMsOf = this.settleWindowMsOf;
    if (!settleWindowMsOf) return [];
    const windows = new Map<string, number>();
    await Promise.all(
      streams
        .filter((stream) => this.byStream.has(stream))
        .map(async (stream) => {
          const window = await settleWindowMsOf(stream).catch(() => undefined);
          if (window !== undefined) windows.set(stream, window);
        }),
    );
    return lateCommitsIn(records, windows).map((commit) => ({
      ...commit,
      pipelines: (this.byStream.get(commit.stream) ?? []).map((route) => route.pipeline),
    }));
  }
}
