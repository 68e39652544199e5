import * as z from 'zod/mini';
import { describe, SluiceError } from '../errors';
import { type StoredSegment, segmentEventsOf } from '../event-log/segment';
import type { StoredEvent } from '../event-log/types';
import { shortenFailure, summarizeError } from '../failed/truncate';
import { sqsSafeJson } from '../sqs/sqs-safe-json';
import { eventIdToTime, isEventId } from '../time/event-id';
import '../validation/english-messages';
import { valueAt } from '../validation/issues';
import { compressEvents, decompressEvents, WRITTEN_EVENTS_CODEC } from './compression';

/** The version of a message body whose events are plain JSON. */
export const ENVELOPE_VERSION = 1;

/** The version of a message body whose events are compressed (see {@link Envelope}). */
export const COMPRESSED_ENVELOPE_VERSION = 2;

/** A version of the message body format; a worker refuses bodies of versions it does not know. */
export type EnvelopeVersion = typeof ENVELOPE_VERSION | typeof COMPRESSED_ENVELOPE_VERSION;

/**
 * A body of this many bytes or fewer stays plain: compressing it would save too little to matter.
 * A larger body is compressed, and stays plain when compression does not make it smaller.
 */
export const COMPRESS_FROM_BYTES = 1_024;

/** Why an event's last attempt failed. */
export interface EventFailure {
  /** The error's name, such as `TypeError` or `NonRetryableError`. */
  readonly name: string;
  readonly message: string;
  /** When it failed, in epoch milliseconds. */
  readonly at: number;
}

/** One event inside a message. Its time is read from its id. */
export interface EnvelopeEvent {
  readonly id: string;
  readonly type: string;
  readonly data: unknown;
  readonly partitionKey?: string;
  /**
   * Failed attempts before this message: set when a worker re-sends an event that failed in a
   * message whose other events succeeded, or moves it to the dead-letter queue. Absent means none.
   */
  readonly attempts?: number;
  /** Why the last attempt failed, when one did; its name and message are cut by `shortenFailure`. */
  readonly lastError?: EventFailure;
}

/**
 * A message Sluice puts on a pipeline's queue, as read back: one or more events of one stream, each
 * keeping its own id, so a worker can succeed or fail them one by one.
 *
 * A body comes in one of two versions, and every reader takes both:
 * - **1**, plain: `events` is the JSON array of the events.
 * - **2**, compressed: `codec` names how the events were compressed (`deflate-raw`, which Sluice
 *   writes, or `br`), and `events` is the base64 of the compressed UTF-8 JSON array of the events.
 *   The head (`pipeline`, `stream`, `epoch`, `redrive`) stays plain, so that a person or a tool can
 *   tell where a message comes from without decoding it. A body that forwards a segment of the log
 *   as stored (see {@link segmentBody}) also names the segment's last event id in `segment`, and its
 *   events are the segment's `[type, data, partitionKey?]` entries, their ids following from it.
 *
 * {@link envelopeBody} writes a body of more than {@link COMPRESS_FROM_BYTES} bytes compressed, and
 * plain when compression does not make it smaller (random data, say); smaller bodies stay plain.
 * docs/message-format.md gives the measurements behind the choice of codec.
 *
 * @example
 * ```json
 * { "sluice": 1, "pipeline": "billing", "stream": "orders",
 *   "events": [{ "id": "018f3a6c-1d2e-7000-8000-000000000000", "type": "order.placed", "data": { "orderId": "o-1" } }] }
 * { "sluice": 2, "pipeline": "billing", "stream": "orders", "epoch": 1,
 *   "codec": "deflate-raw", "events": "i65WykxRslIyMLRIM040S9Y1TDFK1TU3MDDQtQARBkhASUeppLIgVclKKb8oJbVIryAnMTk1RUlHKSWxJFHJqhoi7AkyLl/XUKm2NhYA" }
 * ```
 */
export interface Envelope {
  /** The version the body was written in. */
  readonly sluice: EnvelopeVersion;
  readonly pipeline: string;
  readonly stream: string;
  /**
   * The pipeline's replay epoch, raised by every seek: a worker takes events sent again after a seek
   * as new work, not as duplicates of their first delivery. Absent means 0.
   */
  readonly epoch?: number;
  /**
   * The redrive that sent these events back for a fresh start, absent on a first delivery. It enters
   * the message's idempotency marker and the failed events' claims, so a redriven event runs again
   * (and, if it keeps failing, reaches the failed handler again), while a redelivery of the redriven
   * message is still recognised. A dead-letter copy keeps it.
   */
  readonly redrive?: string;
  readonly events: readonly EnvelopeEvent[];
}

/** What a message says of where it comes from, besides its events: kept by every copy of it. */
export type EnvelopeHead = Pick<Envelope, 'pipeline' | 'stream' | 'epoch' | 'redrive'>;

/** The most characters of a redrive identity. */
export const MAX_REDRIVE_ID_LENGTH = 64;

const headShape = {
  pipeline: z.string().check(z.minLength(1)),
  stream: z.string().check(z.minLength(1)),
  epoch: z.optional(z.int().check(z.minimum(0))),
  redrive: z.optional(z.string().check(z.minLength(1), z.maxLength(MAX_REDRIVE_ID_LENGTH))),
};

const envelopeSchema = z.object({
  sluice: z.literal(ENVELOPE_VERSION),
  ...headShape,
  events: z
    .array(
      z.object({
        id: z.string().check(z.refine(isEventId, 'not a Sluice event id')),
        type: z.string().check(z.minLength(1)),
        data: z.unknown(),
        partitionKey: z.optional(z.string()),
        attempts: z.optional(z.int().check(z.minimum(0))),
        lastError: z.optional(z.object({ name: z.string(), message: z.string(), at: z.number() })),
      }),
    )
    .check(z.minLength(1)),
});

const compressedEnvelopeSchema = z.object({
  sluice: z.literal(COMPRESSED_ENVELOPE_VERSION),
  ...headShape,
  codec: z.string(),
  segment: z.optional(z.string().check(z.refine(isEventId, 'not a Sluice event id'))),
  events: z.string(),
});

/** A message body that is not a Sluice envelope: foreign, truncated or corrupt. */
export class MalformedMessageError extends SluiceError {
  declare readonly code: 'malformed-message';
  readonly messageId: string | undefined;

  constructor(reason: string, messageId: string | undefined, options?: { cause?: unknown }) {
    super(`message ${messageId ?? '(no id)'} is not a Sluice message: ${reason}`, {
      cause: options?.cause,
      code: 'malformed-message',
    });
    this.name = 'MalformedMessageError';
    this.messageId = messageId;
  }
}

/**
 * Reads a message body of either version back into an envelope, or throws a `MalformedMessageError`
 * that says what is wrong with it: not JSON, a field missing or invalid, an unknown codec, events
 * that are not base64 or do not decompress.
 *
 * @example
 * ```ts
 * const { events } = parseEnvelope(record.body, record.messageId);
 * ```
 */
export function parseEnvelope(body: string, messageId?: string): Envelope {
  const parsed = parseJson(body, 'its body', messageId);
  if (!isCompressed(parsed)) return checked(envelopeSchema, parsed, messageId);
  const { codec, segment, events, ...head } = checked(compressedEnvelopeSchema, parsed, messageId);
  let json: string;
  try {
    json = decompressEvents(codec, events);
  } catch (error) {
    throw new MalformedMessageError((error as Error).message, messageId, { cause: error });
  }
  const plain = {
    ...head,
    sluice: ENVELOPE_VERSION,
    events: segment === undefined ? parseJson(json, 'its decompressed events', messageId) : segmentEvents(),
  };
  return { ...checked(envelopeSchema, plain, messageId), sluice: COMPRESSED_ENVELOPE_VERSION };

  function segmentEvents(): unknown {
    try {
      return segmentEventsOf(segment as string, json);
    } catch (error) {
      throw new MalformedMessageError(`its segment ${(error as Error).message}`, messageId, { cause: error });
    }
  }
}

/**
 * The body of a message that forwards a segment of the log as it is stored: its compressed bytes in
 * base64 and its last event's id, from which the ids of its events follow. The fetcher sends a
 * segment this way when the pipeline takes every event of it, so it need not encode them again.
 *
 * @example
 * ```ts
 * const body = segmentBody({ pipeline: 'billing', stream: 'orders' }, page.segments[0]);
 * ```
 */
export function segmentBody(head: EnvelopeHead, segment: StoredSegment): string {
  const base64 = Buffer.from(segment.body.buffer, segment.body.byteOffset, segment.body.byteLength).toString(
    'base64',
  );
  return `${headText(COMPRESSED_ENVELOPE_VERSION, head)}"codec":"${segment.codec}","segment":"${segment.lastId}","events":"${base64}"}`;
}

function isCompressed(parsed: unknown): boolean {
  return (
    typeof parsed === 'object' &&
    parsed !== null &&
    (parsed as { sluice?: unknown }).sluice === COMPRESSED_ENVELOPE_VERSION
  );
}

function parseJson(text: string, what: string, messageId: string | undefined): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new MalformedMessageError(`${what} is not JSON (${(error as Error).message})`, messageId, {
      cause: error,
    });
  }
}

function checked<T>(schema: z.ZodMiniType<T>, parsed: unknown, messageId: string | undefined): T {
  const result = schema.safeParse(parsed);
  if (result.success) return result.data as T;
  const issue = result.error.issues[0];
  const where = issue?.path.length ? issue.path.join('.') : 'body';
  const given = issue?.path.length ? ` (given ${describe(valueAt(parsed, issue.path))})` : '';
  throw new MalformedMessageError(`${where}: ${issue?.message ?? 'invalid'}${given}`, messageId, {
    cause: result.error,
  });
}

/**
 * The JSON text of one event inside an envelope, with the characters SQS refuses escaped, and its
 * last error cut by `shortenFailure`: the one rule every path that records a failure follows.
 *
 * @example
 * ```ts
 * const text = serializeEnvelopeEvent({ id, type: 'order.placed', data: { orderId: 'o-1' } });
 * ```
 */
export function serializeEnvelopeEvent(event: EnvelopeEvent): string {
  const json = JSON.stringify({
    id: event.id,
    type: event.type,
    data: event.data,
    ...(event.partitionKey === undefined ? {} : { partitionKey: event.partitionKey }),
    ...(event.attempts === undefined ? {} : { attempts: event.attempts }),
    ...(event.lastError === undefined ? {} : { lastError: shortenFailure(event.lastError) }),
  });
  return sqsSafeJson(json);
}

/**
 * The body of a message holding these events, with this head: compressed when that makes it
 * smaller and it is over {@link COMPRESS_FROM_BYTES} bytes, plain otherwise. Every message Sluice
 * sends is written here (or by `packEnvelopes`, which calls it), so every size check measures the
 * body that is sent. A copy of another message's events (a dead letter, what a redrive leaves)
 * passes that message's head, and so keeps its epoch and redrive.
 *
 * @example
 * ```ts
 * const body = envelopeBody({ pipeline: 'billing', stream: 'orders', epoch: 2 }, events);
 * ```
 */
export function envelopeBody(head: EnvelopeHead, events: readonly EnvelopeEvent[]): string {
  return bodyOfSerialized(head, events.map(serializeEnvelopeEvent));
}

/** {@link envelopeBody} of events already written by {@link serializeEnvelopeEvent}. */
export function bodyOfSerialized(head: EnvelopeHead, serializedEvents: readonly string[]): string {
  const events = `[${serializedEvents.join(',')}]`;
  const plain = `${headText(ENVELOPE_VERSION, head)}"events":${events}}`;
  const plainBytes = Buffer.byteLength(plain);
  if (plainBytes <= COMPRESS_FROM_BYTES) return plain;
  const compressed = `${headText(COMPRESSED_ENVELOPE_VERSION, head)}"codec":"${WRITTEN_EVENTS_CODEC}","events":"${compressEvents(events)}"}`;
  // Base64 and the head are one byte a character: the length is the size.
  return compressed.length < plainBytes ? compressed : plain;
}

/**
 * An event as it goes back on a queue after failed attempts: its own fields, how many attempts it
 * has had and why the last one failed (cut by `shortenFailure`, as on every path).
 *
 * @example
 * ```ts
 * const retried = failedEvent(event, 3, { name: 'TypeError', message: 'bad order', at: Date.now() });
 * ```
 */
export function failedEvent(
  event: Pick<EnvelopeEvent, 'id' | 'type' | 'data' | 'partitionKey'>,
  attempts: number,
  lastError: EventFailure | undefined,
): EnvelopeEvent {
  return {
    id: event.id,
    type: event.type,
    data: event.data,
    ...(event.partitionKey === undefined ? {} : { partitionKey: event.partitionKey }),
    attempts,
    ...(lastError === undefined ? {} : { lastError: shortenFailure(lastError) }),
  };
}

/**
 * The failure recorded for an attempt: an error's name and message, a string as the message of an
 * `Error`, or a failure named `unknownName` when no reason was given; long messages are cut by
 * `shortenErrorMessage`, as on every path.
 *
 * @example
 * ```ts
 * toEventFailure(new TypeError('bad order'), Date.now(), 'UnknownFailure'); // { name: 'TypeError', message: 'bad order', at: ... }
 * ```
 */
export function toEventFailure(reason: unknown, at: number, unknownName: string): EventFailure {
  if (reason === undefined)
    return { name: unknownName, message: 'the attempt failed without a reason given', at };
  return { ...summarizeError(reason), at };
}

function headText(version: EnvelopeVersion, head: EnvelopeHead): string {
  const epoch = head.epoch ?? 0;
  const epochField = epoch > 0 ? `"epoch":${epoch},` : '';
  const redriveField = head.redrive === undefined ? '' : `"redrive":${JSON.stringify(head.redrive)},`;
  return `{"sluice":${version},"pipeline":${JSON.stringify(head.pipeline)},"stream":${JSON.stringify(head.stream)},${epochField}${redriveField}`;
}

/**
 * An event of a message as a stored event: the stream it came from, its time read from its id.
 *
 * @example
 * ```ts
 * const events = envelope.events.map((event) => storedEventOf(envelope.stream, event));
 * ```
 */
export function storedEventOf<TData = unknown>(
  stream: string,
  event: {
    readonly id: string;
    readonly type: string;
    readonly data?: unknown;
    readonly partitionKey?: string;
  },
): StoredEvent<TData> {
  return {
    id: event.id,
    stream,
    type: event.type,
    time: eventIdToTime(event.id),
    data: event.data as TData,
    ...(event.partitionKey === undefined ? {} : { partitionKey: event.partitionKey }),
  };
}
