import { describe, expect, it } from 'vitest';
import { INVOCATION_OUTCOME, settleBatch } from '../../lib/local/runtime/partial-batch-response';

// What the local SQS event source does with a batch once its invocation has ended: which messages it
// deletes (the rest come back after their visibility timeout, and SQS's redrive policy moves them to
// the DLQ), and when the batch fails as a whole.
const batch = ['m-1', 'm-2', 'm-3'];

describe('settleBatch, after an invocation', () => {
  it('deletes every message of an invocation that returned nothing', () => {
    expect(settleBatch({ response: undefined }, batch, true)).toEqual({
      outcome: INVOCATION_OUTCOME.succeeded,
      deleteIds: batch,
      failedItems: 0,
    });
  });

  it('deletes all but the listed messages of a partial batch response, counting the listed ones', () => {
    const response = { batchItemFailures: [{ itemIdentifier: 'm-1' }, { itemIdentifier: 'm-3' }] };
    expect(settleBatch({ response }, batch, true)).toEqual({
      outcome: INVOCATION_OUTCOME.partial,
      deleteIds: ['m-2'],
      failedItems: 2,
    });
  });

  it('deletes every message when partial batch responses are not read, whatever the response lists', () => {
    const response = { batchItemFailures: [{ itemIdentifier: 'm-1' }] };
    expect(settleBatch({ response }, batch, false)).toEqual({
      outcome: INVOCATION_OUTCOME.succeeded,
      deleteIds: batch,
      failedItems: 0,
    });
  });

  it('fails the whole batch, deleting nothing, on an invalid partial batch response', () => {
    const settled = settleBatch(
      { response: { batchItemFailures: [{ itemIdentifier: 'm-9' }] } },
      batch,
      true,
    );
    expect(settled.outcome).toBe(INVOCATION_OUTCOME.invalidResponse);
    expect(settled.deleteIds).toEqual([]);
    expect(String(settled.batchFailure?.error)).toContain('invalid partial batch response');
  });

  it.each([INVOCATION_OUTCOME.threw, INVOCATION_OUTCOME.timedOut])(
    'fails the whole batch, deleting nothing, when the invocation %s',
    (outcome) => {
      const error = new Error('boom');
      expect(settleBatch({ outcome, error }, batch, true)).toEqual({
        outcome,
        deleteIds: [],
        failedItems: 0,
        batchFailure: { error },
      });
    },
  );
});
