import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { CommitError, type SluiceError } from '../errors';
import type { EncodedSegment, SegmentEntry } from './segment';

/** Events of one commit stored as one item: one stream, one write shard, in input order. */
export interface SegmentPiece {
  readonly stream: string;
  readonly shard: number;
  /** Where its events stand in the commit's input. */
  readonly indexes: readonly number[];
  readonly entries: readonly SegmentEntry[];
  readonly encoded: EncodedSegment;
}

/** A segment with its ids and item, ready to write. */
export interface PreparedSegment extends SegmentPiece {
  readonly ids: readonly string[];
  readonly bucket: string;
  readonly item: Record<string, AttributeValue>;
}

/**
 * The error a refused commit throws: which events (and which of the caller's own writes) DynamoDB
 * named, from a transaction's cancellation reasons or a single put's failed condition.
 */
export function commitFailure(
  error: unknown,
  prepared: readonly PreparedSegment[],
  tableName: string,
  otherWrites = 0,
): SluiceError {
  const eventIds = eventIdsInInputOrder(prepared);
  const awsName = (error as { name?: string }).name ?? 'Error';
  const awsMessage = (error as Error).message;
  if (awsName === 'TransactionCanceledException') {
    const reasons = (
      (error as { CancellationReasons?: { Code?: string; Message?: string }[] }).CancellationReasons ?? []
    ).map((reason) => reason.Code ?? 'None');
    // The caller's other writes come first in the transaction, then the segments.
    const otherFaults = reasons
      .slice(0, otherWrites)
      .map((reason, index) => ({ reason, index }))
      .filter(({ reason }) => reason !== 'None')
      .map(({ reason, index }) => `write ${index} of the other writes: ${reason}`);
    const segmentReasons = reasons.slice(otherWrites);
    const eventReasons: string[] = eventIds.map(() => 'None');
    const faults: string[] = [];
    prepared.forEach((segment, index) => {
      const reason = segmentReasons[index] ?? 'None';
      for (const inputIndex of segment.indexes) eventReasons[inputIndex] = reason;
      if (reason === 'None') return;
      const events = segment.indexes.map((inputIndex, position) => {
        const type = segment.entries[position]?.type;
        return `event ${inputIndex} (stream '${segment.stream}', type '${type}', id ${segment.ids[position]})`;
      });
      faults.push(`${events.join(', ')}: ${reason}`);
    });
    return new CommitError(
      `atomic commit of ${eventIds.length} events was cancelled and nothing was written: ${[...otherFaults, ...faults].join('; ') || awsMessage}`,
      { eventIds, reasons: eventReasons, otherWriteReasons: reasons.slice(0, otherWrites) },
      { cause: error },
    );
  }
  if (awsName === 'ConditionalCheckFailedException') {
    return new CommitError(
      `an event with id ${eventIds[0]} already exists; nothing was written`,
      { eventIds, reasons: ['ConditionalCheckFailed'] },
      { cause: error },
    );
  }
  if (awsName === 'ResourceNotFoundException') {
    return new CommitError(
      `the event log table '${tableName}' does not exist (${awsMessage}); nothing was written`,
      {
        eventIds,
        reasons: eventIds.map(() => 'ResourceNotFound'),
      },
      { cause: error },
    );
  }
  return new CommitError(
    `commit of ${eventIds.length} event(s) failed with ${awsName}: ${awsMessage}; nothing was written`,
    {
      eventIds,
      reasons: eventIds.map(() => awsName),
    },
    { cause: error },
  );
}

/** A failed put's condition, and the item it found is the one this put wrote: its own earlier attempt landed. */
export function isOwnItem(error: unknown, item: Record<string, AttributeValue>): boolean {
  const found = (error as { name?: string; Item?: Record<string, AttributeValue> }).Item;
  if (errorName(error) !== 'ConditionalCheckFailedException' || !found) return false;
  return sameAttributes(found, item);
}

/** Whether two items hold the same attributes and values, binary values compared byte by byte. */
function sameAttributes(a: Record<string, AttributeValue>, b: Record<string, AttributeValue>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((key) => sameValue(a[key], b[key]));
}

/** Whether two attribute values are equal, binary values compared byte by byte. */
function sameValue(a: AttributeValue | undefined, b: AttributeValue | undefined): boolean {
  if (a?.B !== undefined || b?.B !== undefined) {
    return a?.B !== undefined && b?.B !== undefined && Buffer.from(a.B).equals(Buffer.from(b.B));
  }
  if (a?.M !== undefined || b?.M !== undefined) {
    return a?.M !== undefined && b?.M !== undefined && sameAttributes(a.M, b.M);
  }
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * Whether a failed write certainly changed nothing. DynamoDB's refusals say so (a failed condition, a
 * cancelled transaction, a bad request, a missing table), as does throttling of a first attempt. A
 * network error, a timeout or a server error does not: the request may have been applied and its
 * response lost; so may an earlier attempt of one the SDK retried.
 */
export function isConclusiveRefusal(error: unknown): boolean {
  const { $fault, $metadata, $retryable } = error as {
    $fault?: string;
    $metadata?: { attempts?: number };
    $retryable?: unknown;
  };
  if ($fault !== 'client') return false;
  const name = errorName(error);
  if (name === 'ConditionalCheckFailedException' || name === 'TransactionCanceledException') return true;
  const throttled = $retryable !== undefined || THROTTLING_ERRORS.has(name);
  return !throttled || ($metadata?.attempts ?? 1) <= 1;
}

const THROTTLING_ERRORS = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
]);

/** The name of an error an AWS call threw, `Error` when it has none. */
export function errorName(error: unknown): string {
  const name = (error as { name?: unknown } | undefined)?.name;
  return typeof name === 'string' ? name : 'Error';
}

/** The ids of a commit's events, in the order they were given. */
export function eventIdsInInputOrder(prepared: readonly PreparedSegment[]): string[] {
  const ids: string[] = [];
  for (const segment of prepared) {
    segment.indexes.forEach((inputIndex, position) => {
      ids[inputIndex] = segment.ids[position] as string;
    });
  }
  return ids;
}
