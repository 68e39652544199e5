import { createHash } from 'node:crypto';

/**
 * The identity a redrive stamps on the message it sends back (`Envelope.redrive`), derived from what
 * it sends back: a dead-letter message's id, or a failure record's key. The same source always gets
 * the same identity, so a redrive that stopped between sending and clearing its source, and runs
 * again, sends a message the worker recognises as the same; a later failure of the event is a new
 * source, and gets a new identity.
 *
 * @example
 * ```ts
 * redriveIdentity(`dlq#${message.MessageId}`); // 22 characters of base64url
 * ```
 */
export function redriveIdentity(source: string): string {
  return createHash('sha256').update(source).digest('base64url').slice(0, 22);
}

/**
 * The `MessageDeduplicationId` of a message a redrive sends back to a FIFO queue: the SHA-256 of its
 * body, so sending the same message again within SQS's five minutes enqueues it once.
 *
 * @example
 * ```ts
 * redriveDeduplicationId(body); // 64 hex characters
 * ```
 */
export function redriveDeduplicationId(body: string): string {
  return createHash('sha256').update(body).digest('hex');
}
