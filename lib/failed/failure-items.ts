import { describe, ValidationError } from '../errors';
import { NAME_PATTERN, NAME_RULE } from '../event-log/names';
import { type EventFailure, storedEventOf } from '../messages/envelope';
import { attributeKey, expiresAfter, failureRecordKey } from '../state/keys';
import type { Item, StateTable } from '../state/state-table';
import { FAILURE_STATUS, type FailureStatus, MAX_RECORD_JSON_BYTES } from './constants';
import type { FailureRecord, MalformedRecord } from './records';
import { shortenFailure } from './truncate';
import type { FailedEvent } from './types';

// Failure records as items of the state table, and what the failure store's modules share.

/** What the modules of the failure store work with: the state table, the clock, the retention. */
export interface FailureTable extends StateTable {
  /** Epoch milliseconds. */
  readonly clock: () => number;
  /** How long claims and records are kept, in seconds. */
  readonly retentionSeconds: number;
}

/** The TTL of an item of the failure store written at `nowMs`. */
export function failureExpiresAt(table: FailureTable, nowMs: number): number {
  return expiresAfter(nowMs, table.retentionSeconds);
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

/** The item of a failure record with `status`. */
export function failureItem(
  table: FailureTable,
  failure: FailedEvent,
  status: FailureStatus,
  dlqMessageId: string | undefined,
  handledAt: number | undefined,
): Item {
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
    expiresAt: { N: String(failureExpiresAt(table, handledAt ?? table.clock())) },
  };
}

/** The record's JSON, without the event's data if too large (its error message is already short). */
function fitRecord(stored: StoredFailure): string {
  const whole = JSON.stringify(stored);
  if (Buffer.byteLength(whole) <= MAX_RECORD_JSON_BYTES) return whole;
  const { data: _data, ...event } = stored.event;
  return JSON.stringify({ ...stored, event, dataOmitted: true } satisfies StoredFailure);
}

/** A failure record item as its record. */
export function parseFailure(item: Item): FailureRecord {
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

/** A malformed message record item as its record. */
export function parseMalformed(item: Item): MalformedRecord {
  return JSON.parse(item.record?.S ?? '{}') as MalformedRecord;
}

/** Throws a `ValidationError` unless `pipeline` is a pipeline name. */
export function checkPipeline(pipeline: string): void {
  if (typeof pipeline !== 'string' || !NAME_PATTERN.test(pipeline)) {
    throw new ValidationError(`pipeline name ${describe(pipeline)} is invalid: ${NAME_RULE}`, pipeline);
  }
}
