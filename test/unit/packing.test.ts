import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { StoredEvent } from '../../lib';
import { TooLargeError } from '../../lib/errors';
import {
  lastContiguousAcceptedEventId,
  messageGroupIdFor,
  type PackedMessage,
  type PackingOptions,
  packEvents,
} from '../../lib/fetcher/packing';
import {
  bodyOfSerialized,
  type EnvelopeEvent,
  parseEnvelope,
  serializeEnvelopeEvent,
} from '../../lib/messages/envelope';
import { MAX_MESSAGE_BYTES } from '../../lib/sqs/constants';
import { EventIdGenerator, eventIdToTime } from '../../lib/time/event-id';
import { incompressibleText } from '../support/order-events';

const PIPELINE = 'billing';
const STREAM = 'orders';

type EventFields = Partial<Pick<StoredEvent, 'type' | 'data' | 'partitionKey'>>;

/** Makes stored events of one stream with real, increasing ids, one millisecond apart. */
function eventFactory(
  startMs = Date.parse('2024-05-01T12:00:00.000Z'),
): (fields?: EventFields) => StoredEvent {
  let clock = startMs;
  const ids = new EventIdGenerator({ now: () => clock });
  return (fields = {}) => {
    clock += 1;
    const id = ids.next();
    return {
      id,
      stream: STREAM,
      type: fields.type ?? 'order.placed',
      time: eventIdToTime(id),
      data: 'data' in fields ? fields.data : { orderId: `o-${id.slice(-6)}` },
      ...(fields.partitionKey === undefined ? {} : { partitionKey: fields.partitionKey }),
    };
  };
}

function storedEvents(specs: readonly EventFields[]): StoredEvent[] {
  const make = eventFactory();
  return specs.map((spec) => make(spec));
}

/** What a worker should read back for an event. */
function envelopeEventOf(event: StoredEvent): EnvelopeEvent {
  return {
    id: event.id,
    type: event.type,
    data: event.data,
    ...(event.partitionKey === undefined ? {} : { partitionKey: event.partitionKey }),
  };
}

/** The bytes a plain (version 1) body adds around its events. */
function plainOverheadBytes(pipeline: string, stream: string): number {
  return Buffer.byteLength(
    `{"sluice":1,"pipeline":${JSON.stringify(pipeline)},"stream":${JSON.stringify(stream)},"events":[]}`,
  );
}

function bodyBytes(message: PackedMessage): number {
  return Buffer.byteLength(message.body);
}

function caught(act: () => unknown): unknown {
  try {
    act();
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to throw');
}

// JSON data as the event log hands it back: a JSON round trip turns -0 into 0 and the like.
const jsonData = fc
  .oneof(
    fc.jsonValue({ maxDepth: 2 }),
    fc.string({ maxLength: 2_000 }),
    fc.record({ note: fc.string({ unit: 'binary', maxLength: 300 }) }),
  )
  .map((value) => JSON.parse(JSON.stringify(value)) as unknown);

// Keys that SQS takes as group ids, keys it does not (a space, non-ASCII, too long), and the stream's
// own name, which events without a key fall back to.
const partitionKeys = fc.option(
  fc.constantFrom('customer-1', 'customer-2', 'customer 3', 'clïent-4', STREAM, 'k'.repeat(129)),
  { nil: undefined },
);

const eventSpecs = fc.array(
  fc.record({
    type: fc.constantFrom('order.placed', 'order.paid', 'order.shipped'),
    data: jsonData,
    partitionKey: partitionKeys,
  }),
  { maxLength: 40 },
);

const packingOptions = fc.record({
  maxMessageBytes: fc.integer({ min: 200, max: 8_000 }),
  maxEventsPerMessage: fc.integer({ min: 1, max: 12 }),
  fifo: fc.boolean(),
});

const groupKeyOf = (event: StoredEvent): string => event.partitionKey ?? event.stream;

describe('envelope helpers used by packing', () => {
  it('count the overhead of a plain envelope exactly, whatever the names', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 40, unit: 'binary' }),
        fc.string({ minLength: 1, maxLength: 40, unit: 'binary' }),
        fc.array(jsonData, { maxLength: 5 }),
        (pipeline, stream, data) => {
          // Prepare
          const make = eventFactory();
          const serialized = data.map((value) => serializeEnvelopeEvent(make({ data: value })));

          // Act
          const body = bodyOfSerialized({ pipeline, stream }, serialized);

          // Assess: a body is plain unless compression made it smaller.
          const eventBytes = serialized.reduce((sum, text) => sum + Buffer.byteLength(text), 0);
          const separators = Math.max(0, serialized.length - 1);
          expect(Buffer.byteLength(body)).toBeLessThanOrEqual(
            plainOverheadBytes(pipeline, stream) + eventBytes + separators,
          );
        },
      ),
    );
  });

  it('write a partition key only when the event has one', () => {
    // Prepare
    const make = eventFactory();
    const keyed = make({ partitionKey: 'customer-7' });
    const unkeyed = make();

    // Act
    const keyedJson = JSON.parse(serializeEnvelopeEvent(keyed)) as Record<string, unknown>;
    const unkeyedJson = JSON.parse(serializeEnvelopeEvent(unkeyed)) as Record<string, unknown>;

    // Assess
    expect(keyedJson).toEqual({
      id: keyed.id,
      type: 'order.placed',
      data: keyed.data,
      partitionKey: 'customer-7',
    });
    expect(Object.keys(unkeyedJson)).toEqual(['id', 'type', 'data']);
  });
});

describe('packEvents', () => {
  it('packs nothing into no messages', () => {
    // Act
    const messages = packEvents(PIPELINE, STREAM, []);

    // Assess
    expect(messages).toEqual([]);
  });

  it('packs a few small events into one message a worker can read', () => {
    // Prepare
    const events = storedEvents([{}, { type: 'order.paid' }, { partitionKey: 'customer-1' }]);

    // Act
    const messages = packEvents(PIPELINE, STREAM, events);

    // Assess
    expect(messages).toHaveLength(1);
    const [message] = messages as [PackedMessage];
    expect(message.id).toBe(events[0]?.id);
    expect(message.eventIds).toEqual(events.map((event) => event.id));
    expect(message.groupId).toBeUndefined();
    expect(message.deduplicationId).toBeUndefined();
    expect(parseEnvelope(message.body, message.id)).toEqual({
      sluice: 1,
      pipeline: PIPELINE,
      stream: STREAM,
      events: events.map(envelopeEventOf),
    });
  });

  it('puts every event in exactly one message, with its id, type, data and partition key intact', () => {
    fc.assert(
      fc.property(eventSpecs, packingOptions, (specs, options) => {
        // Prepare
        const events = storedEvents(specs);

        // Act
        const messages = packEvents(PIPELINE, STREAM, events, options);

        // Assess
        const delivered = messages.flatMap((message) => {
          const envelope = parseEnvelope(message.body, message.id);
          expect(envelope.pipeline).toBe(PIPELINE);
          expect(envelope.stream).toBe(STREAM);
          expect(envelope.events.map((event) => event.id)).toEqual(message.eventIds);
          expect(message.id).toBe(message.eventIds[0]);
          return envelope.events;
        });
        expect(delivered).toHaveLength(events.length);
        const byId = new Map(delivered.map((event) => [event.id, event]));
        expect(byId.size).toBe(events.length);
        for (const event of events) expect(byId.get(event.id)).toEqual(envelopeEventOf(event));
      }),
    );
  });

  it('keeps every message within maxMessageBytes unless it holds one event, and within maxEventsPerMessage', () => {
    fc.assert(
      fc.property(eventSpecs, packingOptions, (specs, options) => {
        // Prepare
        const events = storedEvents(specs);

        // Act
        const messages = packEvents(PIPELINE, STREAM, events, options);

        // Assess
        for (const message of messages) {
          expect(message.eventIds.length).toBeGreaterThanOrEqual(1);
          expect(message.eventIds.length).toBeLessThanOrEqual(options.maxEventsPerMessage);
          if (message.eventIds.length > 1)
            expect(bodyBytes(message)).toBeLessThanOrEqual(options.maxMessageBytes);
          expect(bodyBytes(message)).toBeLessThanOrEqual(MAX_MESSAGE_BYTES);
        }
      }),
    );
  });

  it('closes a message only when the next event of its queue or group would break a limit', () => {
    fc.assert(
      fc.property(eventSpecs, packingOptions, (specs, options) => {
        // Prepare
        const events = storedEvents(specs);
        const eventById = new Map(events.map((event) => [event.id, event]));

        // Act
        const messages = packEvents(PIPELINE, STREAM, events, options);

        // Assess
        const lastOpen = new Map<string, PackedMessage>();
        for (const message of messages) {
          const lane = message.groupId ?? '';
          const previous = lastOpen.get(lane);
          if (previous) {
            const next = eventById.get(message.eventIds[0] as string) as StoredEvent;
            const full = previous.eventIds.length >= options.maxEventsPerMessage;
            const withNext = [...previous.eventIds.map((id) => eventById.get(id) as StoredEvent), next];
            const tooBig =
              Buffer.byteLength(
                bodyOfSerialized(
                  { pipeline: PIPELINE, stream: STREAM },
                  withNext.map(serializeEnvelopeEvent),
                ),
              ) > options.maxMessageBytes;
            expect(full || tooBig).toBe(true);
          }
          lastOpen.set(lane, message);
        }
      }),
    );
  });

  it('sends one message per event when maxEventsPerMessage is 1', () => {
    fc.assert(
      fc.property(eventSpecs, fc.boolean(), (specs, fifo) => {
        // Prepare
        const events = storedEvents(specs);

        // Act
        const messages = packEvents(PIPELINE, STREAM, events, { maxEventsPerMessage: 1, fifo });

        // Assess
        expect(messages.map((message) => message.eventIds)).toEqual(events.map((event) => [event.id]));
      }),
    );
  });

  it('on a standard queue, orders messages by first event and keeps the events in input order', () => {
    fc.assert(
      fc.property(eventSpecs, packingOptions, (specs, options) => {
        // Prepare
        const events = storedEvents(specs);

        // Act
        const messages = packEvents(PIPELINE, STREAM, events, { ...options, fifo: false });

        // Assess
        const firstIds = messages.map((message) => message.id);
        expect(firstIds).toEqual([...firstIds].sort());
        expect(messages.flatMap((message) => message.eventIds)).toEqual(events.map((event) => event.id));
        for (const message of messages) {
          expect(message.groupId).toBeUndefined();
          expect(message.deduplicationId).toBeUndefined();
        }
      }),
    );
  });

  it('on a FIFO queue, groups each message by partition key (or stream) and keeps each group in order', () => {
    fc.assert(
      fc.property(eventSpecs, packingOptions, (specs, options) => {
        // Prepare
        const events = storedEvents(specs);
        const eventById = new Map(events.map((event) => [event.id, event]));

        // Act
        const messages = packEvents(PIPELINE, STREAM, events, { ...options, fifo: true });

        // Assess
        const firstIds = messages.map((message) => message.id);
        expect(firstIds).toEqual([...firstIds].sort());
        const deliveredByKey = new Map<string, string[]>();
        for (const message of messages) {
          const keys = new Set(message.eventIds.map((id) => groupKeyOf(eventById.get(id) as StoredEvent)));
          expect(keys.size).toBe(1);
          const [key] = [...keys] as [string];
          expect(message.groupId).toBe(messageGroupIdFor(key));
          deliveredByKey.set(key, [...(deliveredByKey.get(key) ?? []), ...message.eventIds]);
        }
        const expectedByKey = new Map<string, string[]>();
        for (const event of events) {
          const key = groupKeyOf(event);
          expectedByKey.set(key, [...(expectedByKey.get(key) ?? []), event.id]);
        }
        expect(deliveredByKey).toEqual(expectedByKey);
      }),
    );
  });

  it('on a FIFO queue, gives each set of events a stable deduplication id of at most 128 characters', () => {
    fc.assert(
      fc.property(
        eventSpecs,
        packingOptions,
        fc.integer({ min: 1, max: 12 }),
        (specs, options, otherMaxEvents) => {
          // Prepare
          const events = storedEvents(specs);
          const fifo = { ...options, fifo: true };

          // Act
          const first = packEvents(PIPELINE, STREAM, events, fifo);
          const again = packEvents(PIPELINE, STREAM, events, fifo);
          const repacked = packEvents(PIPELINE, STREAM, events, {
            ...fifo,
            maxEventsPerMessage: otherMaxEvents,
          });

          // Assess
          expect(again.map((message) => message.deduplicationId)).toEqual(
            first.map((message) => message.deduplicationId),
          );
          for (const message of [...first, ...repacked]) {
            expect(message.deduplicationId).toMatch(/^[\x21-\x7e]{1,128}$/);
          }
          for (const a of first) {
            for (const b of repacked) {
              const sameEvents = a.eventIds.join(',') === b.eventIds.join(',');
              expect(a.deduplicationId === b.deduplicationId).toBe(sameEvents);
            }
          }
          expect(new Set(first.map((message) => message.deduplicationId)).size).toBe(first.length);
        },
      ),
    );
  });

  it('fills a message up to exactly maxMessageBytes, and not one byte over', () => {
    // Prepare
    const [first, second] = storedEvents([{ data: 'a' }, { data: 'b' }]) as [StoredEvent, StoredEvent];
    const exact =
      plainOverheadBytes(PIPELINE, STREAM) +
      Buffer.byteLength(serializeEnvelopeEvent(first)) +
      1 +
      Buffer.byteLength(serializeEnvelopeEvent(second));

    // Act
    const fits = packEvents(PIPELINE, STREAM, [first, second], { maxMessageBytes: exact });
    const oneByteShort = packEvents(PIPELINE, STREAM, [first, second], { maxMessageBytes: exact - 1 });

    // Assess
    expect(fits.map((message) => message.eventIds)).toEqual([[first.id, second.id]]);
    expect(bodyBytes(fits[0] as PackedMessage)).toBe(exact);
    expect(oneByteShort.map((message) => message.eventIds)).toEqual([[first.id], [second.id]]);
  });

  it('sends an event larger than maxMessageBytes alone', () => {
    // Prepare
    const make = eventFactory();
    const events = [make(), make({ data: incompressibleText(5_000) }), make()];

    // Act
    const messages = packEvents(PIPELINE, STREAM, events, { maxMessageBytes: 1_024 });

    // Assess
    expect(messages.map((message) => message.eventIds)).toEqual([
      [events[0]?.id],
      [events[1]?.id],
      [events[2]?.id],
    ]);
  });

  it('sends an event of exactly the SQS limit, alone', () => {
    // Prepare
    const make = eventFactory();
    const small = make();
    const probe = make({ data: '' });
    const spare =
      MAX_MESSAGE_BYTES -
      plainOverheadBytes(PIPELINE, STREAM) -
      Buffer.byteLength(serializeEnvelopeEvent(probe));
    const atLimit = { ...probe, data: incompressibleText(spare) };

    // Act
    const messages = packEvents(PIPELINE, STREAM, [small, atLimit]);

    // Assess
    expect(messages.map((message) => message.eventIds)).toEqual([[small.id], [atLimit.id]]);
    expect(bodyBytes(messages[1] as PackedMessage)).toBe(MAX_MESSAGE_BYTES);
  });

  it('fails when an event is one byte over the SQS limit, naming its id, size and the limit', () => {
    // Prepare
    const make = eventFactory();
    const small = make();
    const probe = make({ data: '' });
    const spare =
      MAX_MESSAGE_BYTES -
      plainOverheadBytes(PIPELINE, STREAM) -
      Buffer.byteLength(serializeEnvelopeEvent(probe));
    const overLimit = { ...probe, data: incompressibleText(spare + 1) };

    // Act
    const error = caught(() => packEvents(PIPELINE, STREAM, [small, overLimit]));

    // Assess
    expect(error).toMatchObject({ constructor: TooLargeError, what: 'event in message' });
    expect(error).toMatchObject({
      name: 'TooLargeError',
      eventId: overLimit.id,
      sizeBytes: MAX_MESSAGE_BYTES + 1,
      limitBytes: MAX_MESSAGE_BYTES,
    });
    expect((error as Error).message).toContain(overLimit.id);
    expect((error as Error).message).toContain(`${MAX_MESSAGE_BYTES + 1} bytes`);
    expect((error as Error).message).toContain(`${MAX_MESSAGE_BYTES} bytes`);
  });

  it('sends an event over 1 MiB of plain UTF-8 that fits once compressed, and it reads back', () => {
    // Prepare
    const make = eventFactory();
    const euros = make({ data: '€'.repeat(350_000), partitionKey: 'customer-1' });
    expect(
      plainOverheadBytes(PIPELINE, STREAM) + Buffer.byteLength(serializeEnvelopeEvent(euros)),
    ).toBeGreaterThan(MAX_MESSAGE_BYTES);

    // Act
    const messages = packEvents(PIPELINE, STREAM, [euros], { fifo: true });

    // Assess
    expect(messages.map((message) => message.eventIds)).toEqual([[euros.id]]);
    expect(bodyBytes(messages[0] as PackedMessage)).toBeLessThan(MAX_MESSAGE_BYTES);
    expect(parseEnvelope((messages[0] as PackedMessage).body).events).toEqual([envelopeEventOf(euros)]);
  });
});

describe('lastContiguousAcceptedEventId', () => {
  /** The oracle: walk the events in id order and stop at the first one whose message was not accepted. */
  function bruteForce(
    events: readonly StoredEvent[],
    messages: readonly PackedMessage[],
    accepted: ReadonlySet<string>,
  ): string | undefined {
    const acceptedEventIds = new Set(
      messages.filter((message) => accepted.has(message.id)).flatMap((message) => message.eventIds),
    );
    let last: string | undefined;
    for (const event of [...events].sort((a, b) => (a.id < b.id ? -1 : 1))) {
      if (!acceptedEventIds.has(event.id)) break;
      last = event.id;
    }
    return last;
  }

  const packed = fc
    .tuple(
      eventSpecs.filter((specs) => specs.length > 0),
      packingOptions,
    )
    .map(([specs, options]: [EventFields[], PackingOptions]) => {
      const events = storedEvents(specs);
      return { events, messages: packEvents(PIPELINE, STREAM, events, options) };
    });

  it('is the last event id when every message was accepted', () => {
    fc.assert(
      fc.property(packed, ({ events, messages }) => {
        // Act
        const last = lastContiguousAcceptedEventId(messages, new Set(messages.map((message) => message.id)));

        // Assess
        expect(last).toBe(events.at(-1)?.id);
      }),
    );
  });

  it('is undefined when no message was accepted', () => {
    fc.assert(
      fc.property(packed, ({ messages }) => {
        // Act
        const last = lastContiguousAcceptedEventId(messages, new Set());

        // Assess
        expect(last).toBeUndefined();
      }),
    );
  });

  it('is the largest id with every event at or before it accepted, for any subset of messages', () => {
    fc.assert(
      fc.property(
        packed,
        fc.array(fc.boolean(), { minLength: 1, maxLength: 64 }),
        ({ events, messages }, mask) => {
          // Prepare
          const accepted = new Set(
            messages.filter((_, index) => mask[index % mask.length]).map((message) => message.id),
          );

          // Act
          const last = lastContiguousAcceptedEventId(messages, accepted);

          // Assess
          expect(last).toBe(bruteForce(events, messages, accepted));
        },
      ),
    );
  });

  it('stops before the first event of a FIFO group whose message was refused', () => {
    // Prepare
    const [a1, b1, a2, b2] = storedEvents([
      { partitionKey: 'customer-a' },
      { partitionKey: 'customer-b' },
      { partitionKey: 'customer-a' },
      { partitionKey: 'customer-b' },
    ]) as [StoredEvent, StoredEvent, StoredEvent, StoredEvent];
    const messages = packEvents(PIPELINE, STREAM, [a1, b1, a2, b2], { fifo: true });

    // Act
    const last = lastContiguousAcceptedEventId(messages, new Set([a1.id]));

    // Assess
    expect(messages.map((message) => message.eventIds)).toEqual([
      [a1.id, a2.id],
      [b1.id, b2.id],
    ]);
    expect(last).toBe(a1.id);
  });
});

describe('messageGroupIdFor', () => {
  const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

  it('keeps a printable-ASCII key of 1 to 128 characters as it is', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[\x21-\x7e]{1,128}$/), (key) => {
        // Act
        const groupId = messageGroupIdFor(key);

        // Assess
        expect(groupId).toBe(key);
      }),
    );
  });

  it('hashes a printable-ASCII key longer than 128 characters to 64 hex characters, stably', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[\x21-\x7e]{129,300}$/), (key) => {
        // Act
        const groupId = messageGroupIdFor(key);

        // Assess
        expect(groupId).toMatch(/^[0-9a-f]{64}$/);
        expect(groupId).toBe(sha256(key));
        expect(messageGroupIdFor(key)).toBe(groupId);
      }),
    );
  });

  it('hashes an empty or blank key', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[ \t\r\n]{0,10}$/), (key) => {
        // Act
        const groupId = messageGroupIdFor(key);

        // Assess
        expect(groupId).toMatch(/^[0-9a-f]{64}$/);
        expect(groupId).toBe(sha256(key));
      }),
    );
  });

  it('hashes a key holding a character SQS refuses in a group id (non-ASCII, control, space)', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[\x21-\x7e]{0,60}$/),
        fc.constantFrom('é', 'ü', '日', '😀', '\u0000', '\u007f', ' '),
        fc.stringMatching(/^[\x21-\x7e]{0,60}$/),
        (before, refused, after) => {
          // Prepare
          const key = `${before}${refused}${after}`;

          // Act
          const groupId = messageGroupIdFor(key);

          // Assess
          expect(groupId).toMatch(/^[0-9a-f]{64}$/);
          expect(groupId).toBe(sha256(key));
          expect(messageGroupIdFor(key)).toBe(groupId);
        },
      ),
    );
  });

  it('maps different hashed keys to different group ids', () => {
    // Prepare
    const keys = ['k'.repeat(129), 'k'.repeat(130), 'clïent-4', 'client 4', ''];

    // Act
    const groupIds = keys.map(messageGroupIdFor);

    // Assess
    expect(new Set(groupIds).size).toBe(keys.length);
  });
});
