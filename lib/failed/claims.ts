import { randomUUID } from 'node:crypto';
import type { TransactWriteItem } from '@aws-sdk/client-dynamodb';
import {
  giveUpLease,
  heldCondition,
  heldValues,
  type LeaseItem,
  type LeaseLayout,
  leaseNames,
  takeLease,
} from '../state/fenced-lease';
import { attributeKey, claimKey, isKeyTime } from '../state/keys';
import { getItem, type Item } from '../state/state-table';
import { assertEventId } from '../time/event-id';
import { assertWholeMilliseconds } from '../validation/whole-milliseconds';
import { CLAIM_DURATION_RANGE, CLAIM_STATUS } from './constants';
import { checkPipeline, type FailureTable, failureExpiresAt } from './failure-items';
import type { Claim, ClaimResult } from './records';

// The claim on a failed event: one item per event, a fenced lease (`lib/state/fenced-lease.ts`)
// taken when free or expired unhandled, held by a random token, released or marked handled only by
// its holder.

/**
 * How a claim sits on its item: a random `claimToken` names the holder, `claimExpiresAt` its expiry,
 * and `status` must be `claimed` for it to be taken or held, so a handled event is never taken again.
 * A holder past its expiry may still mark the event handled until another consumer takes it.
 */
export const CLAIM_LAYOUT: LeaseLayout = {
  token: { attribute: 'claimToken', kind: 'random' },
  expiresAt: 'claimExpiresAt',
  standing: {
    condition: '#status = :claimed',
    set: '#status = :claimed',
    names: { '#status': 'status' },
    values: { ':claimed': { S: CLAIM_STATUS.claimed } },
  },
  heldUntilExpiry: false,
};

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
  return { status: 'busy', claimExpiresAt: Number(item[CLAIM_LAYOUT.expiresAt]?.N ?? 0) };
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
  if (item[CLAIM_LAYOUT.token.attribute]?.S === undefined) return 'the claim was released';
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
  const taking = await takeLease(claimItem(table, pipeline, eventId, options.redrive), CLAIM_LAYOUT, {
    token,
    now,
    until: now + durationMs,
    itemMustExist: false,
    also: {
      set: ['claimedAt = :now', 'failedAt = if_not_exists(failedAt, :failedAt)', 'expiresAt = :ttl'],
      add: ['claims :one'],
      values: {
        ':failedAt': { N: String(failedAt) },
        ':ttl': { N: String(failureExpiresAt(table, now)) },
        ':one': { N: '1' },
      },
    },
  });
  if (!taking.taken) return refusedClaim(taking.item ?? {});
  return {
    status: 'claimed',
    claim: {
      pipeline,
      eventId,
      token,
      expiresAt: now + durationMs,
      failedAt: Number(taking.item.failedAt?.N ?? failedAt),
      ...(options.redrive === undefined ? {} : { redrive: options.redrive }),
    },
  };
}

/** Gives a claim up before it expires; false, changing nothing, if it was no longer held. */
export async function releaseClaim(table: FailureTable, claim: Claim): Promise<boolean> {
  const refused = await giveUpLease(
    claimItem(table, claim.pipeline, claim.eventId, claim.redrive),
    CLAIM_LAYOUT,
    claim,
  );
  return !refused;
}

/** The transaction action that marks a held claim's event handled, for good. */
export function handledClaimWrite(table: FailureTable, claim: Claim, now: number): TransactWriteItem {
  return {
    Update: {
      TableName: table.tableName,
      Key: attributeKey(claimKey(claim.pipeline, claim.eventId, claim.redrive)),
      UpdateExpression: `SET #status = :handled, handledAt = :now, expiresAt = :ttl REMOVE ${CLAIM_LAYOUT.token.attribute}, ${CLAIM_LAYOUT.expiresAt}`,
      ConditionExpression: heldCondition(CLAIM_LAYOUT),
      ...leaseNames(CLAIM_LAYOUT),
      ExpressionAttributeValues: {
        ':handled': { S: CLAIM_STATUS.handled },
        ...heldValues(CLAIM_LAYOUT, claim, now),
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

/** Where the claim on an event lives. */
function claimItem(
  table: FailureTable,
  pipeline: string,
  eventId: string,
  redrive: string | undefined,
): LeaseItem {
  return { send: table.send, tableName: table.tableName, key: claimKey(pipeline, eventId, redrive) };
}
