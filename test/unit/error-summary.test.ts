import { describe, expect, it } from 'vitest';
import { deadLetterFailure } from '../../lib/failed/dead-letter-failure';
import {
  MAX_ERROR_MESSAGE_BYTES,
  shortenErrorMessage,
  shortenFailure,
  summarizeError,
} from '../../lib/failed/truncate';

describe('summarizeError', () => {
  it.each([
    ['an Error', new TypeError('bad order'), { name: 'TypeError', message: 'bad order' }],
    ['a string', 'declined', { name: 'Error', message: 'declined' }],
    [
      'an object with no prototype',
      Object.create(null),
      { name: 'Error', message: 'a value that is not an Error was thrown: {}' },
    ],
    [
      'an Error whose name is not a string',
      Object.assign(new Error('named by a number'), { name: 42 }),
      { name: 'Error', message: 'named by a number' },
    ],
    [
      'a plain object',
      { code: 'E_DECLINED', amount: 10n },
      {
        name: 'Error',
        message: 'a value that is not an Error was thrown: {"code":"E_DECLINED","amount":"10"}',
      },
    ],
    [
      'an object with a string name and message',
      { name: 'PaymentDeclined', message: 'card expired' },
      { name: 'PaymentDeclined', message: 'card expired' },
    ],
    [
      'undefined',
      undefined,
      { name: 'Error', message: 'a value that is not an Error was thrown: undefined' },
    ],
    [
      'a symbol',
      Symbol('odd'),
      { name: 'Error', message: 'a value that is not an Error was thrown: Symbol(odd)' },
    ],
  ])('describes %s with a string name and message', (_what, thrown, expected) => {
    expect(summarizeError(thrown)).toEqual(expected);
  });

  it('never throws, whatever the value does when it is read', () => {
    // Prepare
    const circular: Record<string, unknown> = { id: 1 };
    circular.self = circular;
    const hostile = new Proxy(
      {},
      {
        get() {
          throw new Error('no reading me');
        },
        ownKeys() {
          throw new Error('no listing me');
        },
      },
    );

    // Act
    const summaries = [summarizeError(circular), summarizeError(hostile)];

    // Assess
    expect(summaries[0]).toEqual({
      name: 'Error',
      message: 'a value that is not an Error was thrown: {"id":1,"self":"[circular]"}',
    });
    expect(summaries[1]?.name).toBe('Error');
    expect(typeof summaries[1]?.message).toBe('string');
  });
});

describe('shortenErrorMessage', () => {
  it('keeps a short message, and cuts a long one on a character boundary with a note of its size', () => {
    expect(shortenErrorMessage('short')).toBe('short');
    const long = shortenErrorMessage('é'.repeat(10_000));
    expect(Buffer.byteLength(long)).toBeLessThanOrEqual(MAX_ERROR_MESSAGE_BYTES);
    expect(long).toMatch(/^é+… \(cut from 20000 bytes\)$/);
  });
});

describe('one rule for a recorded failure', () => {
  it('cuts a failure that arrives already recorded as it cuts a thrown error, keeping its time', () => {
    // Prepare: a long error from another writer (an older worker, a hand-made envelope).
    const message = 'x'.repeat(100_000);

    // Act
    const shortened = shortenFailure({ name: 'TimeoutError', message, at: 1_700_000_000_000 });
    const failure = deadLetterFailure({
      pipeline: 'billing',
      stream: 'orders',
      event: {
        id: '018f3a6c-1d2e-7000-8000-000000000000',
        type: 'order.placed',
        data: {},
        attempts: 5,
        lastError: { name: 'TimeoutError', message, at: 1_700_000_000_000 },
      },
      now: 1_700_000_100_000,
    });

    // Assess
    expect(shortened).toEqual({
      ...summarizeError(new Error(message)),
      name: 'TimeoutError',
      at: 1_700_000_000_000,
    });
    expect(Buffer.byteLength(shortened.message)).toBeLessThanOrEqual(MAX_ERROR_MESSAGE_BYTES);
    expect(failure.lastError).toEqual(shortened);
  });
});
