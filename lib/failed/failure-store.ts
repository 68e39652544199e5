import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { describe, ValidationError } from '../errors';
import { tableNameProblem } from '../event-log/names';
import { failuresPartition, malformedPartition } from '../state/keys';
import { type Item, openStateTable } from '../state/state-table';
import { MarkerStore } from '../worker/marker-store';
import { claimEvent, releaseClaim } from './claims';
import {
  DEFAULT_FAILURE_RETENTION_SECONDS,
  MAX_FAILURE_RETENTION_SECONDS,
  MIN_FAILURE_RETENTION_SECONDS,
} from './constants';
import type { FailureTable } from './failure-items';
import { parseFailure, parseMalformed } from './failure-items';
import {
  getFailure,
  type MalformedMessageInput,
  type MarkHandledOptions,
  markHandled,
  markRedriven,
  recordFailure,
  recordMalformed,
} from './failure-records';
import { listDays } from './record-listing';
import type {
  Claim,
  ClaimResult,
  FailurePage,
  FailureRecord,
  ListRecordsOptions,
  MalformedPage,
  MalformedRecord,
} from './records';
import type { FailedEvent } from './types';

export type { MalformedMessageInput } from './failure-records';

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

/**
 * Failed events in the state table: a claim item per event, so that each is handed to the failed
 * handler once, and a failure record per event, queryable by pipeline and time (see
 * `lib/state/keys.ts` for the layout). Every claim write is conditional:
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
  private readonly table: FailureTable;
  private markers: MarkerStore | undefined;

  constructor(options: FailureStoreOptions) {
    const problems: string[] = [];
    const tableProblem = tableNameProblem(options?.tableName);
    if (tableProblem !== undefined) problems.push(tableProblem);
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
    const { client, table } = openStateTable(options);
    this.client = client;
    this.table = { ...table, clock: options.clock ?? Date.now, retentionSeconds };
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
  claim(
    pipeline: string,
    eventId: string,
    durationMs: number,
    options: { failedAt?: number; redrive?: string } = {},
  ): Promise<ClaimResult> {
    return claimEvent(this.table, pipeline, eventId, durationMs, options);
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
  release(claim: Claim): Promise<boolean> {
    return releaseClaim(this.table, claim);
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
  recordFailure(failure: FailedEvent, options: { dlqMessageId?: string } = {}): Promise<void> {
    return recordFailure(this.table, failure, options);
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
  markHandled(claim: Claim, failure: FailedEvent, options: MarkHandledOptions = {}): Promise<FailureRecord> {
    return markHandled(this.table, claim, failure, options);
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
  getFailure(
    pipeline: string,
    eventId: string,
    options: { redrive?: string } = {},
  ): Promise<FailureRecord | undefined> {
    return getFailure(this.table, pipeline, eventId, options);
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
  markRedriven(
    record: Pick<FailureRecord, 'pipeline' | 'failedAt' | 'event'>,
    options: { redrivenAs: string },
  ): Promise<boolean> {
    return markRedriven(this.table, record, options);
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
    const { items, cursor } = await this.listDays(failuresPartition, pipeline, options, parseFailure);
    return { failures: items, ...withCursor(cursor) };
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
  recordMalformed(input: MalformedMessageInput): Promise<MalformedRecord> {
    return recordMalformed(this.table, input);
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
    const { items, cursor } = await this.listDays(malformedPartition, pipeline, options, parseMalformed);
    return { records: items, ...withCursor(cursor) };
  }

  /** A page of `pipeline`'s records kept in the day partitions `partition` names. */
  private listDays<T>(
    partition: (pipeline: string, day: string) => string,
    pipeline: string,
    options: ListRecordsOptions,
    parse: (item: Item) => T,
  ): Promise<{ items: T[]; cursor?: string }> {
    return listDays(this.table, (day) => partition(pipeline, day), pipeline, options, parse);
  }
}

/** The `cursor` field of a page: absent on the last page. */
function withCursor(cursor: string | undefined): { cursor?: string } {
  return cursor === undefined ? {} : { cursor };
}
