import { DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  type DynamoDBStreamsClient,
  GetRecordsCommand,
  type GetRecordsCommandOutput,
  GetShardIteratorCommand,
  type ShardIteratorType,
  type _Record as StreamRecord,
} from '@aws-sdk/client-dynamodb-streams';
import { describe, MissingResourceError } from '../../errors';
import { OptionProblems } from './option-problems';
import { pause } from './pause';

/** Options of a {@link TableStreamSource}. */
export interface TableStreamSourceOptions {
  /** Finds the table's current stream (`DescribeTable`'s `LatestStreamArn`). */
  readonly dynamodb: DynamoDBClient;
  /** Reads the stream: on the same endpoint as `dynamodb` for DynamoDB Local. */
  readonly streams: DynamoDBStreamsClient;
  readonly tableName: string;
  /** Called with each non-empty batch of one shard's records, in order. Its errors are reported, never retried. */
  readonly handler: (records: readonly StreamRecord[]) => Promise<void> | void;
  /** How often each open shard is read, as Lambda reads a DynamoDB stream four times a second. @default 250 */
  readonly pollIntervalMs?: number;
  /**
   * How often the table's stream and its shard list are looked up again, for a table made again and
   * for new shards (also looked up whenever a shard closes). @default 10000
   */
  readonly shardRefreshMs?: number;
  /** Told of each failure, once per outage. @default logs with console.error */
  readonly onError?: (error: unknown) => void;
}

/** Counts of a {@link TableStreamSource}. */
export interface TableStreamSourceStats {
  /** Batches given to the handler, and the records in them. */
  batches: number;
  records: number;
  /** Shards being read now. */
  shards: number;
  /** Times the stream was found again (a restarted emulator, a table made again). */
  reattached: number;
  /** Shard iterators that expired and were replaced. */
  expiredIterators: number;
  errors: number;
}

interface ShardState {
  iterator?: string;
  /** The last record's sequence number, to carry on after it with a new iterator. */
  lastSequence?: string;
  /** Where a shard first read from when no record has been seen. */
  readonly start: ShardIteratorType;
}

const MAX_BACKOFF_MS = 5_000;

/**
 * Reads a DynamoDB table's stream shard by shard, as Lambda's event source mapping for a DynamoDB
 * stream does, and hands each batch of records to `handler`: the local stand-in for the waker's event
 * source. It starts at the stream's newest records (`LATEST`); shards that appear later (a split, a
 * closed shard's children) are read from their beginning. An expired iterator is replaced after the
 * last record read; a table or stream that goes away (an emulator restarted, a table made again) is
 * looked up again with backoff, its new stream read from its beginning. Records are a hint only:
 * nothing is lost when some are missed, since whoever acts on them has another way to learn of events.
 *
 * @example
 * ```ts
 * const source = new TableStreamSource({
 *   dynamodb,
 *   streams: new DynamoDBStreamsClient({ endpoint }),
 *   tableName: 'sluice-events',
 *   handler: (records) => waker.onRecords(records),
 * });
 * await source.start();
 * await source.stop();
 * ```
 */
export class TableStreamSource {
  private readonly options: TableStreamSourceOptions;
  private readonly pollIntervalMs: number;
  private readonly shardRefreshMs: number;
  private readonly onError: (error: unknown) => void;
  private readonly stopping = new AbortController();
  private readonly shards = new Map<string, ShardState>();
  private streamArn?: string;
  private attachedOnce = false;
  private refreshedAt = 0;
  private failing = false;
  private loop?: Promise<void>;
  private readonly counters: TableStreamSourceStats = {
    batches: 0,
    records: 0,
    shards: 0,
    reattached: 0,
    expiredIterators: 0,
    errors: 0,
  };

  constructor(options: TableStreamSourceOptions) {
    const problems = new OptionProblems();
    problems.handler(options?.handler);
    if (typeof options?.tableName !== 'string' || options.tableName === '')
      problems.add(`tableName must be a table name (given ${describe(options?.tableName)})`);
    for (const key of ['pollIntervalMs', 'shardRefreshMs'] as const)
      problems.wholeNumber(key, options?.[key], 10, 600_000);
    problems.throwIfAny('invalid table stream source options', options);
    this.options = options;
    this.pollIntervalMs = options.pollIntervalMs ?? 250;
    this.shardRefreshMs = options.shardRefreshMs ?? 10_000;
    this.onError = options.onError ?? ((error) => console.error('table stream reader failed', error));
  }

  /**
   * Finds the stream and its shards' newest positions, then reads on in the background. A table with
   * no stream yet, or an endpoint that does not answer, is reported and tried again in the background.
   *
   * @example
   * ```ts
   * await source.start();
   * ```
   */
  async start(): Promise<void> {
    if (this.loop) return;
    try {
      await this.attach();
    } catch (error) {
      this.fail(error);
    }
    this.loop = this.run();
  }

  /**
   * Stops reading and waits for a running handler to return.
   *
   * @example
   * ```ts
   * await source.stop();
   * ```
   */
  async stop(): Promise<void> {
    this.stopping.abort();
    await this.loop;
  }

  /**
   * A copy of the counters.
   *
   * @example
   * ```ts
   * source.stats().batches;
   * ```
   */
  stats(): TableStreamSourceStats {
    return { ...this.counters, shards: this.shards.size };
  }

  private async run(): Promise<void> {
    let backoffMs = this.pollIntervalMs;
    while (!this.stopping.signal.aborted) {
      try {
        // Now and then, the table's stream again: a table made again has a new one, and the old
        // stream of a deleted table stays readable (for 24 hours on AWS) without a word.
        if (this.streamArn === undefined || Date.now() - this.refreshedAt >= this.shardRefreshMs)
          await this.attach();
        await this.readShards();
        this.failing = false;
        backoffMs = this.pollIntervalMs;
      } catch (error) {
        // Look the stream up again before the next read.
        if (isMissing(error)) this.refreshedAt = 0;
        this.fail(error);
        backoffMs = Math.min(MAX_BACKOFF_MS, backoffMs * 2);
        await pause(backoffMs, this.stopping.signal);
        continue;
      }
      await pause(this.pollIntervalMs, this.stopping.signal);
    }
  }

  /** Finds the table's stream; its shards start at `LATEST` the first time, at their beginning after. */
  private async attach(): Promise<void> {
    const { Table } = await this.options.dynamodb.send(
      new DescribeTableCommand({ TableName: this.options.tableName }),
    );
    const arn = Table?.StreamSpecification?.StreamEnabled ? Table.LatestStreamArn : undefined;
    if (arn === undefined) throw new MissingResourceError('table stream', this.options.tableName);
    if (arn !== this.streamArn) {
      // Another stream (the table was made again): every shard of it is new to us.
      if (this.attachedOnce) this.counters.reattached += 1;
      this.shards.clear();
      this.streamArn = arn;
    }
    await this.refreshShards(this.attachedOnce ? 'TRIM_HORIZON' : 'LATEST');
    this.attachedOnce = true;
  }

  /** Adds the stream's open shards that are not read yet, from `start` (new shards: from their beginning). */
  private async refreshShards(start: ShardIteratorType = 'TRIM_HORIZON'): Promise<void> {
    const arn = this.streamArn;
    if (arn === undefined) return;
    let exclusiveStartShardId: string | undefined;
    do {
      const { StreamDescription } = await this.options.streams.send(
        new DescribeStreamCommand({
          StreamArn: arn,
          ...(exclusiveStartShardId ? { ExclusiveStartShardId: exclusiveStartShardId } : {}),
        }),
      );
      for (const shard of StreamDescription?.Shards ?? []) {
        const id = shard.ShardId;
        // A closed shard (it has an ending sequence number) was read to its end, or before our time.
        if (id === undefined || this.shards.has(id) || shard.SequenceNumberRange?.EndingSequenceNumber)
          continue;
        const state: ShardState = { start };
        // The position is taken now: `LATEST` means the newest record at the time of the lookup.
        state.iterator = await this.iteratorFor(id, state);
        this.shards.set(id, state);
      }
      exclusiveStartShardId = StreamDescription?.LastEvaluatedShardId;
    } while (exclusiveStartShardId);
    this.refreshedAt = Date.now();
  }

  private async readShards(): Promise<void> {
    let closed = false;
    for (const [shardId, shard] of this.shards) {
      if (this.stopping.signal.aborted) return;
      shard.iterator ??= await this.iteratorFor(shardId, shard);
      if (shard.iterator === undefined) continue;
      let output: GetRecordsCommandOutput;
      try {
        output = await this.options.streams.send(
          new GetRecordsCommand({ ShardIterator: shard.iterator, Limit: 1000 }),
        );
      } catch (error) {
        if (errorName(error) === 'ExpiredIteratorException') {
          this.counters.expiredIterators += 1;
          shard.iterator = undefined;
          continue;
        }
        if (errorName(error) === 'TrimmedDataAccessException') {
          // Records past the stream's retention: carry on from its oldest.
          shard.iterator = undefined;
          shard.lastSequence = undefined;
          continue;
        }
        throw error;
      }
      const records = output.Records ?? [];
      if (records.length > 0) {
        shard.lastSequence = records[records.length - 1]?.dynamodb?.SequenceNumber ?? shard.lastSequence;
        this.counters.batches += 1;
        this.counters.records += records.length;
        try {
          await this.options.handler(records);
        } catch (error) {
          this.counters.errors += 1;
          this.onError(error);
        }
      }
      if (output.NextShardIterator) shard.iterator = output.NextShardIterator;
      else {
        // The shard closed (a split, or the stream was turned off): its children hold what follows.
        this.shards.delete(shardId);
        closed = true;
      }
    }
    if (closed) await this.refreshShards();
  }

  private async iteratorFor(shardId: string, shard: ShardState): Promise<string | undefined> {
    const { ShardIterator } = await this.options.streams.send(
      new GetShardIteratorCommand({
        StreamArn: this.streamArn,
        ShardId: shardId,
        ...(shard.lastSequence
          ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: shard.lastSequence }
          : { ShardIteratorType: shard.start }),
      }),
    );
    return ShardIterator;
  }

  /** Counts every failure; reports the first of a run of them, so that an outage is said once. */
  private fail(error: unknown): void {
    this.counters.errors += 1;
    if (this.failing) return;
    this.failing = true;
    this.onError(error);
  }
}

function errorName(error: unknown): string | undefined {
  return (error as { name?: string } | undefined)?.name;
}

/** The table, its stream or a shard is gone: look the stream up again. */
function isMissing(error: unknown): boolean {
  const name = errorName(error);
  return (
    name === 'ResourceNotFoundException' ||
    (error instanceof MissingResourceError && error.resource === 'table stream')
  );
}
