import { describe, expect, it } from 'vitest';
import { MAX_ERROR_MESSAGE_BYTES, shortenErrorMessage, summarizeError } from '../../lib/failed/truncate';

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
