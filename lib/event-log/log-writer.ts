import { randomUUID } from 'node:crypto';
import {
  type AttributeValue,
  ConditionalCheckFailedException,
  PutItemCommand,
  type TransactWriteItem,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { runLimited } from '../collections/run-limited';
import {
  BatchCommitError,
  type BatchCommitOutcome,
  CommitError,
  CommitOutcomeUnknownError,
  SluiceError,
  TooLargeError,
} from '../errors';
import {
  EventIdGenerator,
  eventIdToEpochMs,
  largestEventIdAt,
  MAX_RUN_LENGTH,
  runIds,
} from '../time/event-id';
import { TIME_BUCKET_MS, timeBucketOf, timeBucketStartMs } from '../time/time-bucket';
import {
  commitFailure,
  errorName,
  eventIdsInInputOrder,
  isConclusiveRefusal,
  isOwnItem,
  type PreparedSegment,
  type SegmentPiece,
} from './commit-outcome';
import { ATTRIBUTES, MAX_ITEM_BYTES, MAX_TRANSACTION_BYTES, MAX_TRANSACTION_ITEMS } from './constants';
import type { SerializedEvent } from './inputs';
import { itemSizeBytes } from './item-size';
import { bucketIndexPartitionKey, chooseShard, eventPartitionKey } from './keys';
import type { LogContext } from './log-streams';
import { encodeSegment, type SegmentEntry, segmentItem } from './segment';
import type { StreamTiming } from './stream-timing';

const MAX_ID_ATTEMPTS = 3;

/**
 * The log's commit path: splits checked events into segments, gives them ids, records their hours in
 * the bucket index and writes them, all at once or not at all; and says what became of a commit that
 * failed. What the commits of `EventLog` are made of.
 *
 * @example
 * ```ts
 * const streams = new LogStreams(client, 'sluice-events', {}, {}, {});
 * const writer = new LogWriter({ client, tableName: 'sluice-events', clock: Date.now, serverClock: serverClockOf(client), streams });
 * const [id] = await writer.commit([serializeEvent({ stream: 'orders', type: 'order.placed', data: {} })]);
 * ```
 */
export class LogWriter {
  private readonly ids: EventIdGenerator;
  /** Ids are not taken below this (DynamoDB's clock, less the writer's margin); set before each commit. */
  private idFloorMs = Number.NEGATIVE_INFINITY;
  private readonly indexedShards = new Set<string>();
  /** Index writes under way, by (stream, hour, shard). */
  private readonly indexing = new Map<string, Promise<void>>();
  private roundRobin = 0;

  constructor(
    private readonly context: LogContext,
    idGenerator?: EventIdGenerator,
  ) {
    // Ids never trail DynamoDB's clock by more than the writer's margin, whatever this machine's clock says.
    this.ids = idGenerator ?? new EventIdGenerator({ now: () => Math.max(context.clock(), this.idFloorMs) });
  }

  /**
   * Commits events atomically, with `alsoWrite` before them in the same transaction, and resolves to
   * their ids in input order.
   */
  async commit(
    serialized: readonly SerializedEvent[],
    alsoWrite: readonly TransactWriteItem[] = [],
  ): Promise<string[]> {
    for (const event of serialized) this.checkSize(event);
    // The strictest timing of the streams written: the shortest deadline, the smallest margin.
    const timings = await this.commitTimings(serialized);
    const deadlineMs = Math.min(...timings.map((timing) => timing.commitDeadlineMs));
    const writerMarginMs = Math.min(...timings.map((timing) => timing.writerMarginMs));
    const pieces = this.segmentPieces(serialized);
    for (let attempt = 1; ; attempt += 1) {
      const assignedAtMs = this.context.clock();
      const latest = this.context.serverClock.bounds()?.latest;
      this.idFloorMs = latest === undefined ? Number.NEGATIVE_INFINITY : Math.ceil(latest - writerMarginMs);
      const prepared = pieces.map((piece) => this.prepare(piece));
      await this.ensureIndexed(prepared);
      const remainingMs = deadlineMs - (this.context.clock() - assignedAtMs);
      // Ids that went stale while the index was written are replaced: nothing was written under them.
      if (remainingMs < deadlineMs / 2) {
        if (attempt < MAX_ID_ATTEMPTS) continue;
        throw new CommitError(
          `could not commit within the commit deadline of ${deadlineMs} ms: writing the bucket index took too long; nothing was written`,
          { eventIds: eventIdsInInputOrder(prepared), reasons: serialized.map(() => 'None') },
        );
      }
      await this.write(prepared, remainingMs, assignedAtMs, deadlineMs, alsoWrite);
      return eventIdsInInputOrder(prepared);
    }
  }

  /**
   * Commits each event on its own, `concurrency` at a time in input order, and resolves to the ids in
   * input order. When one fails, no further event is started; those in flight finish, and a
   * `BatchCommitError` says what became of each event.
   */
  async commitEach(serialized: readonly SerializedEvent[], concurrency: number): Promise<string[]> {
    const outcomes: BatchCommitOutcome[] = serialized.map(() => ({ status: 'not-attempted' }));
    let firstFailure: unknown;
    await runLimited(
      serialized.map((_, index) => index),
      concurrency,
      async (index) => {
        try {
          const [id] = await this.commit([serialized[index] as SerializedEvent]);
          outcomes[index] = { status: 'committed', id: id as string };
        } catch (error) {
          firstFailure ??= error;
          outcomes[index] =
            error instanceof CommitOutcomeUnknownError
              ? { status: 'unknown', id: error.eventIds[0] as string, error }
              : { status: 'failed', error: error as Error };
        }
      },
      { stopWhen: () => firstFailure !== undefined },
    );
    if (firstFailure !== undefined) throw new BatchCommitError(outcomes, { cause: firstFailure });
    return outcomes.map((outcome) => (outcome as { id: string }).id);
  }

  /** The timing of every stream a commit writes to; nothing is written when one cannot be had. */
  private async commitTimings(serialized: readonly SerializedEvent[]): Promise<StreamTiming[]> {
    const streams = [...new Set(serialized.map((event) => event.input.stream))];
    try {
      return await Promise.all(streams.map((stream) => this.context.streams.timingOf(stream)));
    } catch (error) {
      if (error instanceof SluiceError) throw error;
      const awsName = errorName(error);
      const reason =
        awsName === 'ResourceNotFoundException'
          ? `the event log table '${this.context.tableName}' does not exist (${(error as Error).message})`
          : `the timing of stream ${streams.map((stream) => `'${stream}'`).join(', ')} could not be read: ${awsName}: ${(error as Error).message}`;
      throw new CommitError(
        `${reason}; nothing was written`,
        { eventIds: [], reasons: serialized.map(() => awsName) },
        { cause: error },
      );
    }
  }

  /**
   * Splits a commit into the segments it is stored as: each run of consecutive events of one stream,
   * in one write shard, compressed; split further only where one item would pass DynamoDB's limit.
   * Segments take their ids in input order, so a commit's ids increase in the order it was given.
   */
  private segmentPieces(serialized: readonly SerializedEvent[]): SegmentPiece[] {
    const runs: number[][] = [];
    serialized.forEach((event, index) => {
      const run = runs.at(-1);
      const previous = run === undefined ? undefined : serialized[run[0] as number];
      if (run && previous?.input.stream === event.input.stream) run.push(index);
      else runs.push([index]);
    });
    const pieces: SegmentPiece[] = [];
    for (const run of runs) {
      const first = serialized[run[0] as number] as SerializedEvent;
      const stream = first.input.stream;
      const writeShards = this.context.streams.settingsOf(stream).writeShards ?? 1;
      this.roundRobin = (this.roundRobin + 1) % 1_000_000;
      const shard = chooseShard(writeShards, first.input.partitionKey, this.roundRobin);
      const widestKey = eventPartitionKey(stream, timeBucketOf(0), writeShards - 1);
      const split = (part: readonly number[]): void => {
        const entries = part.map((index) => segmentEntryOf(serialized[index] as SerializedEvent));
        const encoded = encodeSegment(entries);
        const widestIds = Array.from({ length: part.length }, () => largestEventIdAt(0));
        const sizeBytes = itemSizeBytes(segmentItem(widestKey, widestIds, entries, encoded, 0));
        if ((sizeBytes > MAX_ITEM_BYTES || part.length > MAX_RUN_LENGTH) && part.length > 1) {
          const half = Math.ceil(part.length / 2);
          split(part.slice(0, half));
          split(part.slice(half));
          return;
        }
        pieces.push({ stream, shard, indexes: part, entries, encoded });
      };
      split(run);
    }
    return pieces;
  }

  /** Gives a segment its ids (one run, so its events sort together) and its item. */
  private prepare(piece: SegmentPiece): PreparedSegment {
    const ids = runIds(this.ids.next(), piece.indexes.length);
    const idMs = eventIdToEpochMs(ids[0] as string);
    const bucket = timeBucketOf(idMs);
    const retention = this.context.streams.settingsOf(piece.stream).retentionSeconds;
    const expiresAt = retention === undefined ? undefined : Math.floor(idMs / 1000) + retention;
    const partitionKey = eventPartitionKey(piece.stream, bucket, piece.shard);
    return {
      ...piece,
      ids,
      bucket,
      item: segmentItem(partitionKey, ids, piece.entries, piece.encoded, expiresAt),
    };
  }

  /** Throws `TooLargeError` with what `event` before anything is sent when an event would be over the item limit. */
  private checkSize(event: SerializedEvent): void {
    const { input, json } = event;
    const writeShards = this.context.streams.settingsOf(input.stream).writeShards ?? 1;
    // As an item of its own, uncompressed, with the widest key it can get: it then fits in any
    // segment, and in a message to a queue.
    const item: Record<string, AttributeValue> = {
      [ATTRIBUTES.partitionKey]: { S: eventPartitionKey(input.stream, timeBucketOf(0), writeShards - 1) },
      [ATTRIBUTES.sortKey]: { S: largestEventIdAt(0) },
      [ATTRIBUTES.type]: { S: input.type },
      [ATTRIBUTES.data]: { S: json },
    };
    const retention = this.context.streams.settingsOf(input.stream).retentionSeconds;
    if (retention !== undefined) {
      item[ATTRIBUTES.expiresAt] = {
        N: String(Math.floor(Math.max(0, this.context.clock()) / 1000) + retention),
      };
    }
    if (input.partitionKey !== undefined) item[ATTRIBUTES.eventPartitionKey] = { S: input.partitionKey };
    const sizeBytes = itemSizeBytes(item);
    if (sizeBytes > MAX_ITEM_BYTES) {
      throw new TooLargeError({
        what: 'event',
        stream: input.stream,
        type: input.type,
        sizeBytes,
        limitBytes: MAX_ITEM_BYTES,
      });
    }
  }

  /**
   * Records each (stream, hour, shard) in the bucket index before any event is written there. The
   * entry's expiry only ever grows: writers with different retentions index the same hour, and the
   * entry must outlive every event it leads to (a writer that keeps events for ever removes it).
   */
  private async ensureIndexed(prepared: readonly PreparedSegment[]): Promise<void> {
    const missing = new Map<string, PreparedSegment>();
    for (const event of prepared) {
      const key = `${event.stream}#${event.bucket}#${event.shard}`;
      if (!this.indexedShards.has(key)) missing.set(key, event);
    }
    await Promise.all(
      [...missing].map(async ([key, event]) => {
        // Commits running at once that start the same hour wait for one index write, not one each.
        let indexing = this.indexing.get(key);
        if (!indexing) {
          indexing = this.index(event).then(
            () => {
              this.indexedShards.add(key);
              this.indexing.delete(key);
            },
            (error: unknown) => {
              this.indexing.delete(key);
              throw error;
            },
          );
          this.indexing.set(key, indexing);
        }
        try {
          await indexing;
        } catch (error) {
          throw commitFailure(error, prepared, this.context.tableName);
        }
      }),
    );
  }

  /** Adds one (stream, hour, shard) to the bucket index, growing the entry's expiry if need be. */
  private async index(event: PreparedSegment): Promise<void> {
    const retention = this.context.streams.settingsOf(event.stream).retentionSeconds;
    const bucketEndsAt = Math.floor((timeBucketStartMs(event.bucket) + TIME_BUCKET_MS) / 1000);
    const update = (expiry: 'extend' | 'keep' | 'remove') =>
      this.context.client.send(
        new UpdateItemCommand({
          TableName: this.context.tableName,
          Key: {
            [ATTRIBUTES.partitionKey]: { S: bucketIndexPartitionKey(event.stream) },
            [ATTRIBUTES.sortKey]: { S: event.bucket },
          },
          UpdateExpression: {
            extend: 'SET #expiresAt = :expiresAt ADD #shards :shard',
            keep: 'ADD #shards :shard',
            remove: 'REMOVE #expiresAt ADD #shards :shard',
          }[expiry],
          ExpressionAttributeNames: {
            '#shards': ATTRIBUTES.shards,
            ...(expiry === 'keep' ? {} : { '#expiresAt': ATTRIBUTES.expiresAt }),
            ...(expiry === 'extend' ? { '#pk': ATTRIBUTES.partitionKey } : {}),
          },
          ExpressionAttributeValues: {
            ':shard': { NS: [String(event.shard)] },
            ...(expiry === 'extend' ? { ':expiresAt': { N: String(bucketEndsAt + (retention ?? 0)) } } : {}),
          },
          // A missing expiry on an existing entry means "kept for ever", which a later one must not shorten.
          ...(expiry === 'extend'
            ? { ConditionExpression: 'attribute_not_exists(#pk) OR #expiresAt < :expiresAt' }
            : {}),
        }),
      );
    await update(retention === undefined ? 'remove' : 'extend').catch((error: unknown) => {
      if (error instanceof ConditionalCheckFailedException) return update('keep');
      throw error;
    });
  }

  private async write(
    prepared: readonly PreparedSegment[],
    remainingMs: number,
    assignedAtMs: number,
    deadlineMs: number,
    alsoWrite: readonly TransactWriteItem[],
  ): Promise<void> {
    const abortSignal = AbortSignal.timeout(Math.max(1, Math.floor(remainingMs)));
    const notThere = `attribute_not_exists(${ATTRIBUTES.partitionKey})`;
    const single = prepared.length === 1 && alsoWrite.length === 0 ? prepared[0] : undefined;
    // Both forms are safe to send again: the SDK's retry of a put whose first response was lost finds
    // its own item (returned with the failed condition), and a transaction carries one request token
    // for all its attempts, which DynamoDB answers as the first attempt did.
    const command = single
      ? new PutItemCommand({
          TableName: this.context.tableName,
          Item: single.item,
          ConditionExpression: notThere,
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        })
      : new TransactWriteItemsCommand({
          ClientRequestToken: randomUUID(),
          TransactItems: [
            ...alsoWrite,
            ...prepared.map((segment) => ({
              Put: { TableName: this.context.tableName, Item: segment.item, ConditionExpression: notThere },
            })),
          ],
        });
    try {
      await this.context.client.send(command as PutItemCommand, { abortSignal });
    } catch (error) {
      if (single && isOwnItem(error, single.item)) return; // an earlier attempt of this very put landed
      const eventIds = eventIdsInInputOrder(prepared);
      if (abortSignal.aborted) {
        throw new CommitOutcomeUnknownError(
          { eventIds, elapsedMs: this.context.clock() - assignedAtMs, deadlineMs },
          { cause: error },
        );
      }
      if (!isConclusiveRefusal(error)) {
        throw new CommitOutcomeUnknownError(
          {
            eventIds,
            elapsedMs: this.context.clock() - assignedAtMs,
            deadlineMs,
            reason: `failed with ${errorName(error)} (${(error as Error).message}), which does not say whether DynamoDB applied it`,
          },
          { cause: error },
        );
      }
      throw commitFailure(error, prepared, this.context.tableName, alsoWrite.length);
    }
  }
}

/**
 * Throws `TooLargeError` with what `transaction` before anything is sent when a commit, with `otherWrites` writes of
 * the caller's, would pass what one DynamoDB transaction takes.
 */
export function checkTransactionSize(serialized: readonly SerializedEvent[], otherWrites = 0): void {
  const sizeBytes = serialized.reduce((sum, event) => sum + Buffer.byteLength(event.json) + 200, 0);
  if (serialized.length + otherWrites > MAX_TRANSACTION_ITEMS || sizeBytes > MAX_TRANSACTION_BYTES) {
    throw new TooLargeError({
      what: 'transaction',
      eventCount: serialized.length + otherWrites,
      sizeBytes,
      maxEvents: MAX_TRANSACTION_ITEMS,
      maxBytes: MAX_TRANSACTION_BYTES,
    });
  }
}

/** An event as a segment stores it: its type, its data's JSON and its partition key. */
function segmentEntryOf(event: SerializedEvent): SegmentEntry {
  const { type, partitionKey } = event.input;
  return partitionKey === undefined ? { type, json: event.json } : { type, json: event.json, partitionKey };
}
