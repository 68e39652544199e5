import type { MessageAttributeValue } from '@aws-sdk/client-sqs';
import { describe, ValidationError } from '../errors';
import { SQS_BILLING_CHUNK_BYTES } from './constants';

/** The parts of a message that SQS counts towards its size. */
export interface MessagePayload {
  readonly body: string;
  readonly attributes?: Readonly<Record<string, MessageAttributeValue>>;
}

/**
 * The size SQS counts for a message, in bytes: the body in UTF-8 plus, for every message attribute,
 * its name, its data type (custom label included, as in `Number.float`) and its value (strings in
 * UTF-8, binary values by their length). This is the size checked against the 1 MiB message limit and
 * summed for the 1 MiB limit of a SendMessageBatch call.
 *
 * @example
 * ```ts
 * messagePayloadBytes({ body: 'héllo' }); // 6
 * messagePayloadBytes({ body: '{}', attributes: { trace: { DataType: 'String', StringValue: 'abc' } } }); // 2 + 5 + 6 + 3 = 16
 * ```
 */
export function messagePayloadBytes(entry: MessagePayload): number {
  if (typeof entry?.body !== 'string')
    throw new ValidationError(`message body must be a string (given ${describe(entry?.body)})`, entry);
  let total = Buffer.byteLength(entry.body, 'utf8');
  for (const [name, value] of Object.entries(entry.attributes ?? {})) {
    total += Buffer.byteLength(name, 'utf8');
    total += Buffer.byteLength(value?.DataType ?? '', 'utf8');
    if (value?.StringValue !== undefined) total += Buffer.byteLength(value.StringValue, 'utf8');
    if (value?.BinaryValue !== undefined) total += binaryBytes(value.BinaryValue);
    for (const member of value?.StringListValues ?? []) total += Buffer.byteLength(member, 'utf8');
    for (const member of value?.BinaryListValues ?? []) total += binaryBytes(member);
  }
  return total;
}

/**
 * How many requests SQS bills for a call carrying `payloadBytes`: one for every started 64 KiB, and
 * at least one.
 *
 * @example
 * ```ts
 * billedRequestsFor(0); // 1
 * billedRequestsFor(65_536); // 1
 * billedRequestsFor(65_537); // 2
 * billedRequestsFor(1_048_576); // 16
 * ```
 */
export function billedRequestsFor(payloadBytes: number): number {
  if (!Number.isSafeInteger(payloadBytes) || payloadBytes < 0)
    throw new ValidationError(
      `payloadBytes must be a whole number of bytes, 0 or more (given ${describe(payloadBytes)})`,
      payloadBytes,
    );
  return Math.max(1, Math.ceil(payloadBytes / SQS_BILLING_CHUNK_BYTES));
}

function binaryBytes(value: Uint8Array | string): number {
  return typeof value === 'string' ? Buffer.byteLength(value, 'utf8') : value.byteLength;
}
