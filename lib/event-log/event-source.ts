import type { Position } from '../time/position';
import type { StoredEvent } from './types';

/** Options of `EventSource.readAfter()`. */
export interface ReadAfterOptions {
  /** The most events to return. */
  readonly limit: number;
  /** Only events of these types. @default every type */
  readonly types?: readonly string[];
  /** Read no further than this position, even if the log has settled further (a bounded run's stopAt). */
  readonly until?: Position;
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
  /** True when nothing more can be read now: the page stopped at the settled horizon or at `until`. */
  readonly caughtUp: boolean;
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
}
