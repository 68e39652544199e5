import { randomUUID } from 'node:crypto';
import {
  type AttributeValue,
  ConditionalCheckFailedException,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  TransactionCanceledException,
  type TransactWriteItem,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { CommitError, describe, LeaseLostError, ValidationError } from '../errors';
import { TABLE_NAME_PATTERN } from '../event-log/constants';
import { NAME_PATTERN, NAME_RULE } from '../event-log/names';
import { type EventFailure, storedEventOf } from '../messages/envelope';
import { sendNamingTable } from '../state/send-naming-table';
import { assertEventId } from '../time/event-id';
import { assertWholeMilliseconds } from '../validation/whole-milliseconds';
import { MarkerStore } from '../worker/marker-store';
import {
  CLAIM_DURATION_RANGE,
  CLAIM_STATUS,
  DEFAULT_FAILURE_RETENTION_SECONDS,
  DEFAULT_LIST_LIMIT,
  DEFAULT_LIST_SPAN_DAYS,
  FAILURE_STATUS,
  type FailureStatus,
  MAX_FAILURE_RETENTION_SECONDS,
  MAX_LIST_LIMIT,
  MAX_LIST_SPAN_DAYS,
  MAX_MALFORMED_BODY_BYTES,
  MAX_RECORD_JSON_BYTES,
  MIN_FAILURE_RETENTION_SECONDS,
} from './constants';
import {
  claimKey,
  daysNewestFirst,
  failureRecordKey,
  failuresPartition,
  isKeyTime,
  malformedPartition,
  malformedRecordKey,
  sortKeyRange,
  type TableKey,
} from './keys';
import { decodeListCursor, encodeListCursor } from './list-cursor';
import type {
  Claim,
  ClaimResult,
  FailurePage,
  FailureRecord,
  ListRecordsOptions,
  MalformedPage,
  MalformedRecord,
} from './records';
import { shortenErrorMessage, shortenFailure, truncateUtf8 } from './truncate';
import type { FailedEvent } from './types';

const DAY_MS = 86_400_000;

/** Options of a {@link FailureStore}. */
export interface FailureStoreOptions {
  /** The state table: string hash key `pk`, string range key `sk` (the pipeline store's table). */
  readonly tableName: string;
  /** @default a new DynamoDBClient from the environment */
  readonly client?: DynamoDBClient;
  /** @default Date.now */
  readonly clock?: () => number;
  /**
   * How long claims and records are kept, in seconds, through DynamoDB TTL on `expiresAt`: from 14 days
   * (the longest SQS keeps a message, so that a redelivered message always finds its claim) to 400 days.
   * @default 2592000 (30 days)
   */
  readonly retentionSeconds?: number;
}

/** What is known of a malformed DLQ message, for {@link FailureStore.recordMalformed}. */
export interface MalformedMessageInput {
  readonly pipeline: string;
  readonly messageId: string;
  readonly body: string;
  /** Why it is not a Sluice envelope. */
  readonly error: { readonly name: string; readonly message: string };
  /** When it was received; the message's `SentTimestamp` keeps its key the same on redelivery. @default now */
  readonly receivedAt?: number;
}

/** A failure record as stored in the item's `record` attribute. */
interface StoredFailure {
  readonly pipeline: string;
  readonly event: {
    readonly id: string;
    readonly stream: string;
    readonly type: string;
    readonly data?: unknown;
    readonly partitionKey?: string;
  };
  readonly attempts: number;
  readonly lastError: EventFailure;
  readonly failedAt: number;
  readonly dlqMessageId?: string;
  readonly handledAt?: number;
  readonly dataOmitted?: boolean;
  readonly redrive?: string;
}

/**
 * Failed events in the state table: a claim item per event, so that each is handed to the failed
 * handler once, and a failure record per event, queryable by pipeline and time (see `keys.ts` for
 * the layout). Every claim write is conditional:
 *
 * - `claim()` takes an event if no one has, or if a claim on it expired unhandled;
 * - `markHandled()` succeeds only for the holder of the claim, and a handled event is never claimed again;
 * - `release()` gives a claim up early, after a failed handler threw.
 *
 * @example
 * ```ts
 * const store = new FailureStore({ tableName: 'sluice-state' });
 * const result = await store.claim('billing', failure.event.id, 60_000, { failedAt: failure.failedAt });
 * if (result.status === 'claimed') {
 *   await notifyOps(failure);
 *   await store.markHandled(result.claim, failure);
 * }
 * const { failures, cursor } = await store.listFailures('billing', { limit: 20 });
 * ```
 */
export class FailureStore {
  readonly tableName: string;
  readonly retentionSeconds: number;
  private readonly client: DynamoDBClient;
  private readonly send: DynamoDBClient['send'];
  private readonly clock: () => number;
  private markers: MarkerStore | undefined;

  constructor(options: FailureStoreOptions) {
    const problems: string[] = [];
    if (typeof options?.tableName !== 'string' || !TABLE_NAME_PATTERN.test(options.tableName)) {
      problems.push(
        `tableName must be 3 to 255 letters, digits, '_', '-' or '.' (given ${describe(options?.tableName)})`,
      );
    }
    const retentionSeconds = options?.retentionSeconds ?? DEFAULT_FAILURE_RETENTION_SECONDS;
    if (
      !Number.isInteger(retentionSeconds) ||
      retentionSeconds < MIN_FAILURE_RETENTION_SECONDS ||
      retentionSeconds > MAX_FAILURE_RETENTION_SECONDS
    ) {
      problems.push(
        `retentionSeconds must be a whole number from ${MIN_FAILURE_RETENTION_SECONDS} (14 days, the longest SQS keeps a message) to ${MAX_FAILURE_RETENTION_SECONDS} (given ${describe(options?.retentionSeconds)})`,
      );
    }
    if (options?.clock !== undefined && typeof options.clock !== 'function') {
      problems.push(
        `clock must be a function returning epoch milliseconds (given ${describe(options.clock)})`,
      );
    }
    if (problems.length > 0) {
      throw new ValidationError(`invalid failure store options: ${problems.join('; ')}`, options);
    }
    this.tableName = options.tableName;
    this.retentionSeconds = retentionSeconds;
    this.client = options.client ?? new DynamoDBClient({});
    this.send = sendNamingTable(this.client, this.tableName, 'state table');
    this.clock = options.clock ?? Date.now;
  }

  /**
   * Takes a failed event for `durationMs`, unless it was handled already or another consumer holds it.
   * The first claim fixes the event's `failedAt` (from `options.failedAt`, or now); later claims keep it,
   * so that its record keeps one key however often its message is delivered.
   *
   * @example
   * ```ts
   * const result = await store.claim('billing', eventId, 60_000, { failedAt: lastError.at });
   * if (result.status === 'handled') return; // handed over before
   * ```
   */
  async claim(
    pipeline: string,
    eventId: string,
    durationMs: number,
    options: { failedAt?: number; redrive?: string } = {},
  ): Promise<ClaimResult> {
    checkPipeline(pipeline);
    assertEventId(eventId);
    checkClaimDuration(durationMs);
    const now = this.clock();
    const failedAt = isKeyTime(options.failedAt) ? Math.floor(options.failedAt) : now;
    const token = randomUUID();
    try {
      const output = await this.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: attributeKey(claimKey(pipeline, eventId, options.redrive)),
          UpdateExpression:
            'SET #status = :claimed, claimToken = :token, claimExpiresAt = :until, claimedAt = :now, failedAt = if_not_exists(failedAt, :failedAt), expiresAt = :ttl ADD claims :one',
          ConditionExpression: 'attribute_not_exists(pk) OR (#status = :claimed AND claimExpiresAt <= :now)',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':claimed': { S: CLAIM_STATUS.claimed },
            ':token': { S: token },
            ':until': { N: String(now + durationMs) },
            ':now': { N: String(now) },
            ':failedAt': { N: String(failedAt) },
            ':ttl': { N: String(this.expiresAt(now)) },
            ':one': { N: '1' },
          },
          ReturnValues: 'ALL_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return {
        status: 'claimed',
        claim: {
          pipeline,
          eventId,
          token,
          expiresAt: now + durationMs,
          failedAt: Number(output.Attributes?.failedAt?.N ?? failedAt),
          ...(options.redrive === undefined ? {} : { redrive: options.redrive }),
        },
      };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const item = error.Item ?? {};
      if (item.status?.S === CLAIM_STATUS.handled) {
        const handledAt = item.handledAt?.N;
        return handledAt === undefined
          ? { status: 'handled' }
          : { status: 'handled', handledAt: Number(handledAt) };
      }
      return { status: 'busy', claimExpiresAt: Number(item.claimExpiresAt?.N ?? 0) };
    }
  }

  /**
   * Gives a claim up before it expires, so that the event can be claimed again at once (after a failed
   * handler threw). Resolves to false, and changes nothing, if the claim was no longer held.
   *
   * @example
   * ```ts
   * await store.release(claim);
   * ```
   */
  async release(claim: Claim): Promise<boolean> {
    try {
      await this.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: attributeKey(claimKey(claim.pipeline, claim.eventId, claim.redrive)),
          UpdateExpression: 'SET claimExpiresAt = :zero REMOVE claimToken',
          ConditionExpression: 'claimToken = :token AND #status = :claimed',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':zero': { N: '0' },
            ':token': { S: claim.token },
            ':claimed': { S: CLAIM_STATUS.claimed },
          },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /**
   * The worker's idempotency markers in the same table: the dead-letter consumer reads them to leave
   * out the events of a message SQS moved that had already succeeded.
   *
   * @example
   * ```ts
   * const found = await store.markerStore().getMany('billing', [markerKeyOf(envelope)]);
   * ```
   */
  markerStore(): MarkerStore {
    this.markers ??= new MarkerStore({ tableName: this.tableName, client: this.client });
    return this.markers;
  }

  /**
   * Writes the record of a failed event as `pending`: visible in `listFailures()` before, and even if
   * never, the failed handler accepts it. Never turns a handled record back to pending.
   *
   * @example
   * ```ts
   * await store.recordFailure({ ...failure, failedAt: claim.failedAt }, { dlqMessageId: record.messageId });
   * ```
   */
  async recordFailure(failure: FailedEvent, options: { dlqMessageId?: string } = {}): Promise<void> {
    checkPipeline(failure.pipeline);
    assertEventId(failure.event.id);
    try {
      await this.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: this.failureItem(failure, FAILURE_STATUS.pending, options.dlqMessageId, undefined),
          ConditionExpression: 'attribute_not_exists(pk) OR #status = :pending',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':pending': { S: FAILURE_STATUS.pending } },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  /**
   * Marks a claimed event handled and writes its record as `handled`, in one transaction. From then on
   * the event is never claimed again.
   *
   * @throws `LeaseLostError` (lease `failed-event claim`) when the claim is no longer held (it expired and another consumer took the
   * event, or it was released); nothing is written then.
   *
   * @example
   * ```ts
   * await failedHandler([failure], context);
   * await store.markHandled(claim, failure, { dlqMessageId: record.messageId });
   * ```
   */
  async markHandled(
    claim: Claim,
    failure: FailedEvent,
    options: {
      dlqMessageId?: string;
      /**
       * Runs the marking transaction in place of a plain `TransactWriteItems`: the dead-letter consumer
       * passes `(writes) => eventLog.commitWith(outputs, writes)`, so that what the failed handler
       * committed for this event lands with its mark, or neither does.
       */
      transact?: (writes: TransactWriteItem[]) => Promise<unknown>;
    } = {},
  ): Promise<FailureRecord> {
    checkPipeline(failure.pipeline);
    if (
      failure.event.id !== claim.eventId ||
      failure.pipeline !== claim.pipeline ||
      failure.redrive !== claim.redrive
    ) {
      throw new ValidationError(
        `the failure (event ${failure.event.id} of pipeline '${failure.pipeline}') is not the claimed one (event ${claim.eventId} of pipeline '${claim.pipeline}')`,
        { claim, eventId: failure.event.id },
      );
    }
    const now = this.clock();
    const recorded: FailedEvent = { ...failure, failedAt: claim.failedAt };
    const item = this.failureItem(recorded, FAILURE_STATUS.handled, options.dlqMessageId, now);
    try {
      const writes: TransactWriteItem[] = [
        {
          Update: {
            TableName: this.tableName,
            Key: attributeKey(claimKey(claim.pipeline, claim.eventId, claim.redrive)),
            UpdateExpression:
              'SET #status = :handled, handledAt = :now, expiresAt = :ttl REMOVE claimToken, claimExpiresAt',
            ConditionExpression: 'claimToken = :token AND #status = :claimed',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: {
              ':handled': { S: CLAIM_STATUS.handled },
              ':claimed': { S: CLAIM_STATUS.claimed },
              ':token': { S: claim.token },
              ':now': { N: String(now) },
              ':ttl': { N: String(this.expiresAt(now)) },
            },
          },
        },
        {
          Put: { TableName: this.tableName, Item: item },
        },
      ];
      if (options.transact) await options.transact(writes);
      else await this.send(new TransactWriteItemsCommand({ TransactItems: writes }));
    } catch (error) {
      const claimRefused =
        (error instanceof TransactionCanceledException &&
          error.CancellationReasons?.[0]?.Code === 'ConditionalCheckFailed') ||
        // Through `EventLog.commitWith`, the claim is the first of the other writes.
        (error instanceof CommitError && error.otherWriteReasons[0] === 'ConditionalCheckFailed');
      if (claimRefused) {
        throw new LeaseLostError(
          {
            lease: 'failed-event claim',
            pipeline: claim.pipeline,
            eventId: claim.eventId,
            reason: await this.whyLost(claim),
          },
          { cause: error },
        );
      }
      throw error;
    }
    return parseFailure(item);
  }

  /**
   * The record of one failed event, or `undefined` if none was written: of its first failure, or of
   * its failure after the redrive named in `options.redrive`.
   *
   * @example
   * ```ts
   * const record = await store.getFailure('billing', eventId);
   * record?.status; // 'handled'
   * ```
   */
  async getFailure(
    pipeline: string,
    eventId: string,
    options: { redrive?: string } = {},
  ): Promise<FailureRecord | undefined> {
    checkPipeline(pipeline);
    assertEventId(eventId);
    const claim = await this.send(
      new GetItemCommand({
        TableName: this.tableName,
        Key: attributeKey(claimKey(pipeline, eventId, options.redrive)),
        ConsistentRead: true,
      }),
    );
    const failedAt = claim.Item?.failedAt?.N;
    if (failedAt === undefined) return undefined;
    const output = await this.send(
      new GetItemCommand({
        TableName: this.tableName,
        Key: attributeKey(failureRecordKey(pipeline, Number(failedAt), eventId)),
        ConsistentRead: true,
      }),
    );
    return output.Item ? parseFailure(output.Item) : undefined;
  }

  /**
   * Marks a handled failure record as redriven: its event went back to the pipeline's queue as
   * `redrivenAs`. Only a `handled` record turns `redriven`, once; resolves to false, and changes
   * nothing, when the record is not handled (still pending, or redriven already).
   *
   * @example
   * ```ts
   * if (await store.markRedriven(record, { redrivenAs })) moved += 1;
   * ```
   */
  async markRedriven(
    record: Pick<FailureRecord, 'pipeline' | 'failedAt' | 'event'>,
    options: { redrivenAs: string },
  ): Promise<boolean> {
    checkPipeline(record.pipeline);
    assertEventId(record.event.id);
    try {
      await this.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: attributeKey(failureRecordKey(record.pipeline, record.failedAt, record.event.id)),
          UpdateExpression: 'SET #status = :redriven, redrivenAt = :now, redrivenAs = :as',
          ConditionExpression: '#status = :handled',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':redriven': { S: FAILURE_STATUS.redriven },
            ':handled': { S: FAILURE_STATUS.handled },
            ':now': { N: String(this.clock()) },
            ':as': { S: options.redrivenAs },
          },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /**
   * A pipeline's failure records, newest first, from `to` back to `from` (both included), a page at a
   * time: pass the `cursor` of a page, with the same `from` and `to`, to get the next.
   *
   * @throws `ValidationError` for a bad range, limit or cursor, naming the value.
   *
   * @example
   * ```ts
   * let page = await store.listFailures('billing', { from: Date.now() - 86_400_000, limit: 50 });
   * while (page.cursor) page = await store.listFailures('billing', { from, to, cursor: page.cursor });
   * ```
   */
  async listFailures(pipeline: string, options: ListRecordsOptions = {}): Promise<FailurePage> {
    const { items, cursor } = await this.listDays(
      (day) => failuresPartition(pipeline, day),
      pipeline,
      options,
      parseFailure,
    );
    return cursor === undefined ? { failures: items } : { failures: items, cursor };
  }

  /**
   * Records a DLQ message whose body is not a Sluice envelope: the body (cut to 64 KiB), the message id
   * and why it was refused. Writing the same message again (same id and `receivedAt`) overwrites its record.
   *
   * @example
   * ```ts
   * await store.recordMalformed({ pipeline: 'billing', messageId, body, error, receivedAt: Number(sentTimestamp) });
   * ```
   */
  async recordMalformed(input: MalformedMessageInput): Promise<MalformedRecord> {
    checkPipeline(input.pipeline);
    if (typeof input.messageId !== 'string' || input.messageId === '') {
      throw new ValidationError(
        `messageId must be a non-empty string (given ${describe(input.messageId)})`,
        input.messageId,
      );
    }
    const now = this.clock();
    const receivedAt = isKeyTime(input.receivedAt) ? Math.floor(input.receivedAt) : now;
    const body = truncateUtf8(String(input.body), MAX_MALFORMED_BODY_BYTES);
    const record: MalformedRecord = {
      pipeline: input.pipeline,
      messageId: input.messageId,
      body: body.text,
      bodyBytes: body.bytes,
      bodyTruncated: body.truncated,
      error: {
        name: String(input.error.name),
        message: shortenErrorMessage(String(input.error.message)),
      },
      receivedAt,
    };
    await this.send(
      new PutItemCommand({
        TableName: this.tableName,
        Item: {
          ...attributeKey(malformedRecordKey(input.pipeline, receivedAt, input.messageId)),
          messageId: { S: input.messageId },
          record: { S: JSON.stringify(record) },
          expiresAt: { N: String(this.expiresAt(now)) },
        },
      }),
    );
    return record;
  }

  /**
   * A pipeline's malformed message records, newest first, paged like {@link listFailures}.
   *
   * @example
   * ```ts
   * const { records } = await store.listMalformed('billing', { limit: 10 });
   * ```
   */
  async listMalformed(pipeline: string, options: ListRecordsOptions = {}): Promise<MalformedPage> {
    const { items, cursor } = await this.listDays(
      (day) => malformedPartition(pipeline, day),
      pipeline,
      options,
      (item) => JSON.parse(item.record?.S ?? '{}') as MalformedRecord,
    );
    return cursor === undefined ? { records: items } : { records: items, cursor };
  }

  /** Reads day partitions from `to` back to `from`, newest first, until `limit` items are found. */
  private async listDays<T>(
    partition: (day: string) => string,
    pipeline: string,
    options: ListRecordsOptions,
    parse: (item: Record<string, AttributeValue>) => T,
  ): Promise<{ items: T[]; cursor?: string }> {
    checkPipeline(pipeline);
    const { fromMs, toMs, limit } = this.listRange(options);
    const days = daysNewestFirst(fromMs, toMs);
    let first = 0;
    let startKey: Record<string, AttributeValue> | undefined;
    if (options.cursor !== undefined) {
      const position = decodeListCursor(options.cursor);
      first = days.indexOf(position.day);
      if (first < 0) {
        throw new ValidationError(
          `cursor points at day ${position.day}, outside the listing's range of ${days.at(-1)} to ${days[0]}: pass the same from and to as the listing that returned it`,
          options.cursor,
        );
      }
      if (position.sortKey !== undefined) {
        startKey = attributeKey({ pk: partition(position.day), sk: position.sortKey });
      }
    }
    const range = sortKeyRange(fromMs, toMs);
    const items: T[] = [];
    for (let index = first; index < days.length; index += 1) {
      const day = days[index] as string;
      let exclusiveStartKey = index === first ? startKey : undefined;
      do {
        const output = await this.send(
          new QueryCommand({
            TableName: this.tableName,
            KeyConditionExpression: 'pk = :pk AND sk BETWEEN :low AND :high',
            ExpressionAttributeValues: {
              ':pk': { S: partition(day) },
              ':low': { S: range.low },
              ':high': { S: range.high },
            },
            ScanIndexForward: false,
            Limit: limit - items.length,
            ExclusiveStartKey: exclusiveStartKey,
            ConsistentRead: true,
          }),
        );
        for (const item of output.Items ?? []) items.push(parse(item));
        exclusiveStartKey = output.LastEvaluatedKey;
        if (items.length >= limit) {
          const lastKey = exclusiveStartKey?.sk?.S;
          if (lastKey !== undefined) return { items, cursor: encodeListCursor({ day, sortKey: lastKey }) };
          const next = days[index + 1];
          return next === undefined ? { items } : { items, cursor: encodeListCursor({ day: next }) };
        }
      } while (exclusiveStartKey);
    }
    return { items };
  }

  private listRange(options: ListRecordsOptions): { fromMs: number; toMs: number; limit: number } {
    const problems: string[] = [];
    const toMs = options.to === undefined ? this.clock() : instantMs(options.to);
    const fromMs =
      options.from === undefined ? toMs - DEFAULT_LIST_SPAN_DAYS * DAY_MS : instantMs(options.from);
    const limit = options.limit ?? DEFAULT_LIST_LIMIT;
    if (!isKeyTime(toMs))
      problems.push(`to must be a time from 1970 to 9999 (given ${describe(options.to)})`);
    if (!isKeyTime(fromMs))
      problems.push(`from must be a time from 1970 to 9999 (given ${describe(options.from)})`);
    if (isKeyTime(fromMs) && isKeyTime(toMs)) {
      if (fromMs > toMs) {
        problems.push(
          `from must not be after to (given from ${new Date(fromMs).toISOString()}, to ${new Date(toMs).toISOString()})`,
        );
      } else if (toMs - fromMs > MAX_LIST_SPAN_DAYS * DAY_MS) {
        problems.push(
          `from and to must be at most ${MAX_LIST_SPAN_DAYS} days apart (given ${Math.ceil((toMs - fromMs) / DAY_MS)} days)`,
        );
      }
    }
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT) {
      problems.push(
        `limit must be a whole number from 1 to ${MAX_LIST_LIMIT} (given ${describe(options.limit)})`,
      );
    }
    if (problems.length > 0) throw new ValidationError(`invalid listing: ${problems.join('; ')}`, options);
    return { fromMs, toMs, limit };
  }

  private failureItem(
    failure: FailedEvent,
    status: FailureStatus,
    dlqMessageId: string | undefined,
    handledAt: number | undefined,
  ): Record<string, AttributeValue> {
    const { event } = failure;
    const stored: StoredFailure = {
      pipeline: failure.pipeline,
      event: {
        id: event.id,
        stream: event.stream,
        type: event.type,
        data: event.data,
        ...(event.partitionKey === undefined ? {} : { partitionKey: event.partitionKey }),
      },
      attempts: failure.attempts,
      lastError: shortenFailure({
        name: failure.lastError.name,
        message: failure.lastError.message,
        at: failure.lastError.at,
      }),
      failedAt: failure.failedAt,
      ...(dlqMessageId === undefined ? {} : { dlqMessageId }),
      ...(handledAt === undefined ? {} : { handledAt }),
      ...(failure.redrive === undefined ? {} : { redrive: failure.redrive }),
    };
    return {
      ...attributeKey(failureRecordKey(failure.pipeline, failure.failedAt, event.id)),
      eventId: { S: event.id },
      status: { S: status },
      failedAt: { N: String(failure.failedAt) },
      record: { S: fitRecord(stored) },
      expiresAt: { N: String(this.expiresAt(handledAt ?? this.clock())) },
    };
  }

  private async whyLost(claim: Claim): Promise<string> {
    const output = await this.client
      .send(
        new GetItemCommand({
          TableName: this.tableName,
          Key: attributeKey(claimKey(claim.pipeline, claim.eventId, claim.redrive)),
          ConsistentRead: true,
        }),
      )
      .catch(() => undefined);
    const item = output?.Item;
    if (!item) return 'its claim item is gone';
    if (item.status?.S === CLAIM_STATUS.handled) return 'another consumer handled it';
    if (item.claimToken?.S === undefined) return 'the claim was released';
    return 'the claim expired and another consumer took the event';
  }

  private expiresAt(nowMs: number): number {
    return Math.floor(nowMs / 1000) + this.retentionSeconds;
  }
}

/** The record's JSON, without the event's data if too large (its error message is already short). */
function fitRecord(stored: StoredFailure): string {
  const whole = JSON.stringify(stored);
  if (Buffer.byteLength(whole) <= MAX_RECORD_JSON_BYTES) return whole;
  const { data: _data, ...event } = stored.event;
  return JSON.stringify({ ...stored, event, dataOmitted: true } satisfies StoredFailure);
}

function parseFailure(item: Record<string, AttributeValue>): FailureRecord {
  const stored = JSON.parse(item.record?.S ?? '{}') as StoredFailure;
  const { event } = stored;
  return {
    pipeline: stored.pipeline,
    event: storedEventOf(event.stream, event),
    attempts: stored.attempts,
    lastError: stored.lastError,
    failedAt: stored.failedAt,
    status: (item.status?.S as FailureStatus | undefined) ?? FAILURE_STATUS.pending,
    ...(stored.dlqMessageId === undefined ? {} : { dlqMessageId: stored.dlqMessageId }),
    ...(stored.handledAt === undefined ? {} : { handledAt: stored.handledAt }),
    ...(stored.dataOmitted ? { dataOmitted: true } : {}),
    ...(stored.redrive === undefined ? {} : { redrive: stored.redrive }),
    ...(item.redrivenAt?.N === undefined ? {} : { redrivenAt: Number(item.redrivenAt.N) }),
    ...(item.redrivenAs?.S === undefined ? {} : { redrivenAs: item.redrivenAs.S }),
  };
}

function attributeKey(key: TableKey): Record<string, AttributeValue> {
  return { pk: { S: key.pk }, sk: { S: key.sk } };
}

function instantMs(value: Date | number): number {
  return value instanceof Date ? value.getTime() : value;
}

function checkPipeline(pipeline: string): void {
  if (typeof pipeline !== 'string' || !NAME_PATTERN.test(pipeline)) {
    throw new ValidationError(`pipeline name ${describe(pipeline)} is invalid: ${NAME_RULE}`, pipeline);
  }
}

function checkClaimDuration(durationMs: number): void {
  assertWholeMilliseconds('claim duration', durationMs, CLAIM_DURATION_RANGE);
}
