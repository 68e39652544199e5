import type { Position } from '../time/position';
import type { StoredSegment } from './segment';
import type { StoredEvent } from './types';

/** Options of `EventSource.readAfter()`. */
export interface ReadAfterOptions {
  /** The most events to return. */
  readonly limit: number;
  /** Only events of these types. @default every type */
  readonly types?: readonly string[];
  /** Read no further than this position, even if the log has settled further (a bounded run's stopAt). */
  readonly until?: Position;
  /**
   * The most stored bytes of events in the page; the page always holds at least one event when there
   * is one. @default 4 MiB
   */
  readonly maxBytes?: number;
  /**
   * The most items one call examines, matching `types` or not. A call that reaches it (or
   * `maxQueries`) returns early, with `caughtUp: false` and a position past every item it examined,
   * so that a long run of events of other types is crossed in bounded steps. @default 5000
   */
  readonly maxItemsRead?: number;
  /** The most queries one call makes. @default 50 */
  readonly maxQueries?: number;
  /**
   * Also return up to this many events already committed past the settled horizon
   * (`ReadAfterPage.ahead`), read by the same queries, when the page reaches the horizon. Not with
   * `until`. @default 0
   */
  readonly ahead?: number;
}

/** A stretch of a stream: the events after `from`, up to and including those at `to`. */
export interface PositionRange {
  readonly from: Position;
  readonly to: Position;
}

/** What `readAfter()` found. */
export interface ReadAfterPage<TData = unknown> {
  /** In id order. */
  readonly events: StoredEvent<TData>[];
  /**
   * Where a consumer stands once it has delivered `events`. When the page was not full it is the
   * settled horizon (or `until`), past every empty bucket in between, so a checkpoint moves over
   * quiet hours too.
   */
  readonly position: Position;
  /**
   * True when nothing more can be read now: the page stopped at the settled horizon or at `until`.
   * False when it stopped at `limit`, `maxBytes`, `maxItemsRead` or `maxQueries`, even with no events.
   */
  readonly caughtUp: boolean;
  /**
   * The compressed segments every event of which is in `events`, as stored, so that a reader can
   * forward them without encoding their events again. A source without segments leaves it out.
   */
  readonly segments?: readonly StoredSegment[];
  /**
   * With `ReadAfterOptions.ahead`, on a page that reached the settled horizon: events committed past
   * it, in id order, as far as the read saw them. Not part of the page: `position` stays at the
   * horizon, and a commit with an earlier id may still land before it.
   */
  readonly ahead?: StoredEvent<TData>[];
  /**
   * Set when events after the position had passed the stream's retention before this read: DynamoDB
   * TTL may have deleted any of them, and a deleted event is not returned. Those still stored are
   * returned as usual. A reader that finds this should say so (the fetcher records it in its run and
   * publishes it as a metric): it names the range in which events may be missing.
   */
  readonly expired?: PositionRange;
}

/**
 * What a fetcher reads from: the time buckets of a stream, and pages of events after a position.
 * The DynamoDB event log is one; other sources can implement it too.
 *
 * @example
 * ```ts
 * let position = positionAtBucketStart('20240501000000');
 * for (;;) {
 *   const page = await source.readAfter('orders', position, { limit: 500 });
 *   await deliver(page.events);
 *   position = page.position;
 *   if (page.caughtUp) break;
 * }
 * ```
 */
export interface EventSource {
  /** The stream's time buckets that hold events, oldest first, strictly after `after` when given. */
  listTimeBuckets(
    stream: string,
    options?: { readonly after?: string; readonly limit?: number },
  ): Promise<string[]>;
  /**
   * Events after `position`, in id order, never past the settled horizon: an event this skips because
   * it is not yet settled is returned by a later call, never missed.
   */
  readAfter<TData = unknown>(
    stream: string,
    position: Position,
    options: ReadAfterOptions,
  ): Promise<ReadAfterPage<TData>>;
  /**
   * The id of the first event committed after `position` (of `options.types`, when given), settled
   * or not, or `undefined` when there is none. A fetcher that has it looks before giving a pipeline up, and leaves the events of a
   * woken run to a holder that is not leaving (see `docs/wake-on-commit.md`, "Handing over"); one
   * without it waits for the lease instead.
   */
  firstCommittedAfter?(
    stream: string,
    position: Position,
    options?: { readonly types?: readonly string[] },
  ): Promise<string | undefined>;
}
