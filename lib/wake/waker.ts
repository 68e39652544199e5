import { describe, ValidationError } from '../errors';
import { streamOfEventPartitionKey } from '../event-log/keys';
import type { WakeRoute } from './wake-routes';

/** The part of a DynamoDB stream record the waker reads (the stream's `KEYS_ONLY` view is enough). */
export interface LogStreamRecord {
  readonly eventName?: string;
  readonly dynamodb?: { readonly Keys?: Record<string, { readonly S?: string } | undefined> };
}

/** Options of a {@link Waker}. */
export interface WakerOptions {
  readonly routes: readonly WakeRoute[];
  /** Wakes one route's fetcher (an asynchronous Lambda invocation on AWS, a local run locally). */
  readonly wake: (route: WakeRoute) => Promise<void>;
  /**
   * A route woken less than this long ago is not woken again: the run it started is still reading, and
   * reads for `untilIdleMs` after its last event, so it sees these commits too. Keep it below
   * `untilIdleMs` minus the stream's settle window. @default 500
   */
  readonly minIntervalMs?: number;
  readonly clock?: () => number;
}

/** What one batch of stream records woke. */
export interface WakeOutcome {
  /** The pipelines whose fetchers were woken. */
  readonly woken: readonly string[];
  /** Pipelines with new events whose fetchers were woken a moment ago. */
  readonly skipped: readonly string[];
  /** Pipelines whose wake-up failed, with the error: the schedule's next run covers them. */
  readonly failed: readonly { readonly pipeline: string; readonly error: Error }[];
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
  private readonly lastWokenAt = new Map<string, number>();
  private readonly wake: (route: WakeRoute) => Promise<void>;
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
    this.minIntervalMs = minIntervalMs ?? 500;
    this.clock = options.clock ?? Date.now;
  }

  /** Wakes the fetchers of the streams that received events (`INSERT`s of events) in `records`. */
  async onRecords(records: readonly LogStreamRecord[]): Promise<WakeOutcome> {
    const streams = new Set<string>();
    for (const record of records) {
      if (record.eventName !== undefined && record.eventName !== 'INSERT') continue;
      const stream = streamOfEventPartitionKey(record.dynamodb?.Keys?.pk?.S);
      if (stream !== undefined) streams.add(stream);
    }
    const due: WakeRoute[] = [];
    const skipped: string[] = [];
    const now = this.clock();
    for (const stream of streams)
      for (const route of this.byStream.get(stream) ?? []) {
        const last = this.lastWokenAt.get(route.target);
        if (last !== undefined && now - last < this.minIntervalMs) skipped.push(route.pipeline);
        else if (!due.includes(route)) due.push(route);
      }
    const woken: string[] = [];
    const failed: { pipeline: string; error: Error }[] = [];
    await Promise.all(
      due.map(async (route) => {
        this.lastWokenAt.set(route.target, now);
        try {
          await this.wake(route);
          woken.push(route.pipeline);
        } catch (error) {
          this.lastWokenAt.delete(route.target);
          failed.push({
            pipeline: route.pipeline,
            error: error instanceof Error ? error : new Error(String(error)),
          });
        }
      }),
    );
    return { woken, skipped, failed };
  }
}
