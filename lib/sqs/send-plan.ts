import type { BatchResultErrorEntry } from '@aws-sdk/client-sqs';
import { groupInOrder } from '../collections/in-order-groups';
import { exponentialDelay } from '../retry/backoff';
import { MAX_BATCH_ENTRIES, MAX_BATCH_PAYLOAD_BYTES } from './constants';
import type { SendFailureReason } from './errors';
import type { SendFailure, SendMessageBatchesResult } from './send-types';

/** What became of one message: accepted, or finally refused. */
export type SendOutcome = { readonly accepted: true } | ({ readonly accepted: false } & SendFailure);

/** How the entries of one SendMessageBatch response came out, by message index. */
export interface EntryVerdicts {
  readonly accepted: number[];
  /** Refused as the sender's fault: sending them again unchanged would fail again. */
  readonly refused: Map<number, SendFailureReason>;
  /** Failed on SQS's side (or not reported at all): worth sending again. */
  readonly retryable: Map<number, SendFailureReason>;
}

/** Which entries are sent again after one attempt, and which are given up with what reason. */
export interface RetryPlan {
  /** Message indexes to send again, in order. */
  readonly retry: number[];
  readonly givenUp: [index: number, reason: SendFailureReason][];
}

/**
 * Splits message indexes, in order, into the entries of SendMessageBatch calls: at most 10 entries and
 * 1 MiB of payload in one call. A message never moves ahead of an earlier one.
 *
 * @example
 * ```ts
 * splitIntoBatches([100, 100, 100]); // [[0, 1, 2]]
 * ```
 */
export function splitIntoBatches(sizes: readonly number[]): number[][] {
  return groupInOrder(
    sizes.map((_, index) => index),
    (index) => sizes[index] as number,
    { maxItems: MAX_BATCH_ENTRIES, maxWeight: MAX_BATCH_PAYLOAD_BYTES },
  );
}

/**
 * Sorts the entries sent in one call (`pending`, message indexes; the entry id of each is its index)
 * by what the response says of them. An entry the response leaves out is treated as failed on SQS's
 * side, so it is sent again.
 *
 * @example
 * ```ts
 * classifyEntries([0, 1], ['0'], [{ Id: '1', Code: 'InternalError', SenderFault: false }]);
 * // { accepted: [0], refused: Map {}, retryable: Map { 1 => { code: 'InternalError', … } } }
 * ```
 */
export function classifyEntries(
  pending: readonly number[],
  successfulIds: readonly (string | undefined)[],
  failedEntries: readonly BatchResultErrorEntry[],
): EntryVerdicts {
  const verdicts: EntryVerdicts = { accepted: [], refused: new Map(), retryable: new Map() };
  const succeeded = new Set(successfulIds);
  const failed = new Map(failedEntries.map((entry) => [entry.Id, entry]));
  for (const index of pending) {
    const entryId = String(index);
    if (succeeded.has(entryId)) {
      verdicts.accepted.push(index);
      continue;
    }
    const entry = failed.get(entryId);
    const reason: SendFailureReason = entry
      ? {
          code: entry.Code ?? 'Unknown',
          message: entry.Message ?? 'no message given',
          senderFault: entry.SenderFault === true,
        }
      : {
          // Never seen from SQS; treated as a server-side failure, so the entry is sent again.
          code: 'MissingFromResponse',
          message: 'SQS reported neither success nor failure for this entry',
          senderFault: false,
        };
    (reason.senderFault ? verdicts.refused : verdicts.retryable).set(index, reason);
  }
  return verdicts;
}

/**
 * Decides, after attempt `attempt` of a batch, which of its retryable entries are sent again. Only
 * entries before the batch's first final failure are: sending a later one would break the stop rule
 * (no message is sent after one that finally failed). Entries out of attempts, or after the first
 * final failure, are given up; those out of attempts say so in their message.
 *
 * @example
 * ```ts
 * planRetries(new Map([[3, reason]]), Number.POSITIVE_INFINITY, 1, 5); // { retry: [3], givenUp: [] }
 * planRetries(new Map([[3, reason]]), 2, 1, 5); // { retry: [], givenUp: [[3, reason]] }
 * ```
 */
export function planRetries(
  retryable: ReadonlyMap<number, SendFailureReason>,
  firstFinalIndex: number,
  attempt: number,
  maxAttempts: number,
): RetryPlan {
  const retry: number[] = [];
  const givenUp: [number, SendFailureReason][] = [];
  for (const [index, reason] of retryable) {
    if (index < firstFinalIndex && attempt < maxAttempts) retry.push(index);
    else {
      const exhausted = attempt >= maxAttempts && index < firstFinalIndex;
      const message = exhausted ? `${reason.message} (gave up after ${attempt} attempt(s))` : reason.message;
      givenUp.push([index, { ...reason, message }]);
    }
  }
  return { retry: retry.sort((a, b) => a - b), givenUp };
}

/** The smallest index of `batch` whose outcome is a final failure; infinity when there is none. */
export function firstFinalFailure(
  batch: readonly number[],
  outcomes: ReadonlyMap<number, SendOutcome>,
): number {
  return Math.min(
    ...batch.filter((index) => outcomes.get(index)?.accepted === false),
    Number.POSITIVE_INFINITY,
  );
}

/**
 * The wait before the retry that follows attempt `attempt`: `initialDelayMs`, doubling with every
 * further attempt, at most `maxDelayMs`. No jitter: the calls of one run are sent one after another.
 */
export function sendBackoffMs(
  delays: { readonly initialDelayMs: number; readonly maxDelayMs: number },
  attempt: number,
): number {
  return exponentialDelay({ initial: delays.initialDelayMs, factor: 2, max: delays.maxDelayMs }, attempt);
}

/**
 * Sorts every message id into exactly one list: the accepted prefix, the final failures, those sent
 * and accepted after the first failure, and those never sent (from `sentUpTo` on, or without outcome).
 */
export function summarizeOutcomes(
  ids: readonly string[],
  outcomes: ReadonlyMap<number, SendOutcome>,
  sentUpTo: number,
): Pick<SendMessageBatchesResult, 'acceptedIds' | 'failed' | 'unsentIds' | 'acceptedAfterFailureIds'> {
  const result = {
    acceptedIds: [] as string[],
    failed: [] as SendFailure[],
    unsentIds: [] as string[],
    acceptedAfterFailureIds: [] as string[],
  };
  let failedBefore = false;
  ids.forEach((id, index) => {
    const outcome = outcomes.get(index);
    if (index >= sentUpTo || outcome === undefined) result.unsentIds.push(id);
    else if (outcome.accepted) (failedBefore ? result.acceptedAfterFailureIds : result.acceptedIds).push(id);
    else {
      failedBefore = true;
      result.failed.push({
        id: outcome.id,
        code: outcome.code,
        message: outcome.message,
        senderFault: outcome.senderFault,
        attempts: outcome.attempts,
      });
    }
  });
  return result;
}
