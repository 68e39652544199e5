import { createHash } from 'node:crypto';
import { TooLargeError } from '../errors';
import type { StoredSegment } from '../event-log/segment';
import type { StoredEvent } from '../event-log/types';
import { segmentBody } from '../messages/envelope';
import { packEnvelopes } from '../messages/pack';
import { MAX_MESSAGE_BYTES } from '../sqs/constants';
import { runBounds } from '../time/event-id';

/** SQS bills every 64 KiB of a message as one request; packing stays just under that by default. */
export const DEFAULT_MAX_MESSAGE_BYTES = 65_000;
/** The most events one message holds by default. */
export const DEFAULT_MAX_EVENTS_PER_MESSAGE = 100;

/** How events are packed into messages. */
export interface PackingOptions {
  /** The most bytes of a body as sent (compressed or not). @default 65000: just under the 64 KiB SQS bills as one request */
  readonly maxMessageBytes?: number;
  /** 1 sends one event per message. @default 100 */
  readonly maxEventsPerMessage?: number;
  /** Pack for a FIFO queue: events of one partition key (or the stream) share a message group. */
  readonly fifo?: boolean;
  /** The pipeline's replay epoch, written into every message (see `Envelope.epoch`). @default 0 */
  readonly epoch?: number;
}

/** A message ready to send. */
export interface PackedMessage {
  /** The first event's id: unique within a fetch. */
  readonly id: string;
  readonly body: string;
  readonly eventIds: readonly string[];
  readonly groupId?: string;
  readonly deduplicationId?: string;
}

/**
 * Packs events (in id order) into as few messages as the limits allow, each event keeping its id.
 * On a standard queue consecutive events share a message; on a FIFO queue only events of the same
 * message group do, and each group's events stay in order across its messages. Messages come out
 * ordered by their first event. `maxMessageBytes` bounds the body as sent, compressed where that is
 * smaller (see `envelopeBody`). An event larger than `maxMessageBytes` travels alone. A segment of
 * the log read whole (`segments`, from the page) goes as stored, in a message of its own, when it
 * fits and fills a message at least half as well as packing would (see `segmentBody`).
 *
 * @example
 * ```ts
 * const messages = packEvents('billing', 'orders', page.events, { maxMessageBytes: 65_000 });
 * ```
 */
export function packEvents(
  pipeline: string,
  stream: string,
  events: readonly StoredEvent[],
  options: PackingOptions = {},
  segments: readonly StoredSegment[] = [],
): PackedMessage[] {
  const epoch = options.epoch ?? 0;
  const head = { pipeline, stream, epoch };
  const limits = {
    maxBodyBytes: options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
    maxEvents: options.maxEventsPerMessage ?? DEFAULT_MAX_EVENTS_PER_MESSAGE,
  };
  const groupOf = (event: StoredEvent) =>
    options.fifo ? messageGroupIdFor(event.partitionKey ?? stream) : '';
  const messages: PackedMessage[] = [];
  const message = (body: string, eventIds: string[], groupId: string): PackedMessage => {
    const sizeBytes = Buffer.byteLength(body);
    if (sizeBytes > MAX_MESSAGE_BYTES)
      throw new TooLargeError({
        what: 'event in message',
        eventId: eventIds[0] as string,
        sizeBytes,
        limitBytes: MAX_MESSAGE_BYTES,
      });
    return {
      id: eventIds[0] as string,
      body,
      eventIds,
      ...(options.fifo
        ? {
            groupId,
            deduplicationId: createHash('sha256')
              .update(`${pipeline}#${epoch}#${eventIds.join(',')}`)
              .digest('hex'),
          }
        : {}),
    };
  };
  // Events between forwarded segments, packed by group; a group's events stay in order.
  const packRun = (run: readonly StoredEvent[]) => {
    const groups = new Map<string, StoredEvent[]>();
    for (const event of run) {
      const key = groupOf(event);
      const group = groups.get(key) ?? [];
      group.push(event);
      groups.set(key, group);
    }
    for (const [groupId, group] of groups)
      for (const { body, events: packed } of packEnvelopes(head, group, limits))
        messages.push(
          message(
            body,
            packed.map((event) => event.id),
            groupId,
          ),
        );
  };
  const forwarded = new Map(segments.map((segment) => [runBounds(segment.lastId).first, segment]));
  let runStart = 0;
  for (let index = 0; index < events.length; ) {
    const segment = forwarded.get((events[index] as StoredEvent).id);
    const held = segment ? events.slice(index, index + segment.count) : [];
    // The cheap checks come first, so a segment that cannot go whole is never encoded.
    const body =
      segment !== undefined &&
      segment.count <= limits.maxEvents &&
      held.at(-1)?.id === segment.lastId &&
      held.every((event) => groupOf(event) === groupOf(held[0] as StoredEvent))
        ? segmentBody(head, segment)
        : undefined;
    if (
      segment === undefined ||
      body === undefined ||
      !isWorthForwarding(segment.count, Buffer.byteLength(body), limits)
    ) {
      index += 1;
      continue;
    }
    packRun(events.slice(runStart, index));
    messages.push(
      message(
        body,
        held.map((event) => event.id),
        groupOf(held[0] as StoredEvent),
      ),
    );
    index += held.length;
    runStart = index;
  }
  packRun(events.slice(runStart));
  return messages.sort((a, b) => (a.id < b.id ? -1 : 1));
}

/**
 * Whether a segment goes as stored, in a message of its own: when it fits the limits, and fills a
 * message at least half as well as packing would (half the events or half the bytes), so that a log
 * of small commits is still packed many to a message.
 */
function isWorthForwarding(
  count: number,
  bodyBytes: number,
  limits: { readonly maxBodyBytes: number; readonly maxEvents: number },
): boolean {
  if (count > limits.maxEvents || bodyBytes > limits.maxBodyBytes) return false;
  return count * 2 >= limits.maxEvents || bodyBytes * 2 >= limits.maxBodyBytes;
}

/**
 * The last event id such that it and every event before it are in accepted messages: how far a
 * checkpoint may move when some messages were not accepted. `undefined` when the first event's
 * message was not accepted.
 *
 * @example
 * ```ts
 * const safe = lastContiguousAcceptedEventId(messages, new Set(result.acceptedIds));
 * ```
 */
export function lastContiguousAcceptedEventId(
  messages: readonly PackedMessage[],
  acceptedMessageIds: ReadonlySet<string>,
): string | undefined {
  const accepted = new Set<string>();
  const all: string[] = [];
  for (const message of messages) {
    for (const eventId of message.eventIds) {
      all.push(eventId);
      if (acceptedMessageIds.has(message.id)) accepted.add(eventId);
    }
  }
  all.sort();
  let last: string | undefined;
  for (const eventId of all) {
    if (!accepted.has(eventId)) break;
    last = eventId;
  }
  return last;
}

const SQS_GROUP_ID_PATTERN = /^[\x21-\x7e]{1,128}$/;

/**
 * The FIFO message group of a partition key: the key itself when SQS allows it (1 to 128 printable
 * ASCII characters), else its SHA-256, so that every key maps to one stable group.
 *
 * @example
 * ```ts
 * messageGroupIdFor('customer-7'); // 'customer-7'
 * ```
 */
export function messageGroupIdFor(partitionKey: string): string {
  return SQS_GROUP_ID_PATTERN.test(partitionKey)
    ? partitionKey
    : createHash('sha256').update(partitionKey).digest('hex');
}
