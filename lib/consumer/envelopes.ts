import type { MessageAttributeValue } from '@aws-sdk/client-sqs';
import { summarizeError } from '../failed/truncate';
import {
  type EnvelopeEvent,
  type EnvelopeHead,
  type EventFailure,
  envelopeBodyWithHead,
  serializeEnvelopeEvent,
} from '../messages/envelope';
import { MAX_MESSAGE_BYTES } from '../sqs/constants';
import { messagePayloadBytes } from '../sqs/message-size';

/**
 * Packs events, in order, into as few envelope bodies as fit in one message each next to the given
 * message attributes. An event too large to fit even alone gets a body of its own, which the send
 * then refuses.
 *
 * @example
 * ```ts
 * const bodies = packEnvelopeBodies('billing', 'orders', [{ ...event, attempts: 2, lastError }]);
 * ```
 */
export function packEnvelopeBodies(
  pipelineOrHead: string | EnvelopeHead,
  stream: string,
  events: readonly EnvelopeEvent[],
  attributes?: Readonly<Record<string, MessageAttributeValue>>,
): string[] {
  // A copy of another message's events (a dead letter) keeps that message's epoch and redrive.
  const head: EnvelopeHead =
    typeof pipelineOrHead === 'string' ? { pipeline: pipelineOrHead, stream } : { ...pipelineOrHead, stream };
  const room =
    MAX_MESSAGE_BYTES -
    Buffer.byteLength(envelopeBodyWithHead(head, [])) -
    (attributes === undefined ? 0 : messagePayloadBytes({ body: '', attributes }));
  const bodies: string[] = [];
  let current: string[] = [];
  let currentBytes = 0;
  for (const event of events) {
    const serialized = serializeEnvelopeEvent(event);
    const size = Buffer.byteLength(serialized);
    // One byte for the comma before every event but the first.
    if (current.length > 0 && currentBytes + 1 + size > room) {
      bodies.push(envelopeBodyWithHead(head, current));
      current = [];
      currentBytes = 0;
    }
    currentBytes += (current.length > 0 ? 1 : 0) + size;
    current.push(serialized);
  }
  if (current.length > 0) bodies.push(envelopeBodyWithHead(head, current));
  return bodies;
}

/**
 * The failure recorded for an attempt: an error's name and message, a string as the message of an
 * `Error`, or an `UnknownFailure` when no reason was given; long messages are cut by
 * `shortenErrorMessage`, as on every path.
 *
 * @example
 * ```ts
 * toEventFailure(new TypeError('bad order'), Date.now()); // { name: 'TypeError', message: 'bad order', at: ... }
 * ```
 */
export function toEventFailure(
  reason: string | Error | undefined,
  at: number,
  unknownName: string,
): EventFailure {
  if (reason === undefined)
    return { name: unknownName, message: 'the attempt failed without a reason given', at };
  return { ...summarizeError(reason), at };
}
