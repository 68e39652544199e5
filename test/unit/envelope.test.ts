import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type EnvelopeEvent,
  envelopeBody,
  MalformedMessageError,
  parseEnvelope,
} from '../../lib/messages/envelope';
import { EventIdGenerator } from '../../lib/time/event-id';
import { markerKey, markerKeyOf } from '../../lib/worker/marker-store';

const MESSAGE_ID = '059f36b4-87a3-44ab-83d2-661975830a7d';

const ids = new EventIdGenerator({ now: () => Date.parse('2024-05-01T12:30:00.000Z') });

function envelopeEvent(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { id: ids.next(), type: 'order.placed', data: { orderId: 'o-1' }, ...overrides };
}

/** A valid envelope as plain JSON, with some fields replaced or removed (set to undefined). */
function envelopeJson(overrides: Record<string, unknown> = {}): string {
  return JSON.stringify({
    sluice: 1,
    pipeline: 'billing',
    stream: 'orders',
    events: [envelopeEvent()],
    ...overrides,
  });
}

/** An SNS notification as SQS receives it from a subscription without raw message delivery. */
function snsNotification(message: string): string {
  return JSON.stringify({
    Type: 'Notification',
    MessageId: '22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324',
    TopicArn: 'arn:aws:sns:eu-west-1:123456789012:orders',
    Subject: null,
    Message: message,
    Timestamp: '2024-05-01T12:30:00.000Z',
    SignatureVersion: '1',
    Signature:
      'EXAMPLEpH+DcEwjAPg8O9mY8dReBSwksfg2S7WKQcikcNKWLQjwu6A4VbeS0QHVCkhRS7fUQvi2egU3N858fiTDN6bkkOxYDVrY0Ad8L10Hs3zH81mtnPk5uvvolIC1CXGu43obcgFxeL3khZl8IKvO61GWB6jI9b5+gLPoBc1Q=',
    SigningCertURL:
      'https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-0000000000000000000000.pem',
    UnsubscribeURL:
      'https://sns.eu-west-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=arn:aws:sns:eu-west-1:123456789012:orders:c9135db0-26c4-47ec-8998-413945fb5a96',
  });
}

/** An S3 "object created" notification, as a bucket sends it to a queue. */
function s3Notification(key: string): string {
  return JSON.stringify({
    Records: [
      {
        eventVersion: '2.1',
        eventSource: 'aws:s3',
        awsRegion: 'eu-west-1',
        eventTime: '2024-05-01T12:30:00.000Z',
        eventName: 'ObjectCreated:Put',
        userIdentity: { principalId: 'AWS:AIDAJDPLRKLG7UEXAMPLE' },
        requestParameters: { sourceIPAddress: '203.0.113.10' },
        responseElements: {
          'x-amz-request-id': 'C3D13FE58DE4C810',
          'x-amz-id-2': 'FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD',
        },
        s3: {
          s3SchemaVersion: '1.0',
          configurationId: 'orders-uploads',
          bucket: {
            name: 'orders-uploads',
            ownerIdentity: { principalId: 'A3NL1KOZZKExample' },
            arn: 'arn:aws:s3:::orders-uploads',
          },
          object: {
            key,
            size: 1024,
            eTag: 'd41d8cd98f00b204e9800998ecf8427e',
            sequencer: '0055AED6DCD90281E5',
          },
        },
      },
    ],
  });
}

/** An EventBridge event delivered to a queue target. */
function eventBridgeEvent(): string {
  return JSON.stringify({
    version: '0',
    id: '6a7e8feb-b491-4cf7-a9f1-bf3703467718',
    'detail-type': 'Backfill Requested',
    source: 'sluice',
    account: '123456789012',
    time: '2024-05-01T12:30:00Z',
    region: 'eu-west-1',
    resources: [],
    detail: { pipeline: 'billing' },
  });
}

interface MalformedCase {
  readonly name: string;
  readonly body: string;
  /** What the error must say is wrong, after "message <id> is not a Sluice message: ". */
  readonly reason: RegExp;
}

const malformed: readonly MalformedCase[] = [
  { name: 'the body is not JSON', body: 'order o-1 placed', reason: /^its body is not JSON \(.+\)$/ },
  { name: 'the body is empty', body: '', reason: /^its body is not JSON \(.*end of JSON input.*\)$/ },
  {
    name: 'the body is truncated JSON',
    body: envelopeJson().slice(0, 90),
    reason: /^its body is not JSON \(.+\)$/,
  },
  { name: 'the body is XML', body: '<order id="o-1"/>', reason: /^its body is not JSON/ },
  {
    name: 'the body is a JSON array',
    body: `[${envelopeJson()}]`,
    reason: /^body: .*expected object, received array/,
  },
  { name: 'the body is JSON null', body: 'null', reason: /^body: .*expected object, received null/ },
  {
    name: 'the body is an envelope encoded twice, as a JSON string',
    body: JSON.stringify(envelopeJson()),
    reason: /^body: .*expected object, received string/,
  },
  { name: 'the sluice version is 3', body: envelopeJson({ sluice: 3 }), reason: /^sluice: .*expected 1/ },
  { name: 'a version 2 body has no codec', body: envelopeJson({ sluice: 2 }), reason: /^codec: / },
  {
    name: 'the sluice version is missing',
    body: envelopeJson({ sluice: undefined }),
    reason: /^sluice: .*expected 1/,
  },
  {
    name: 'the pipeline is missing',
    body: envelopeJson({ pipeline: undefined }),
    reason: /^pipeline: .*expected string, received undefined/,
  },
  { name: 'the pipeline is empty', body: envelopeJson({ pipeline: '' }), reason: /^pipeline: Too small/ },
  {
    name: 'the stream is a number',
    body: envelopeJson({ stream: 42 }),
    reason: /^stream: .*expected string, received number/,
  },
  {
    name: 'the body has no events',
    body: envelopeJson({ events: undefined }),
    reason: /^events: .*expected array, received undefined/,
  },
  {
    name: 'events is empty',
    body: envelopeJson({ events: [] }),
    reason: /^events: Too small: expected array to have >=1 items/,
  },
  {
    name: 'events is an object',
    body: envelopeJson({ events: envelopeEvent() }),
    reason: /^events: .*expected array, received object/,
  },
  {
    name: 'an event is null',
    body: envelopeJson({ events: [envelopeEvent(), null] }),
    reason: /^events\.1: .*expected object, received null/,
  },
  {
    name: 'an event id is not a Sluice id (a version 4 UUID)',
    body: envelopeJson({ events: [envelopeEvent({ id: 'f47ac10b-58cc-4372-a567-0e02b2c3d479' })] }),
    reason: /^events\.0\.id: not a Sluice event id/,
  },
  {
    name: 'an event id is in upper case',
    body: envelopeJson({ events: [envelopeEvent({ id: ids.next().toUpperCase() })] }),
    reason: /^events\.0\.id: not a Sluice event id/,
  },
  {
    name: 'an event has no type',
    body: envelopeJson({ events: [envelopeEvent(), envelopeEvent({ type: undefined })] }),
    reason: /^events\.1\.type: .*expected string, received undefined/,
  },
  {
    name: 'an event type is empty',
    body: envelopeJson({ events: [envelopeEvent({ type: '' })] }),
    reason: /^events\.0\.type: Too small/,
  },
  {
    name: 'an event has no data',
    body: envelopeJson({ events: [envelopeEvent({ data: undefined })] }),
    reason: /^events\.0\.data: /,
  },
  {
    name: 'a partition key is a number',
    body: envelopeJson({ events: [envelopeEvent({ partitionKey: 7 })] }),
    reason: /^events\.0\.partitionKey: .*expected string, received number/,
  },
  {
    name: 'the body is an SNS notification wrapper',
    body: snsNotification(envelopeJson()),
    reason: /^sluice: /,
  },
  {
    name: 'the body is an S3 event notification',
    body: s3Notification('orders/2024/05/01/o-1.json'),
    reason: /^sluice: /,
  },
  { name: 'the body is an EventBridge event', body: eventBridgeEvent(), reason: /^sluice: / },
];

describe('parseEnvelope', () => {
  it.each(malformed)('fails when $name', ({ body, reason }) => {
    // Act
    let error: unknown;
    try {
      parseEnvelope(body, MESSAGE_ID);
    } catch (thrown) {
      error = thrown;
    }

    // Assess
    expect(error).toBeInstanceOf(MalformedMessageError);
    const { message, messageId, name } = error as MalformedMessageError;
    expect(name).toBe('MalformedMessageError');
    expect(messageId).toBe(MESSAGE_ID);
    const prefix = `message ${MESSAGE_ID} is not a Sluice message: `;
    expect(message.startsWith(prefix)).toBe(true);
    expect(message.slice(prefix.length)).toMatch(reason);
  });

  it('fails with "(no id)" when no message id is given, keeping the parse error as its cause', () => {
    // Act
    let error: unknown;
    try {
      parseEnvelope('{"sluice":1,');
    } catch (thrown) {
      error = thrown;
    }

    // Assess
    expect(error).toBeInstanceOf(MalformedMessageError);
    expect((error as MalformedMessageError).messageId).toBeUndefined();
    expect((error as Error).message).toMatch(
      /^message \(no id\) is not a Sluice message: its body is not JSON/,
    );
    expect((error as Error).cause).toBeInstanceOf(SyntaxError);
  });

  it('reads back an envelope built with envelopeBody', () => {
    // Prepare
    const events: EnvelopeEvent[] = [
      {
        id: ids.next(),
        type: 'order.placed',
        data: { orderId: 'o-1', total: 12.5, lines: [{ sku: 'a', qty: 2 }] },
      },
      { id: ids.next(), type: 'order.paid', data: null, partitionKey: 'customer-7' },
      { id: ids.next(), type: 'order.noted', data: 'ünïcödé € 😀 "quoted" \\ back' },
    ];
    const body = envelopeBody({ pipeline: 'billing', stream: 'orders' }, events);

    // Act
    const envelope = parseEnvelope(body, MESSAGE_ID);

    // Assess
    expect(envelope).toEqual({ sluice: 1, pipeline: 'billing', stream: 'orders', events });
    expect('partitionKey' in (envelope.events[0] as object)).toBe(false);
  });

  it('reads back any envelope built with envelopeBody', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,30}$/),
        fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,30}$/),
        fc.array(
          fc.record({
            type: fc.stringMatching(/^[a-z][a-z.]{0,20}$/),
            data: fc.jsonValue().map((value) => JSON.parse(JSON.stringify(value)) as unknown),
            partitionKey: fc.option(fc.string({ minLength: 1, maxLength: 20 }), { nil: undefined }),
          }),
          { minLength: 1, maxLength: 10 },
        ),
        (pipeline, stream, specs) => {
          // Prepare
          const events: EnvelopeEvent[] = specs.map(({ partitionKey, ...rest }) => ({
            id: ids.next(),
            ...rest,
            ...(partitionKey === undefined ? {} : { partitionKey }),
          }));
          const body = envelopeBody({ pipeline, stream }, events);

          // Act
          const envelope = parseEnvelope(body, MESSAGE_ID);

          // Assess: a body over 1 KiB may be written compressed, and reads back the same.
          expect([1, 2]).toContain(envelope.sluice);
          expect(envelope).toEqual({ sluice: envelope.sluice, pipeline, stream, events });
        },
      ),
    );
  });
});

describe('the head of a copy', () => {
  it('keeps the epoch and the redrive of the message it copies', () => {
    // Prepare
    const event = envelopeEvent() as unknown as EnvelopeEvent;
    const source = { pipeline: 'billing', stream: 'orders', epoch: 3, redrive: 'r-1' };

    // Act
    const copy = parseEnvelope(envelopeBody(source, [event]), MESSAGE_ID);

    // Assess
    expect(copy).toEqual({ sluice: 1, ...source, events: [event] });
  });

  it('fails when the redrive is empty or too long, naming the value', () => {
    expect(() => parseEnvelope(envelopeJson({ redrive: '' }), MESSAGE_ID)).toThrow(/redrive: .*\(given ""\)/);
    expect(() => parseEnvelope(envelopeJson({ redrive: 'x'.repeat(65) }), MESSAGE_ID)).toThrow(/redrive: /);
  });

  it('gives a redriven message a marker of its own, and every delivery of it the same one', () => {
    // Prepare
    const events = [envelopeEvent(), envelopeEvent()] as unknown as EnvelopeEvent[];
    const first = { pipeline: 'billing', epoch: 2, events };

    // Act
    const keys = {
      first: markerKeyOf(first),
      redriven: markerKeyOf({ ...first, redrive: 'r-1' }),
      redeliveredInAnotherOrder: markerKeyOf({ ...first, redrive: 'r-1', events: [...events].reverse() }),
      redrivenAgain: markerKeyOf({ ...first, redrive: 'r-2' }),
    };

    // Assess
    expect(keys.first).toBe(
      markerKey(
        events.map((event) => event.id),
        { pipeline: 'billing', epoch: 2 },
      ),
    );
    expect(keys.redriven).not.toBe(keys.first);
    expect(keys.redeliveredInAnotherOrder).toBe(keys.redriven);
    expect(keys.redrivenAgain).not.toBe(keys.redriven);
  });
});
