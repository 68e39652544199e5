import { deflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { MAX_ERROR_MESSAGE_BYTES } from '../../lib/failed/truncate';
import { packEvents } from '../../lib/fetcher/packing';
import { compressEvents, MAX_DECOMPRESSED_EVENTS_BYTES } from '../../lib/messages/compression';
import {
  COMPRESSED_ENVELOPE_VERSION,
  ENVELOPE_VERSION,
  type EnvelopeEvent,
  envelopeBody,
  failedEvent,
  MalformedMessageError,
  parseEnvelope,
} from '../../lib/messages/envelope';
import { packEnvelopes } from '../../lib/messages/pack';
import { EventIdGenerator, eventIdToTime } from '../../lib/time/event-id';
import { incompressibleText, orderEvents } from '../support/order-events';

const ids = new EventIdGenerator({ now: () => Date.parse('2024-05-01T12:00:00.000Z') });
const HEAD = { pipeline: 'billing', stream: 'orders' } as const;

function realistic(count: number, seed = 1): EnvelopeEvent[] {
  return orderEvents(count, seed).map((event) => ({ id: ids.next(), ...event }));
}

function caught(act: () => unknown): Error {
  try {
    act();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the call to throw');
}

/** A compressed body with its events field replaced. */
function compressedBody(fields: Record<string, unknown>): string {
  return JSON.stringify({
    sluice: 2,
    pipeline: 'billing',
    stream: 'orders',
    codec: 'deflate-raw',
    ...fields,
  });
}

describe('envelopeBody and parseEnvelope', () => {
  it('compresses realistic events, and reads them back with the head kept plain', () => {
    // Prepare
    const events = realistic(100);
    const head = { ...HEAD, epoch: 3, redrive: 'r-1' };

    // Act
    const body = envelopeBody(head, events);
    const envelope = parseEnvelope(body, 'm-1');

    // Assess
    expect(JSON.parse(body)).toMatchObject({ sluice: 2, ...head, codec: 'deflate-raw' });
    expect(envelope).toEqual({ sluice: COMPRESSED_ENVELOPE_VERSION, ...head, events });
  });

  it('fits 100 realistic 1 KB events in one billed SQS request', () => {
    // Prepare
    const events = realistic(100, 2);
    const plainBytes = events.reduce((sum, event) => sum + Buffer.byteLength(JSON.stringify(event)), 0);

    // Act
    const body = envelopeBody(HEAD, events);

    // Assess
    expect(plainBytes / events.length).toBeGreaterThan(900);
    expect(Buffer.byteLength(body)).toBeLessThan(65_000);
  });

  it('keeps a body plain when compression does not make it smaller', () => {
    // Prepare
    const events = [{ id: ids.next(), type: 'blob.stored', data: incompressibleText(20_000) }];

    // Act
    const body = envelopeBody(HEAD, events);

    // Assess
    expect(JSON.parse(body)).toMatchObject({ sluice: ENVELOPE_VERSION, events });
    expect(parseEnvelope(body)).toEqual({ sluice: ENVELOPE_VERSION, ...HEAD, events });
  });

  it('keeps a small body plain', () => {
    // Prepare
    const events = [{ id: ids.next(), type: 'order.placed', data: { orderId: 'o-1' } }];

    // Act
    const body = envelopeBody(HEAD, events);

    // Assess
    expect(JSON.parse(body)).toEqual({ sluice: 1, ...HEAD, events });
  });

  it('reads a version 1 body written before compression existed', () => {
    // Prepare
    const id = ids.next();
    const body = `{"sluice":1,"pipeline":"billing","stream":"orders","epoch":2,"events":[{"id":"${id}","type":"order.paid","data":{"n":1},"attempts":1,"lastError":{"name":"Error","message":"boom","at":5}}]}`;

    // Act
    const envelope = parseEnvelope(body);

    // Assess
    expect(envelope).toEqual({
      sluice: 1,
      ...HEAD,
      epoch: 2,
      events: [
        {
          id,
          type: 'order.paid',
          data: { n: 1 },
          attempts: 1,
          lastError: { name: 'Error', message: 'boom', at: 5 },
        },
      ],
    });
  });

  it('reads events compressed with brotli', async () => {
    // Prepare
    const { brotliCompressSync } = await import('node:zlib');
    const events = realistic(3);
    const body = compressedBody({
      codec: 'br',
      events: brotliCompressSync(JSON.stringify(events)).toString('base64'),
    });

    // Act
    const envelope = parseEnvelope(body);

    // Assess
    expect(envelope.events).toEqual(events);
    expect(envelope.sluice).toBe(COMPRESSED_ENVELOPE_VERSION);
  });

  it('cuts a long last error by the one rule on every write', () => {
    // Prepare
    const event = failedEvent(realistic(1)[0]!, 2, { name: 'Error', message: 'x'.repeat(100_000), at: 1 });

    // Act
    const [read] = parseEnvelope(envelopeBody(HEAD, [event])).events;

    // Assess
    expect(read?.attempts).toBe(2);
    expect(Buffer.byteLength(read?.lastError?.message ?? '')).toBeLessThanOrEqual(MAX_ERROR_MESSAGE_BYTES);
    expect(read?.lastError?.message).toMatch(/… \(cut from 100000 bytes\)$/);
  });

  it.each([
    ['events that are not base64', compressedBody({ events: 'not base64!' }), /events: not base64 text/],
    [
      'bytes that do not decompress',
      compressedBody({ events: Buffer.from([0xff, 0xff, 0xff, 0xff]).toString('base64') }),
      /events: does not decompress with deflate-raw/,
    ],
    [
      'an unknown codec',
      compressedBody({ codec: 'zstd', events: compressEvents('[]') }),
      /codec: unknown codec "zstd"/,
    ],
    [
      'decompressed events that are not JSON',
      compressedBody({ events: compressEvents('[{') }),
      /decompressed events is not JSON/,
    ],
    [
      'decompressed events that are not events',
      compressedBody({ events: compressEvents('[{"id":"x"}]') }),
      /events\.0\.id/,
    ],
    ['events that are not a string', compressedBody({ events: [] }), /^.*events: /],
  ])('fails with a MalformedMessageError when a compressed body has %s', (_what, body, reason) => {
    // Act
    const error = caught(() => parseEnvelope(body, 'm-9'));

    // Assess
    expect(error).toBeInstanceOf(MalformedMessageError);
    expect(error.message).toContain('message m-9 is not a Sluice message');
    expect(error.message).toMatch(reason);
  });

  it('fails with a MalformedMessageError when events decompress to more than the bound', () => {
    // Prepare: a few kilobytes that inflate past the bound.
    const bomb = deflateRawSync(Buffer.alloc(MAX_DECOMPRESSED_EVENTS_BYTES + 1, 0x20), { level: 9 });
    const body = compressedBody({ events: bomb.toString('base64') });

    // Act
    const error = caught(() => parseEnvelope(body));

    // Assess
    expect(error).toBeInstanceOf(MalformedMessageError);
    expect(error.message).toContain(`decompresses to more than ${MAX_DECOMPRESSED_EVENTS_BYTES} bytes`);
  });
});

describe('packEnvelopes', () => {
  it('packs realistic events 100 to a body, each under the billed request', () => {
    // Prepare
    const events = realistic(1_000, 4);

    // Act
    const packed = packEnvelopes(HEAD, events, { maxBodyBytes: 65_000, maxEvents: 100 });

    // Assess
    expect(packed.map((message) => message.events.length)).toEqual(Array(10).fill(100));
    for (const message of packed) expect(Buffer.byteLength(message.body)).toBeLessThanOrEqual(65_000);
    expect(packed.flatMap((message) => parseEnvelope(message.body).events)).toEqual(events);
  });

  it('keeps every body under the bound when the events do not compress', () => {
    // Prepare
    const events = Array.from({ length: 200 }, (_, index) => ({
      id: ids.next(),
      type: 'blob.stored',
      data: incompressibleText(1_000, index + 1),
    }));

    // Act
    const packed = packEnvelopes(HEAD, events, { maxBodyBytes: 65_000, maxEvents: 100 });

    // Assess
    for (const message of packed) expect(Buffer.byteLength(message.body)).toBeLessThanOrEqual(65_000);
    expect(packed.length).toBeLessThanOrEqual(4);
    expect(packed.flatMap((message) => parseEnvelope(message.body).events)).toEqual(events);
  });

  it('cuts the last error of an event too large alone, so that its body fits', () => {
    // Prepare
    const event = failedEvent({ id: ids.next(), type: 'blob.stored', data: incompressibleText(60_000) }, 3, {
      name: 'Error',
      message: incompressibleText(4_000, 9),
      at: 1,
    });

    // Act
    const [packed] = packEnvelopes(HEAD, [event], { maxBodyBytes: 62_000 });

    // Assess
    expect(Buffer.byteLength(packed!.body)).toBeLessThanOrEqual(62_000);
    expect(parseEnvelope(packed!.body).events[0]?.lastError?.message).toMatch(
      /… \(cut to fit in one SQS message\)$/,
    );
  });
});

describe('packEvents of realistic events', () => {
  it('needs 10 messages for 1,000 events, on a standard queue and a FIFO one', () => {
    // Prepare
    const events = realistic(1_000, 5).map((event, index) => ({
      ...event,
      stream: 'orders',
      time: eventIdToTime(event.id),
      partitionKey: `customer-${index % 3}`,
    }));

    // Act
    const standard = packEvents('billing', 'orders', events);
    const fifo = packEvents('billing', 'orders', events, { fifo: true });

    // Assess
    expect(standard).toHaveLength(10);
    expect(fifo.length).toBeLessThanOrEqual(12);
    for (const message of [...standard, ...fifo])
      expect(Buffer.byteLength(message.body)).toBeLessThanOrEqual(65_000);
  });
});
