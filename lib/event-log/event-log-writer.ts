import { DynamoDBClient, type TransactWriteItem } from '@aws-sdk/client-dynamodb';
import { describe, ValidationError } from '../errors';
import { serverClockOf } from '../time/server-clock';
import { declaredTimingOf, serializeEvent, validateEventLogOptions } from './inputs';
import { type LogContext, LogStreams } from './log-streams';
import { checkTransactionSize, LogWriter } from './log-writer';
import { resolveStreamTiming } from './stream-timing';
import type { EventInput, EventLogOptions } from './types';

/**
 * The commit half of {@link EventLog}: the same options, the same commits, and no reads. For code
 * that only writes to the log, such as a worker committing its handler's output events, whose Lambda
 * bundle then leaves the read path out. `EventLog` extends it, so an `EventLog` goes wherever an
 * `EventLogWriter` is asked for.
 *
 * @example
 * ```ts
 * const log = new EventLogWriter({ tableName: 'sluice-events' });
 * const id = await log.commit({ stream: 'orders', type: 'order.placed', data: { orderId: 'o-1' } });
 * ```
 */
export class EventLogWriter {
  readonly tableName: string;
  readonly settleWindowMs: number;
  readonly commitDeadlineMs: number;
  /** The client, table, clocks and stream settings that the commits (and an EventLog's reads) share. */
  protected readonly context: LogContext;
  private readonly writer: LogWriter;

  constructor(options: EventLogOptions) {
    const problems = validateEventLogOptions(options);
    if (problems.length > 0)
      throw new ValidationError(`invalid EventLog options: ${problems.join('; ')}`, options);
    this.tableName = options.tableName;
    const client = options.client ?? new DynamoDBClient({});
    const declaredTiming = declaredTimingOf(options);
    const streams = new LogStreams(
      client,
      this.tableName,
      options.streams ?? {},
      options.defaultStreamSettings ?? {},
      declaredTiming,
    );
    const timing = resolveStreamTiming(declaredTiming);
    this.settleWindowMs = timing.settleWindowMs;
    this.commitDeadlineMs = timing.commitDeadlineMs;
    // One context for both paths: one clock, one timing per stream.
    this.context = {
      client,
      tableName: this.tableName,
      clock: options.clock ?? Date.now,
      serverClock: serverClockOf(client),
      streams,
    };
    this.writer = new LogWriter(this.context, options.idGenerator);
  }

  /**
   * Commits one event and resolves to its id, or many events atomically (all land or none, across
   * streams too) and resolves to their ids in order. At most 100 events and 4 MB in one atomic commit.
   *
   * A retry the SDK makes after a lost response is recognised as the same commit: the event is stored
   * once, under the id this resolves to.
   *
   * @throws `ValidationError` (bad name, data, size) before anything is written; `CommitError` when
   * DynamoDB refused the commit (nothing was written); `CommitOutcomeUnknownError`, with the ids, when
   * the commit could not finish within `commitDeadlineMs` or failed without saying whether it was
   * applied: check the ids with {@link get}, and commit again only what is missing.
   *
   * @example
   * ```ts
   * const id = await log.commit({ stream: 'orders', type: 'order.placed', data: { orderId: 'o-1' } });
   * ```
   */
  commit<TData>(event: EventInput<TData>): Promise<string>;
  commit<TData>(events: readonly EventInput<TData>[]): Promise<string[]>;
  async commit<TData>(
    eventOrEvents: EventInput<TData> | readonly EventInput<TData>[],
  ): Promise<string | string[]> {
    if (!Array.isArray(eventOrEvents)) {
      const [id] = await this.writer.commit([serializeEvent(eventOrEvents as EventInput)]);
      return id as string;
    }
    const events = eventOrEvents as readonly EventInput[];
    if (events.length === 0) return [];
    const serialized = events.map((event, index) => serializeEvent(event, index));
    checkTransactionSize(serialized);
    return this.writer.commit(serialized);
  }

  /**
   * Commits events atomically together with other DynamoDB writes, in any table: all land or none.
   * This is how a worker acknowledges an event and commits what it produced in one step (PipeProc's
   * ackCommit). At most 100 writes in all.
   *
   * @throws `CommitError` naming the write at fault when DynamoDB cancels the transaction (a condition
   * on one of `alsoWrite` failed, for example); nothing was written.
   *
   * @example
   * ```ts
   * await log.commitWith([{ stream: 'invoices', type: 'invoice.created', data }], [
   *   { Put: { TableName: 'state', Item: marker, ConditionExpression: 'attribute_not_exists(pk)' } },
   * ]);
   * ```
   */
  async commitWith<TData>(
    events: readonly EventInput<TData>[],
    alsoWrite: readonly TransactWriteItem[],
  ): Promise<string[]> {
    if (events.length === 0) {
      throw new ValidationError(
        'commitWith() needs at least one event; write the other items directly',
        events,
      );
    }
    const serialized = events.map((event, index) => serializeEvent(event as EventInput, index));
    checkTransactionSize(serialized, alsoWrite.length);
    return this.writer.commit(serialized, alsoWrite);
  }

  /**
   * Commits any number of events without atomicity, `concurrency` at a time in input order, each on
   * its own, and resolves to the ids in input order. Every event is checked (names, JSON data) before
   * the first is written. When one fails, no further event is started; those in flight finish, and a
   * `BatchCommitError` says what became of each event: committed (with its id), failed, of unknown
   * outcome (with the id to check), or not attempted.
   * For atomic commits of up to 100 events use {@link commit}.
   *
   * @throws `ValidationError` before anything is written; `BatchCommitError` once anything was.
   *
   * @example
   * ```ts
   * const ids = await log.commitBatched(rowsFromCsv.map((row) => ({ stream: 'imports', type: 'row', data: row })));
   * ```
   */
  async commitBatched<TData>(
    events: readonly EventInput<TData>[],
    options: { concurrency?: number } = {},
  ): Promise<string[]> {
    const serialized = events.map((event, index) => serializeEvent(event as EventInput, index));
    const concurrency = options.concurrency ?? 16;
    if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 256) {
      throw new ValidationError(
        `concurrency must be a whole number from 1 to 256 (given ${describe(concurrency)})`,
        concurrency,
      );
    }
    return this.writer.commitEach(serialized, concurrency);
  }
}
