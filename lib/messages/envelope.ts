import * as z from 'zod/mini';
import { describe, SluiceError } from '../errors';
import type { StoredEvent } from '../event-log/types';
import { sqsSafeJson } from '../sqs/sqs-safe-json';
import { eventIdToTime, isEventId } from '../time/event-id';
import '../validation/english-messages';
import { valueAt } from '../validation/issues';

/** The version of the message body format; a worker refuses bodies of versions it does not know. */
export const ENVELOPE_VERSION = 1;

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
  /** Why the last attempt failed, when one did. */
  readonly lastError?: EventFailure;
}

/**
 * The body of every message Sluice puts on a pipeline's queue: one or more events of one stream,
 * each keeping its own id, so a worker can succeed or fail them one by one.
 *
 * @example
 * ```json
 * { "sluice": 1, "pipeline": "billing", "stream": "orders",
 *   "events": [{ "id": "018f3a6c-1d2e-7000-8000-000000000000", "type": "order.placed", "data": { "orderId": "o-1" } }] }
 * ```
 */
export interface Envelope {
  readonly sluice: typeof ENVELOPE_VERSION;
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

const envelopeSchema = z.object({
  sluice: z.literal(ENVELOPE_VERSION),
  pipeline: z.string().check(z.minLength(1)),
  stream: z.string().check(z.minLength(1)),
  epoch: z.optional(z.int().check(z.minimum(0))),
  redrive: z.optional(z.string().check(z.minLength(1), z.maxLength(MAX_REDRIVE_ID_LENGTH))),
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

/** A message body that is not a Sluice envelope: foreign, truncated or corrupt. */
export class MalformedMessageError extends SluiceError {
  readonly messageId: string | undefined;

  constructor(reason: string, messageId: string | undefined, options?: { cause?: unknown }) {
    super(`message ${messageId ?? '(no id)'} is not a Sluice message: ${reason}`, options);
    this.name = 'MalformedMessageError';
    this.messageId = messageId;
  }
}

/**
 * Reads a message body back into an envelope, or throws a `MalformedMessageError` that says what is
 * wrong with it.
 *
 * @example
 * ```ts
 * const { events } = parseEnvelope(record.body, record.messageId);
 * ```
 */
export function parseEnvelope(body: string, messageId?: string): Envelope {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (error) {
    throw new MalformedMessageError(`its body is not JSON (${(error as Error).message})`, messageId, {
      cause: error,
    });
  }
  const result = envelopeSchema.safeParse(parsed);
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue?.path.length ? issue.path.join('.') : 'body';
    const given = issue?.path.length ? ` (given ${describe(valueAt(parsed, issue.path))})` : '';
    throw new MalformedMessageError(`${where}: ${issue?.message ?? 'invalid'}${given}`, messageId, {
      cause: result.error,
    });
  }
  return result.data as Envelope;
}

/** The JSON text of one event inside an envelope, with the characters SQS refuses escaped. */
export function serializeEnvelopeEvent(event: EnvelopeEvent): string {
  const json = JSON.stringify({
    id: event.id,
    type: event.type,
    data: event.data,
    ...(event.partitionKey === undefined ? {} : { partitionKey: event.partitionKey }),
    ...(event.attempts === undefined ? {} : { attempts: event.attempts }),
    ...(event.lastError === undefined ? {} : { lastError: event.lastError }),
  });
  return sqsSafeJson(json);
}

/** Assembles an envelope's body from events already serialized with {@link serializeEnvelopeEvent}. */
export function envelopeBody(
  pipeline: string,
  stream: string,
  serializedEvents: readonly string[],
  epoch = 0,
): string {
  return envelopeBodyWithHead({ pipeline, stream, epoch }, serializedEvents);
}

/**
 * Assembles an envelope's body with the head of another message: a copy of some of its events (a
 * dead-letter copy, what a redrive leaves in the dead-letter queue) keeps its epoch and redrive.
 *
 * @example
 * ```ts
 * const body = envelopeBodyWithHead({ ...envelope, pipeline }, dead.map(serializeEnvelopeEvent));
 * ```
 */
export function envelopeBodyWithHead(head: EnvelopeHead, serializedEvents: readonly string[]): string {
  return `${envelopeHead(head)}${serializedEvents.join(',')}]}`;
}

/** The bytes an envelope adds around its events: the head, the closing brackets. */
export function envelopeOverheadBytes(pipeline: string, stream: string, epoch = 0): number {
  return Buffer.byteLength(envelopeHead({ pipeline, stream, epoch })) + 2;
}

function envelopeHead(head: EnvelopeHead): string {
  const epoch = head.epoch ?? 0;
  const epochField = epoch > 0 ? `"epoch":${epoch},` : '';
  const redriveField = head.redrive === undefined ? '' : `"redrive":${JSON.stringify(head.redrive)},`;
  return `{"sluice":${ENVELOPE_VERSION},"pipeline":${JSON.stringify(head.pipeline)},"stream":${JSON.stringify(head.stream)},${epochField}${redriveField}"events":[`;
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
