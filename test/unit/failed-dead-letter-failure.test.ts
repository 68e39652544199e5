import { describe, expect, it } from 'vitest';
import { UNKNOWN_FAILURE_MESSAGE } from '../../lib/failed/constants';
import { deadLetterFailure } from '../../lib/failed/dead-letter-failure';
import { UNKNOWN_FAILURE_NAME } from '../../lib/failed/types';
import type { EnvelopeEvent } from '../../lib/messages/envelope';
import { EventIdGenerator, eventIdToTime } from '../../lib/time/event-id';

const NOW = Date.parse('2024-05-01T13:00:00.000Z');
const ids = new EventIdGenerator({ now: () => Date.parse('2024-05-01T12:00:00.000Z') });

function event(overrides: Partial<EnvelopeEvent> = {}): EnvelopeEvent {
  return {
    id: ids.next(),
    type: 'order.placed',
    data: { orderId: 'o-1' },
    partitionKey: 'o-1',
    ...overrides,
  };
}

describe('deadLetterFailure', () => {
  it('passes on the attempts and last error the worker recorded', () => {
    const lastError = { name: 'TypeError', message: 'total is undefined', at: NOW - 60_000 };
    const dead = event({ attempts: 5, lastError });

    const failure = deadLetterFailure({ pipeline: 'billing', stream: 'orders', event: dead, now: NOW });

    expect(failure).toEqual({
      pipeline: 'billing',
      event: {
        id: dead.id,
        stream: 'orders',
        type: 'order.placed',
        time: eventIdToTime(dead.id),
        data: { orderId: 'o-1' },
        partitionKey: 'o-1',
      },
      attempts: 5,
      lastError,
      failedAt: NOW - 60_000,
    });
  });

  it('gives an event SQS moved an UnknownFailure, its receive count and the time it was sent', () => {
    const failure = deadLetterFailure({
      pipeline: 'billing',
      stream: 'orders',
      event: event(),
      attributes: { ApproximateReceiveCount: '4', SentTimestamp: String(NOW - 120_000) },
      now: NOW,
    });

    expect(failure.attempts).toBe(4);
    expect(failure.lastError).toEqual({
      name: UNKNOWN_FAILURE_NAME,
      message: UNKNOWN_FAILURE_MESSAGE,
      at: NOW - 120_000,
    });
    expect(failure.failedAt).toBe(NOW);
  });

  it('falls back to the event attempts, then to 1, and to now, when the attributes are missing or bad', () => {
    const withAttempts = deadLetterFailure({
      pipeline: 'p',
      stream: 's',
      event: event({ attempts: 2 }),
      now: NOW,
    });
    expect(withAttempts.attempts).toBe(2);
    expect(withAttempts.lastError.at).toBe(NOW);

    const bare = deadLetterFailure({
      pipeline: 'p',
      stream: 's',
      event: event({ attempts: 0 }),
      attributes: { ApproximateReceiveCount: 'many', SentTimestamp: '-5' },
      now: NOW,
    });
    expect(bare.attempts).toBe(1);
    expect(bare.lastError.at).toBe(NOW);
  });

  it('uses now as the failure time when the recorded one cannot be a key', () => {
    const failure = deadLetterFailure({
      pipeline: 'p',
      stream: 's',
      event: event({ attempts: 3, lastError: { name: 'E', message: 'm', at: -1 } }),
      now: NOW,
    });
    expect(failure.failedAt).toBe(NOW);
    expect(failure.lastError.at).toBe(-1);
  });
});
