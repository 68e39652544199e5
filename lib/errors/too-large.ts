import { ValidationError } from './validation';

/** What a `TooLargeError` found too large, with what is known of it. */
export type TooLargeDetails =
  /** An event whose stored item would exceed DynamoDB's item size limit. */
  | { what: 'event'; stream: string; type: string; sizeBytes: number; limitBytes: number }
  /** An atomic commit with more events, or more bytes, than one DynamoDB transaction can hold. */
  | { what: 'transaction'; eventCount: number; sizeBytes: number; maxEvents: number; maxBytes: number }
  /** A message whose body and attributes exceed what SQS accepts in one message. */
  | { what: 'message'; messageId: string; sizeBytes: number; limitBytes: number }
  /** An event too large for one SQS message, even alone (the fetcher's packing). */
  | { what: 'event in message'; eventId: string; sizeBytes: number; limitBytes: number };

/**
 * Something over a size limit: an event over DynamoDB's item limit (`what: 'event'`), an atomic
 * commit over a transaction's (`'transaction'`, which also has `eventCount` and `maxEvents`), a
 * message over SQS's (`'message'`), or an event too large for a message even alone
 * (`'event in message'`). `sizeBytes` is its size, `limitBytes` the limit. Code `too-large`.
 *
 * @example
 * ```ts
 * catch (error) {
 *   if (error instanceof TooLargeError && error.what === 'event') await storeInS3(error.stream, error.type);
 * }
 * ```
 */
export class TooLargeError extends ValidationError {
  declare readonly code: 'too-large';
  readonly what: TooLargeDetails['what'];
  /** Its size, in bytes (for a transaction: every event's, together). */
  readonly sizeBytes: number;
  readonly limitBytes: number;
  /** For an event: its stream and type. */
  readonly stream: string | undefined;
  readonly type: string | undefined;
  /** For an event in a message: its id. */
  readonly eventId: string | undefined;
  /** For a message: the caller's id of it. */
  readonly messageId: string | undefined;
  /** For a transaction: how many events it held, and the most it may. */
  readonly eventCount: number | undefined;
  readonly maxEvents: number | undefined;
  /** For a transaction: the same as `limitBytes`. */
  readonly maxBytes: number | undefined;

  constructor(details: TooLargeDetails) {
    super(tooLargeMessage(details), details, { code: 'too-large' });
    this.name = 'TooLargeError';
    this.what = details.what;
    this.sizeBytes = details.sizeBytes;
    this.limitBytes = details.what === 'transaction' ? details.maxBytes : details.limitBytes;
    this.stream = details.what === 'event' ? details.stream : undefined;
    this.type = details.what === 'event' ? details.type : undefined;
    this.eventId = details.what === 'event in message' ? details.eventId : undefined;
    this.messageId = details.what === 'message' ? details.messageId : undefined;
    this.eventCount = details.what === 'transaction' ? details.eventCount : undefined;
    this.maxEvents = details.what === 'transaction' ? details.maxEvents : undefined;
    this.maxBytes = details.what === 'transaction' ? details.maxBytes : undefined;
  }
}

function tooLargeMessage(details: TooLargeDetails): string {
  switch (details.what) {
    case 'event':
      return `event of type '${details.type}' on stream '${details.stream}' is ${details.sizeBytes} bytes stored, over the limit of ${details.limitBytes} bytes; store large payloads elsewhere (S3) and commit a reference`;
    case 'transaction':
      return `an atomic commit holds at most ${details.maxEvents} events and ${details.maxBytes} bytes (given ${details.eventCount} events, ${details.sizeBytes} bytes); split it, or use commitBatched() if the events need not land all or nothing`;
    case 'message':
      return `message ${JSON.stringify(details.messageId)} is ${details.sizeBytes} bytes (body plus message attributes), over the SQS limit of ${details.limitBytes} bytes; store large payloads elsewhere (S3) and send a reference`;
    case 'event in message':
      return `event ${details.eventId} takes ${details.sizeBytes} bytes in a message, over the SQS limit of ${details.limitBytes} bytes; it cannot be sent`;
  }
}
