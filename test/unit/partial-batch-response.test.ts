import { describe, expect, it } from 'vitest';
import { settlePartialBatch } from '../../lib/local';

// Lambda's rules for a partial batch response (ReportBatchItemFailures), with constructed responses:
// what the local runtime's event source deletes, keeps, or fails as a whole.
const batch = ['m-1', 'm-2', 'm-3'];

describe('settlePartialBatch, by the rules of Lambda’s SQS event source', () => {
  it.each([
    ['no response', undefined],
    ['a null response', null],
    ['an empty object', {}],
    ['a null list', { batchItemFailures: null }],
    ['an empty list', { batchItemFailures: [] }],
  ])('deletes every message when the function returns %s', (_name, response) => {
    expect(settlePartialBatch(response, batch)).toEqual({ failed: new Set() });
  });

  it('keeps only the listed messages', () => {
    expect(settlePartialBatch({ batchItemFailures: [{ itemIdentifier: 'm-2' }] }, batch)).toEqual({
      failed: new Set(['m-2']),
    });
  });

  it.each([
    [
      'an itemIdentifier that is not in the batch',
      { batchItemFailures: [{ itemIdentifier: 'm-9' }] },
      '"m-9" is not a message of the batch',
    ],
    [
      'an empty itemIdentifier',
      { batchItemFailures: [{ itemIdentifier: '' }] },
      'an item has no itemIdentifier',
    ],
    ['an item with no itemIdentifier', { batchItemFailures: [{}] }, 'an item has no itemIdentifier'],
    [
      'a null itemIdentifier',
      { batchItemFailures: [{ itemIdentifier: null }] },
      'an item has no itemIdentifier',
    ],
    [
      'a list that is not a list',
      { batchItemFailures: 'm-1' },
      'batchItemFailures is not a list (given "m-1")',
    ],
    ['a response that is not an object', 'ok', 'the response is not an object (given "ok")'],
  ])('fails the whole batch when the function returns %s', (_name, response, reason) => {
    const settled = settlePartialBatch(response, batch);
    expect('invalid' in settled && settled.invalid).toContain(reason);
  });
});
