import { describe, ValidationError } from '../errors';
import type { EventLog } from '../event-log/event-log';
import type { EventInput } from '../event-log/types';
import type { PipelineStore } from '../state/pipeline-store';
import { isDeliveredAt, positionTimeMs } from '../time/position';
import { LaggingConsumerError } from './errors';

/** The slowest live consumer of a stream, and how far behind its newest event it is. */
export interface SlowestConsumer {
  readonly pipeline: string;
  /** The time of the stream's newest event minus the time of the consumer's checkpoint; 0 once it has it. */
  readonly lagMs: number;
}

/**
 * The slowest consumer of a stream among its enabled, unbounded pipelines (halted or disabled
 * pipelines and backfills are left out), or `undefined` when it has none.
 *
 * @example
 * ```ts
 * const slowest = await slowestConsumer(eventLog, store, 'orders.extract');
 * if (slowest && slowest.lagMs > 60_000) console.warn(`${slowest.pipeline} is behind`);
 * ```
 */
export async function slowestConsumer(
  eventLog: EventLog,
  store: PipelineStore,
  stream: string,
): Promise<SlowestConsumer | undefined> {
  const { pipelines } = await store.listPipelines();
  const consumers = pipelines.filter(
    (pipeline) => pipeline.stream === stream && pipeline.enabled && !pipeline.stopAt,
  );
  if (consumers.length === 0) return undefined;
  const newest = (await eventLog.revrange(stream, { limit: 1 })).events[0];
  let slowest: SlowestConsumer | undefined;
  for (const consumer of consumers) {
    const state = await store.getState(consumer.name);
    const lagMs =
      newest === undefined || (state && isDeliveredAt(state.position, newest.id))
        ? 0
        : newest.time.getTime() - (state ? positionTimeMs(state.position) : 0);
    if (!slowest || lagMs > slowest.lagMs) slowest = { pipeline: consumer.name, lagMs: Math.max(0, lagMs) };
  }
  return slowest;
}

/**
 * Commits like `EventLog.commit`, unless the slowest consumer of a stream written to is more than
 * `maxLagMs` behind that stream's newest event: then nothing is committed and a
 * `LaggingConsumerError` says which consumer and by how much, for the producer to slow down. The
 * check reads the state table first, so it bounds the lag loosely (producers racing each other can
 * pass it together); it is a brake, not a lock.
 *
 * @example
 * ```ts
 * try {
 *   await guardedCommit(eventLog, store, { stream: 'orders.raw', type: 'order.exported', data }, { maxLagMs: 300_000 });
 * } catch (error) {
 *   if (error instanceof LaggingConsumerError) await sleep(10_000);
 *   else throw error;
 * }
 * ```
 */
export async function guardedCommit<TData>(
  eventLog: EventLog,
  store: PipelineStore,
  events: EventInput<TData> | readonly EventInput<TData>[],
  options: { readonly maxLagMs: number },
): Promise<string | string[]> {
  if (!Number.isFinite(options?.maxLagMs) || options.maxLagMs < 0)
    throw new ValidationError(
      `maxLagMs must be a number of milliseconds, 0 or more (given ${describe(options?.maxLagMs)})`,
      options?.maxLagMs,
    );
  const list: readonly EventInput<TData>[] = Array.isArray(events) ? events : [events as EventInput<TData>];
  for (const stream of new Set(list.map((event) => event.stream))) {
    const slowest = await slowestConsumer(eventLog, store, stream);
    if (slowest && slowest.lagMs > options.maxLagMs)
      throw new LaggingConsumerError({ stream, ...slowest, maxLagMs: options.maxLagMs });
  }
  return Array.isArray(events)
    ? eventLog.commit(events as readonly EventInput<TData>[])
    : eventLog.commit(events as EventInput<TData>);
}
