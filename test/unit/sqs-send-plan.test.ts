import type { BatchResultErrorEntry } from '@aws-sdk/client-sqs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_BATCH_ENTRIES, MAX_BATCH_PAYLOAD_BYTES, MAX_MESSAGE_BYTES } from '../../lib/sqs/constants';
import type { SendFailureReason } from '../../lib/sqs/errors';
import type { SendOutcome } from '../../lib/sqs/send-plan';
import {
  classifyEntries,
  firstFinalFailure,
  planRetries,
  sendBackoffMs,
  splitIntoBatches,
  summarizeOutcomes,
} from '../../lib/sqs/send-plan';

const serverFault: SendFailureReason = { code: 'InternalError', message: 'try again', senderFault: false };
const refusal = (id: string): SendOutcome => ({
  accepted: false,
  id,
  code: 'InvalidParameterValue',
  message: 'bad body',
  senderFault: true,
  attempts: 1,
});

describe('splitIntoBatches', () => {
  it('puts at most 10 entries in one call', () => {
    expect(splitIntoBatches(Array(23).fill(10)).map((batch) => batch.length)).toEqual([10, 10, 3]);
  });

  it('fills a call up to exactly 1 MiB of payload, and starts a new one past it', () => {
    const half = MAX_BATCH_PAYLOAD_BYTES / 2;
    expect(splitIntoBatches([half, half, 1])).toEqual([[0, 1], [2]]);
    expect(splitIntoBatches([half, half + 1])).toEqual([[0], [1]]);
  });

  it('keeps every index once, in order, within both limits, whatever the sizes', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: MAX_MESSAGE_BYTES }), { maxLength: 60 }), (sizes) => {
        const batches = splitIntoBatches(sizes);
        expect(batches.flat()).toEqual(sizes.map((_, index) => index));
        for (const batch of batches) {
          expect(batch.length).toBeGreaterThan(0);
          expect(batch.length).toBeLessThanOrEqual(MAX_BATCH_ENTRIES);
          const bytes = batch.reduce((sum, index) => sum + (sizes[index] as number), 0);
          expect(batch.length === 1 || bytes <= MAX_BATCH_PAYLOAD_BYTES).toBe(true);
        }
        // A batch is closed only when the next message would not fit.
        batches.slice(0, -1).forEach((batch, n) => {
          const next = (batches[n + 1] as number[])[0] as number;
          const bytes = batch.reduce((sum, index) => sum + (sizes[index] as number), 0);
          expect(
            batch.length === MAX_BATCH_ENTRIES || bytes + (sizes[next] as number) > MAX_BATCH_PAYLOAD_BYTES,
          ).toBe(true);
        });
      }),
    );
  });
});

describe('classifyEntries', () => {
  it('sorts entries into accepted, refused as the sender’s fault, and failed on SQS’s side', () => {
    const verdicts = classifyEntries(
      [4, 5, 6],
      ['4'],
      [
        { Id: '5', Code: 'InvalidParameterValue', Message: 'bad', SenderFault: true },
        { Id: '6', Code: 'InternalError', SenderFault: false },
      ],
    );
    expect(verdicts.accepted).toEqual([4]);
    expect([...verdicts.refused]).toEqual([
      [5, { code: 'InvalidParameterValue', message: 'bad', senderFault: true }],
    ]);
    expect([...verdicts.retryable]).toEqual([
      [6, { code: 'InternalError', message: 'no message given', senderFault: false }],
    ]);
  });

  it('treats a failed entry without SenderFault as failed on SQS’s side', () => {
    const verdicts = classifyEntries(
      [0],
      [],
      [{ Id: '0', Code: 'InternalError', Message: 'oops' } as BatchResultErrorEntry],
    );
    expect(verdicts.refused.size).toBe(0);
    expect([...verdicts.retryable.keys()]).toEqual([0]);
  });

  it('sends again an entry the response does not mention', () => {
    const verdicts = classifyEntries([0, 1], ['0'], []);
    expect([...verdicts.retryable.keys()]).toEqual([1]);
    expect(verdicts.retryable.get(1)?.code).toBe('MissingFromResponse');
  });
});

describe('planRetries', () => {
  it('sends again, in order, the entries before the first final failure while attempts remain', () => {
    const retryable = new Map([
      [3, serverFault],
      [1, serverFault],
      [7, serverFault],
    ]);
    const plan = planRetries(retryable, 5, 1, 5);
    expect(plan.retry).toEqual([1, 3]);
    expect(plan.givenUp).toEqual([[7, serverFault]]);
  });

  it('gives up every entry on the last attempt, saying so', () => {
    const plan = planRetries(new Map([[0, serverFault]]), Number.POSITIVE_INFINITY, 5, 5);
    expect(plan.retry).toEqual([]);
    expect(plan.givenUp).toEqual([
      [0, { ...serverFault, message: 'try again (gave up after 5 attempt(s))' }],
    ]);
  });

  it('never sends again an entry after the first final failure, nor past maxAttempts', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 0, max: 30 }), { maxLength: 12 }),
        fc.integer({ min: 0, max: 31 }),
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 6 }),
        (indexes, firstFinal, attempt, maxAttempts) => {
          const plan = planRetries(
            new Map(indexes.map((index) => [index, serverFault])),
            firstFinal,
            attempt,
            maxAttempts,
          );
          expect([...plan.retry, ...plan.givenUp.map(([index]) => index)].sort((a, b) => a - b)).toEqual(
            [...indexes].sort((a, b) => a - b),
          );
          for (const index of plan.retry) expect(index).toBeLessThan(firstFinal);
          if (attempt >= maxAttempts) expect(plan.retry).toEqual([]);
        },
      ),
    );
  });
});

describe('firstFinalFailure', () => {
  it('finds the earliest refused index of the batch, or infinity', () => {
    const outcomes = new Map<number, SendOutcome>([
      [2, { accepted: true }],
      [3, refusal('c')],
      [4, refusal('d')],
    ]);
    expect(firstFinalFailure([2, 3, 4], outcomes)).toBe(3);
    expect(firstFinalFailure([2], outcomes)).toBe(Number.POSITIVE_INFINITY);
  });
});

describe('sendBackoffMs', () => {
  it('doubles from initialDelayMs and stops at maxDelayMs', () => {
    const delays = { initialDelayMs: 100, maxDelayMs: 2_000 };
    expect([1, 2, 3, 4, 5, 6].map((attempt) => sendBackoffMs(delays, attempt))).toEqual([
      100, 200, 400, 800, 1_600, 2_000,
    ]);
  });
});

describe('summarizeOutcomes', () => {
  it('puts every id in exactly one list: the accepted prefix, failures, accepted after a failure, unsent', () => {
    const outcomes = new Map<number, SendOutcome>([
      [0, { accepted: true }],
      [1, refusal('b')],
      [2, { accepted: true }],
    ]);
    const summary = summarizeOutcomes(['a', 'b', 'c', 'd', 'e'], outcomes, 4);
    expect(summary.acceptedIds).toEqual(['a']);
    expect(summary.failed.map((failure) => failure.id)).toEqual(['b']);
    expect(summary.acceptedAfterFailureIds).toEqual(['c']);
    expect(summary.unsentIds).toEqual(['d', 'e']);
  });

  it('counts as unsent every message from sentUpTo on, even one with an outcome', () => {
    const outcomes = new Map<number, SendOutcome>([
      [0, { accepted: true }],
      [1, { accepted: true }],
    ]);
    expect(summarizeOutcomes(['a', 'b'], outcomes, 1)).toMatchObject({
      acceptedIds: ['a'],
      unsentIds: ['b'],
    });
  });
});
