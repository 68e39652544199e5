import { describe, expect, it } from 'vitest';
import { validatePullConsumerOptions } from '../../lib/consumer/options';
import { MAX_ERROR_MESSAGE_BYTES } from '../../lib/failed/truncate';
import { type EnvelopeEvent, parseEnvelope, toEventFailure } from '../../lib/messages/envelope';
import { packEnvelopes } from '../../lib/messages/pack';
import { MAX_MESSAGE_BYTES } from '../../lib/sqs/constants';
import { messagePayloadBytes } from '../../lib/sqs/message-size';
import { EventIdGenerator } from '../../lib/time/event-id';
import { incompressibleText } from '../support/order-events';

const ids = new EventIdGenerator();

/** An event whose data is a string of `bytes` characters. */
function eventOf(bytes: number, extra: Partial<EnvelopeEvent> = {}): EnvelopeEvent {
  return { id: ids.next(), type: 'blob.stored', data: incompressibleText(bytes, bytes), ...extra };
}

/** The bodies `packEnvelopes` makes of these events, under the SQS limit less what attributes take. */
function bodiesOf(events: readonly EnvelopeEvent[], maxBodyBytes = MAX_MESSAGE_BYTES): string[] {
  return packEnvelopes({ pipeline: 'billing', stream: 'orders' }, events, { maxBodyBytes }).map(
    ({ body }) => body,
  );
}

describe('packEnvelopes', () => {
  it('packs small events into one envelope that reads back with their attempts and last error', () => {
    // Prepare
    const lastError = { name: 'Error', message: 'boom', at: 1 };
    const events = [eventOf(10, { attempts: 2, lastError }), eventOf(20, { partitionKey: 'p-1' })];

    // Act
    const bodies = bodiesOf(events);

    // Assess
    expect(bodies).toHaveLength(1);
    expect(parseEnvelope(bodies[0] as string)).toEqual({
      sluice: 1,
      pipeline: 'billing',
      stream: 'orders',
      events,
    });
  });

  it('starts a new envelope before one would pass 1 MiB, counting the message attributes', () => {
    // Prepare
    const events = [eventOf(400_000), eventOf(400_000), eventOf(400_000)];
    const attributes = { trace: { DataType: 'String', StringValue: 'y'.repeat(250_000) } };

    // Act
    const plain = bodiesOf(events);
    const withAttributes = bodiesOf(
      events,
      MAX_MESSAGE_BYTES - messagePayloadBytes({ body: '', attributes }),
    );

    // Assess
    expect(plain.map((body) => parseEnvelope(body).events.length)).toEqual([2, 1]);
    expect(withAttributes.map((body) => parseEnvelope(body).events.length)).toEqual([1, 1, 1]);
    for (const body of plain) expect(Buffer.byteLength(body)).toBeLessThanOrEqual(MAX_MESSAGE_BYTES);
  });
});

describe('toEventFailure', () => {
  it('records an error by its name and message, a string as an Error, and no reason as unknown', () => {
    // Act
    const failures = [
      toEventFailure(new RangeError('too far'), 5, 'UnknownFailure'),
      toEventFailure('declined', 6, 'UnknownFailure'),
      toEventFailure(undefined, 7, 'UnknownFailure'),
    ];

    // Assess
    expect(failures).toEqual([
      { name: 'RangeError', message: 'too far', at: 5 },
      { name: 'Error', message: 'declined', at: 6 },
      { name: 'UnknownFailure', message: 'the attempt failed without a reason given', at: 7 },
    ]);
  });

  it('cuts a long message so that a re-sent event does not grow without bound', () => {
    // Act
    const failure = toEventFailure('z'.repeat(100_000), 1, 'UnknownFailure');

    // Assess
    expect(Buffer.byteLength(failure.message)).toBeLessThanOrEqual(MAX_ERROR_MESSAGE_BYTES);
    expect(failure.message.endsWith('… (cut from 100000 bytes)')).toBe(true);
  });
});

describe('validatePullConsumerOptions', () => {
  const sqs = { send: async () => ({}) } as never;
  const queueUrl = 'https://sqs.eu-west-1.amazonaws.com/123456789012/orders';

  it('accepts the smallest valid options', () => {
    expect(validatePullConsumerOptions({ sqs, queueUrl, deadLetterQueueUrl: `${queueUrl}-dlq` })).toEqual([]);
    expect(validatePullConsumerOptions({ sqs, queueUrl, onFinallyFailed: () => {} })).toEqual([]);
  });

  it('fails when the heartbeat is not a positive number, or the logger lacks methods', () => {
    // Act
    const problems = validatePullConsumerOptions({
      sqs,
      queueUrl,
      deadLetterQueueUrl: queueUrl,
      heartbeatIntervalSeconds: Number.NaN,
      logger: { warn: () => {} } as never,
    });

    // Assess
    expect(problems).toEqual([
      `deadLetterQueueUrl must differ from queueUrl (both are "${queueUrl}")`,
      'heartbeatIntervalSeconds must be a number of seconds more than 0 (given NaN)',
      'logger must have the methods debug, info, warn and error (missing debug, info, error)',
    ]);
  });
});
