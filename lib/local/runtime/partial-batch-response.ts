import { describe } from '../../errors';

// What an SQS event source does with a batch once its invocation has ended, by Lambda's rules: which
// messages it deletes, and whether the batch failed as a whole. Messages it does not delete come
// back after their visibility timeout, and the queue's redrive policy moves them to the DLQ once
// received too often: that is SQS's part, not the event source's.

/** How an invocation ended. */
export const INVOCATION_OUTCOME = {
  succeeded: 'succeeded',
  partial: 'partial',
  threw: 'threw',
  timedOut: 'timed-out',
  invalidResponse: 'invalid-response',
} as const;

/** One of {@link INVOCATION_OUTCOME}. */
export type InvocationOutcome = (typeof INVOCATION_OUTCOME)[keyof typeof INVOCATION_OUTCOME];

/** How the function call itself ended: with a response, or with a throw or a timeout. */
export type InvocationEnd =
  | { readonly response: unknown }
  | {
      readonly outcome: typeof INVOCATION_OUTCOME.threw | typeof INVOCATION_OUTCOME.timedOut;
      readonly error: unknown;
    };

/** What to do with a batch after its invocation. */
export interface BatchSettlement {
  readonly outcome: InvocationOutcome;
  /** The messages to delete, in batch order. */
  readonly deleteIds: readonly string[];
  /** Messages a valid partial batch response listed as failed: they are left to come back. */
  readonly failedItems: number;
  /** Why the whole batch failed (nothing is deleted), when it did. */
  readonly batchFailure?: { readonly error: unknown };
}

/**
 * Decides what becomes of a batch once its invocation has ended, as Lambda's SQS event source does: a
 * throw, a timeout or an invalid partial batch response fails the whole batch and deletes nothing;
 * with `reportBatchItemFailures` off every message of a returned invocation is deleted; otherwise all
 * but the listed ones are.
 *
 * @example
 * ```ts
 * settleBatch({ response: { batchItemFailures: [{ itemIdentifier: 'm-2' }] } }, ['m-1', 'm-2'], true);
 * // { outcome: 'partial', deleteIds: ['m-1'], failedItems: 1 }
 * ```
 */
export function settleBatch(
  end: InvocationEnd,
  messageIds: readonly string[],
  reportBatchItemFailures: boolean,
): BatchSettlement {
  if ('error' in end)
    return { outcome: end.outcome, deleteIds: [], failedItems: 0, batchFailure: { error: end.error } };
  if (!reportBatchItemFailures)
    return { outcome: INVOCATION_OUTCOME.succeeded, deleteIds: messageIds, failedItems: 0 };
  const settled = settlePartialBatch(end.response, messageIds);
  if ('invalid' in settled)
    return {
      outcome: INVOCATION_OUTCOME.invalidResponse,
      deleteIds: [],
      failedItems: 0,
      batchFailure: { error: new Error(`invalid partial batch response: ${settled.invalid}`) },
    };
  return {
    outcome: settled.failed.size > 0 ? INVOCATION_OUTCOME.partial : INVOCATION_OUTCOME.succeeded,
    deleteIds: messageIds.filter((id) => !settled.failed.has(id)),
    failedItems: settled.failed.size,
  };
}

/**
 * Reads a partial batch response by AWS's rules: which messages failed, or why the whole batch did.
 *
 * @example
 * ```ts
 * settlePartialBatch({ batchItemFailures: [{ itemIdentifier: 'm-2' }] }, ['m-1', 'm-2']); // { failed: Set { 'm-2' } }
 * settlePartialBatch({ batchItemFailures: [{ itemIdentifier: 'other' }] }, ['m-1']); // { invalid: ... }
 * ```
 */
export function settlePartialBatch(
  response: unknown,
  messageIds: readonly string[],
): { readonly failed: ReadonlySet<string> } | { readonly invalid: string } {
  if (response === undefined || response === null) return { failed: new Set() };
  if (typeof response !== 'object' || Array.isArray(response))
    return { invalid: `the response is not an object (given ${describe(response)})` };
  const list = (response as { batchItemFailures?: unknown }).batchItemFailures;
  if (list === undefined || list === null) return { failed: new Set() };
  if (!Array.isArray(list)) return { invalid: `batchItemFailures is not a list (given ${describe(list)})` };
  const inBatch = new Set(messageIds);
  const failed = new Set<string>();
  for (const item of list) {
    const identifier =
      typeof item === 'object' && item !== null
        ? (item as { itemIdentifier?: unknown }).itemIdentifier
        : undefined;
    if (typeof identifier !== 'string' || identifier === '')
      return { invalid: `an item has no itemIdentifier (given ${describe(item)})` };
    if (!inBatch.has(identifier))
      return { invalid: `itemIdentifier ${describe(identifier)} is not a message of the batch` };
    failed.add(identifier);
  }
  return { failed };
}
