import { describe, TooLargeError, ValidationError } from '../errors';
import { MAX_DELAY_SECONDS, MAX_MESSAGE_ATTRIBUTES, MAX_MESSAGE_BYTES } from './constants';
import { messagePayloadBytes } from './message-size';
import type { OutgoingMessage } from './send-types';

/** Printable ASCII, 1 to 128 characters: SQS's rule for message group and deduplication ids. */
const FIFO_ID_PATTERN = /^[\x21-\x7e]{1,128}$/;

/**
 * Checks every message before anything is sent, and returns each message's payload size.
 *
 * @throws `ValidationError` naming the first bad message, or a `TooLargeError` (what `message`).
 */
export function validateOutgoingMessages(messages: readonly OutgoingMessage[]): number[] {
  if (!Array.isArray(messages))
    throw new ValidationError(`messages must be an array (given ${describe(messages)})`, messages);
  const seen = new Set<string>();
  return messages.map((message, index) => {
    const at = `message ${index}`;
    if (typeof message !== 'object' || message === null)
      throw new ValidationError(`${at} must be an object (given ${describe(message)})`, message);
    if (typeof message.id !== 'string' || message.id === '')
      throw new ValidationError(`${at} needs a non-empty string id (given ${describe(message.id)})`, message);
    if (seen.has(message.id))
      throw new ValidationError(
        `message id ${JSON.stringify(message.id)} appears more than once (again at position ${index}); ids must be unique within one call`,
        message.id,
      );
    seen.add(message.id);
    const named = `message ${JSON.stringify(message.id)}`;
    if (typeof message.body !== 'string' || message.body === '')
      throw new ValidationError(
        `${named} needs a non-empty string body (given ${describe(message.body)})`,
        message,
      );
    if (message.delaySeconds !== undefined) {
      const delay = message.delaySeconds;
      if (!Number.isInteger(delay) || delay < 0 || delay > MAX_DELAY_SECONDS)
        throw new ValidationError(
          `${named}: delaySeconds must be a whole number from 0 to ${MAX_DELAY_SECONDS} (given ${describe(delay)})`,
          delay,
        );
    }
    for (const key of ['groupId', 'deduplicationId'] as const) {
      const value = message[key];
      if (value !== undefined && (typeof value !== 'string' || !FIFO_ID_PATTERN.test(value)))
        throw new ValidationError(
          `${named}: ${key} must be 1 to 128 printable ASCII characters without spaces (given ${describe(value)})`,
          value,
        );
    }
    if (message.attributes !== undefined) {
      const attributes = message.attributes;
      if (typeof attributes !== 'object' || attributes === null || Array.isArray(attributes))
        throw new ValidationError(
          `${named}: attributes must be an object (given ${describe(attributes)})`,
          attributes,
        );
      const names = Object.keys(attributes);
      if (names.length > MAX_MESSAGE_ATTRIBUTES)
        throw new ValidationError(
          `${named} has ${names.length} message attributes; SQS allows at most ${MAX_MESSAGE_ATTRIBUTES}`,
          names,
        );
      for (const name of names) {
        if (typeof attributes[name]?.DataType !== 'string' || attributes[name]?.DataType === '')
          throw new ValidationError(
            `${named}: message attribute ${JSON.stringify(name)} needs a DataType (given ${describe(attributes[name])})`,
            attributes[name],
          );
      }
    }
    const size = messagePayloadBytes(message);
    if (size > MAX_MESSAGE_BYTES)
      throw new TooLargeError({
        what: 'message',
        messageId: message.id,
        sizeBytes: size,
        limitBytes: MAX_MESSAGE_BYTES,
      });
    return size;
  });
}
