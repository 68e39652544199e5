import { truncateUtf8 } from '../failed/truncate';
import {
  bodyOfSerialized,
  type EnvelopeEvent,
  type EnvelopeHead,
  type EventFailure,
  serializeEnvelopeEvent,
} from './envelope';

/** Limits of one packed message. */
export interface PackLimits {
  /** The most bytes of a body; a lone event over it still gets a body of its own. */
  readonly maxBodyBytes: number;
  /** The most events of a body. @default no limit */
  readonly maxEvents?: number;
}

/** A body ready to send, and the events it holds. */
export interface PackedEnvelope {
  readonly body: string;
  readonly events: readonly EnvelopeEvent[];
}

/**
 * Bodies are first tried with at most this many times `maxBodyBytes` of plain events: compression
 * of order-like JSON is about 5 to 1, so this bound is never what stops realistic events, and it
 * keeps the work of an attempt bounded when the events do not compress.
 */
const PLAIN_BYTES_PER_BODY_BYTE = 12;

/**
 * Packs events, in order, into as few message bodies as the limits allow, each measured as it will
 * be sent: compressed where that is smaller (see `envelopeBody`). A lone event whose body is over
 * `maxBodyBytes` gets a body of its own; if it carries a last error, the error's message is cut
 * further so that the body fits, since the event's data came in a message that fit.
 *
 * @example
 * ```ts
 * const packed = packEnvelopes({ pipeline: 'billing', stream: 'orders' }, events, { maxBodyBytes: 65_000, maxEvents: 100 });
 * ```
 */
export function packEnvelopes(
  head: EnvelopeHead,
  events: readonly EnvelopeEvent[],
  limits: PackLimits,
): PackedEnvelope[] {
  const maxEvents = Math.max(1, limits.maxEvents ?? Number.POSITIVE_INFINITY);
  const serialized = events.map(serializeEnvelopeEvent);
  const sizes = serialized.map((text) => Buffer.byteLength(text));
  const plainBudget = limits.maxBodyBytes * PLAIN_BYTES_PER_BODY_BYTE;
  const packed: PackedEnvelope[] = [];
  let start = 0;
  while (start < events.length) {
    // The longest run the event count and the plain bound allow, then shorter until the body fits.
    let count = 0;
    let plainBytes = 0;
    while (start + count < events.length && count < maxEvents) {
      const next = plainBytes + (count > 0 ? 1 : 0) + (sizes[start + count] as number);
      if (count > 0 && next > plainBudget) break;
      plainBytes = next;
      count += 1;
    }
    const longest = count;
    let body = bodyOfSerialized(head, serialized.slice(start, start + count));
    if (Buffer.byteLength(body) > limits.maxBodyBytes && count > 1) {
      // Events compress about alike: scale the run to the room, a little under, and try again.
      while (count > 1 && Buffer.byteLength(body) > limits.maxBodyBytes) {
        const scaled = Math.floor((count * limits.maxBodyBytes * 0.97) / Buffer.byteLength(body));
        count = Math.max(1, Math.min(count - 1, scaled));
        body = bodyOfSerialized(head, serialized.slice(start, start + count));
      }
      // Then take events back one at a time while the body still fits: a message closes only when
      // the next event would break a limit.
      while (count < longest && Buffer.byteLength(body) <= limits.maxBodyBytes) {
        const grown = bodyOfSerialized(head, serialized.slice(start, start + count + 1));
        if (Buffer.byteLength(grown) > limits.maxBodyBytes) break;
        count += 1;
        body = grown;
      }
    }
    if (count === 1 && Buffer.byteLength(body) > limits.maxBodyBytes) {
      const event = cutLastErrorToFit(head, events[start] as EnvelopeEvent, limits.maxBodyBytes);
      if (event !== events[start]) body = bodyOfSerialized(head, [serializeEnvelopeEvent(event)]);
      packed.push({ body, events: [event] });
    } else {
      packed.push({ body, events: events.slice(start, start + count) });
    }
    start += count;
  }
  return packed;
}

/**
 * The event with its last error's message cut further, so that its body fits in `maxBodyBytes`, when
 * it has a last error and cutting can make it fit; else the event as it is.
 */
function cutLastErrorToFit(head: EnvelopeHead, event: EnvelopeEvent, maxBodyBytes: number): EnvelopeEvent {
  if (event.lastError === undefined) return event;
  const lastError: EventFailure = event.lastError;
  const message = lastError.message;
  const note = '… (cut to fit in one SQS message)';
  let keep = Buffer.byteLength(message);
  for (let round = 0; round < 8 && keep > 0; round += 1) {
    const over =
      Buffer.byteLength(bodyOfSerialized(head, [serializeEnvelopeEvent(withMessage(keep))])) - maxBodyBytes;
    if (over <= 0) return keep === Buffer.byteLength(message) ? event : withMessage(keep);
    // JSON escapes can make a character cost more than its UTF-8 bytes: cut twice the excess, plus room.
    keep = Math.max(0, keep - 2 * over - 64);
  }
  return withMessage(keep);

  function withMessage(bytes: number): EnvelopeEvent {
    if (bytes >= Buffer.byteLength(message)) return event;
    return { ...event, lastError: { ...lastError, message: `${truncateUtf8(message, bytes).text}${note}` } };
  }
}
