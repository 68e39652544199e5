import { randomUUID } from 'node:crypto';
import type { TransactWriteItem } from '@aws-sdk/client-dynamodb';
import { attributeKey, claimKey, isKeyTime } from '../state/keys';
import { conditionally, getItem, type Item, refusal, updateItem } from '../state/state-table';
import { assertEventId } from '../time/event-id';
import { assertWholeMilliseconds } from '../validation/whole-milliseconds';
import { CLAIM_DURATION_RANGE, CLAIM_STATUS } from './constants';
import { checkPipeline, type FailureTable, failureExpiresAt } from './failure-items';
import type { Claim, ClaimResult } from './records';

// The claim on a failed event: one item per event, taken when free or expired unhandled, held by a
// random token, released or marked handled only by its holder.

/**
 * What a refused claim found: the event was handled already, or another consumer holds it.
 *
 * @example
 * ```ts
 * refusedClaim({ status: { S: 'handled' }, handledAt: { N: '1714564800000' } }); // { status: 'handled', handledAt: 1714564800000 }
 * ```
 */
export function refusedClaim(item: Item): Exclude<ClaimResult, { status: 'claimed' }> {
  if (item.status?.S === CLAIM_STATUS.handled) {
    const handledAt = item.handledAt?.N;
    return handledAt === undefined
      ? { status: 'handled' }
      : { status: 'handled', handledAt: Number(handledAt) };
  }
  return { status: 'busy', claimExpiresAt: Number(item.claimExpiresAt?.N ?? 0) };
}

/**
 * Why a claim is no longer held, from its item as read after a refused write (`undefined`: gone).
 *
 * @example
 * ```ts
 * claimLostReason({ status: { S: 'claimed' } }); // 'the claim was released'
 * ```
 */
export function claimLostReason(item: Item | undefined): string {
  if (!item) return 'its claim item is gone';
  if (item.status?.S === CLAIM_STATUS.handled) return 'another consumer handled it';
  if (item.claimToken?.S === undefined) return 'the claim was released';
  return 'the claim expired and another consumer took the event';
}

/** Takes a failed event for `durationMs`, unless it was handled already or another consumer holds it. */
export async function claimEvent(
  table: FailureTable,
  pipeline: string,
  eventId: string,
  durationMs: number,
  options: { failedAt?: number; redrive?: string },
): Promise<ClaimResult> {
  checkPipeline(pipeline);
  assertEventId(eventId);
  assertWholeMilliseconds('claim duration', durationMs, CLAIM_DURATION_RANGE);
  const now = table.clock();
  const failedAt = isKeyTime(options.failedAt) ? Math.floor(options.failedAt) : now;
  const token = randomUUID();
  const outcome = await conditionally(
    updateItem(table, claimKey(pipeline, eventId, options.redrive), {
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
        ':ttl': { N: String(failureExpiresAt(table, now)) },
        ':one': { N: '1' },
      },
      ReturnValues: 'ALL_NEW',
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    }),
  );
  if (!outcome.landed) return refusedClaim(outcome.item ?? {});
  return {
    status: 'claimed',
    claim: {
      pipeline,
      eventId,
      token,
      expiresAt: now + durationMs,
      failedAt: Number(outcome.value?.failedAt?.N ?? failedAt),
      ...(options.redrive === undefined ? {} : { redrive: options.redrive }),
    },
  };
}

/** Gives a claim up before it expires; false, changing nothing, if it was no longer held. */
export async function releaseClaim(table: FailureTable, claim: Claim): Promise<boolean> {
  const refused = await refusal(
    updateItem(table, claimKey(claim.pipeline, claim.eventId, claim.redrive), {
      UpdateExpression: 'SET claimExpiresAt = :zero REMOVE claimToken',
      ConditionExpression: CLAIM_HELD,
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':zero': { N: '0' }, ...claimHeldValues(claim) },
    }),
  );
  return !refused;
}

/** The transaction action that marks a held claim's event handled, for good. */
export function handledClaimWrite(table: FailureTable, claim: Claim, now: number): TransactWriteItem {
  return {
    Update: {
      TableName: table.tableName,
      Key: attributeKey(claimKey(claim.pipeline, claim.eventId, claim.redrive)),
      UpdateExpression:
        'SET #status = :handled, handledAt = :now, expiresAt = :ttl REMOVE claimToken, claimExpiresAt',
      ConditionExpression: CLAIM_HELD,
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: {
        ':handled': { S: CLAIM_STATUS.handled },
        ...claimHeldValues(claim),
        ':now': { N: String(now) },
        ':ttl': { N: String(failureExpiresAt(table, now)) },
      },
    },
  };
}

/** Why `claim` was lost, read from its item; never throws (it explains an error already thrown). */
export async function whyClaimLost(table: FailureTable, claim: Claim): Promise<string> {
  const item = await getItem(table, claimKey(claim.pipeline, claim.eventId, claim.redrive)).catch(
    () => undefined,
  );
  return claimLostReason(item);
}

/** The condition that proves a write is made by the holder of a claim, with {@link claimHeldValues}. */
const CLAIM_HELD = 'claimToken = :token AND #status = :claimed';

function claimHeldValues(claim: Claim): Item {
  return { ':token': { S: claim.token }, ':claimed': { S: CLAIM_STATUS.claimed } };
}
