import type { TransactWriteItem } from '@aws-sdk/client-dynamodb';
import { CommitError, describe, LeaseLostError, ValidationError } from '../errors';
import { attributeKey, claimKey, failureRecordKey, isKeyTime, malformedRecordKey } from '../state/keys';
import {
  firstActionRefused,
  getItem,
  putItem,
  refusal,
  transactWrite,
  updateItem,
} from '../state/state-table';
import { assertEventId } from '../time/event-id';
import { handledClaimWrite, whyClaimLost } from './claims';
import { FAILURE_STATUS, MAX_MALFORMED_BODY_BYTES } from './constants';
import {
  checkPipeline,
  type FailureTable,
  failureExpiresAt,
  failureItem,
  parseFailure,
} from './failure-items';
import type { Claim, FailureRecord, MalformedRecord } from './records';
import { shortenErrorMessage, truncateUtf8 } from './truncate';
import type { FailedEvent } from './types';

// Failure records and their bookkeeping: pending, handled with the claim, redriven; malformed messages.

/** What is known of a malformed DLQ message, for `FailureStore.recordMalformed`. */
export interface MalformedMessageInput {
  readonly pipeline: string;
  readonly messageId: string;
  readonly body: string;
  /** Why it is not a Sluice envelope. */
  readonly error: { readonly name: string; readonly message: string };
  /** When it was received; the message's `SentTimestamp` keeps its key the same on redelivery. @default now */
  readonly receivedAt?: number;
}

/** How `markHandled` writes, besides the claim and the failure. */
export interface MarkHandledOptions {
  readonly dlqMessageId?: string;
  /**
   * Runs the marking transaction in place of a plain `TransactWriteItems`: the dead-letter consumer
   * passes `(writes) => eventLog.commitWith(outputs, writes)`, so that what the failed handler
   * committed for this event lands with its mark, or neither does.
   */
  readonly transact?: (writes: TransactWriteItem[]) => Promise<unknown>;
}

/** Writes the record of a failed event as `pending`; never turns a handled record back to pending. */
export async function recordFailure(
  table: FailureTable,
  failure: FailedEvent,
  options: { dlqMessageId?: string },
): Promise<void> {
  checkPipeline(failure.pipeline);
  assertEventId(failure.event.id);
  await refusal(
    putItem(table, failureItem(table, failure, FAILURE_STATUS.pending, options.dlqMessageId, undefined), {
      ConditionExpression: 'attribute_not_exists(pk) OR #status = :pending',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':pending': { S: FAILURE_STATUS.pending } },
    }),
  );
}

/** Marks a claimed event handled and writes its record as `handled`, in one transaction. */
export async function markHandled(
  table: FailureTable,
  claim: Claim,
  failure: FailedEvent,
  options: MarkHandledOptions,
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
  const now = table.clock();
  const recorded: FailedEvent = { ...failure, failedAt: claim.failedAt };
  const item = failureItem(table, recorded, FAILURE_STATUS.handled, options.dlqMessageId, now);
  try {
    const writes: TransactWriteItem[] = [
      handledClaimWrite(table, claim, now),
      { Put: { TableName: table.tableName, Item: item } },
    ];
    if (options.transact) await options.transact(writes);
    else await transactWrite(table, writes);
  } catch (error) {
    const claimRefused =
      firstActionRefused(error) ||
      // Through `EventLog.commitWith`, the claim is the first of the other writes.
      (error instanceof CommitError && error.otherWriteReasons[0] === 'ConditionalCheckFailed');
    if (claimRefused) {
      throw new LeaseLostError(
        {
          lease: 'failed-event claim',
          pipeline: claim.pipeline,
          eventId: claim.eventId,
          reason: await whyClaimLost(table, claim),
        },
        { cause: error },
      );
    }
    throw error;
  }
  return parseFailure(item);
}

/** The record of one failed event, found through its claim, or `undefined`. */
export async function getFailure(
  table: FailureTable,
  pipeline: string,
  eventId: string,
  options: { redrive?: string },
): Promise<FailureRecord | undefined> {
  checkPipeline(pipeline);
  assertEventId(eventId);
  const claim = await getItem(table, claimKey(pipeline, eventId, options.redrive));
  const failedAt = claim?.failedAt?.N;
  if (failedAt === undefined) return undefined;
  const item = await getItem(table, failureRecordKey(pipeline, Number(failedAt), eventId));
  return item ? parseFailure(item) : undefined;
}

/** Marks a handled failure record as redriven, once; false, changing nothing, when it is not handled. */
export async function markRedriven(
  table: FailureTable,
  record: Pick<FailureRecord, 'pipeline' | 'failedAt' | 'event'>,
  options: { redrivenAs: string },
): Promise<boolean> {
  checkPipeline(record.pipeline);
  assertEventId(record.event.id);
  const refused = await refusal(
    updateItem(table, failureRecordKey(record.pipeline, record.failedAt, record.event.id), {
      UpdateExpression: 'SET #status = :redriven, redrivenAt = :now, redrivenAs = :as',
      ConditionExpression: '#status = :handled',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: {
        ':redriven': { S: FAILURE_STATUS.redriven },
        ':handled': { S: FAILURE_STATUS.handled },
        ':now': { N: String(table.clock()) },
        ':as': { S: options.redrivenAs },
      },
    }),
  );
  return !refused;
}

/** Records a DLQ message whose body is not a Sluice envelope. */
export async function recordMalformed(
  table: FailureTable,
  input: MalformedMessageInput,
): Promise<MalformedRecord> {
  checkPipeline(input.pipeline);
  if (typeof input.messageId !== 'string' || input.messageId === '') {
    throw new ValidationError(
      `messageId must be a non-empty string (given ${describe(input.messageId)})`,
      input.messageId,
    );
  }
  const now = table.clock();
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
  await putItem(table, {
    ...attributeKey(malformedRecordKey(input.pipeline, receivedAt, input.messageId)),
    messageId: { S: input.messageId },
    record: { S: JSON.stringify(record) },
    expiresAt: { N: String(failureExpiresAt(table, now)) },
  });
  return record;
}
