import type { Message } from '@aws-sdk/client-sqs';
import type { SqsRecord } from '../../worker/sqs-record';

/** An SQS record as Lambda delivers it. */
export interface LambdaSqsRecord extends SqsRecord {
  readonly messageAttributes: Readonly<Record<string, LambdaSqsMessageAttribute>>;
  readonly md5OfBody: string;
  readonly eventSource: 'aws:sqs';
  readonly eventSourceARN: string;
  readonly awsRegion: string;
}

/** A message attribute as Lambda delivers it. */
export interface LambdaSqsMessageAttribute {
  readonly stringValue?: string;
  readonly binaryValue?: string;
  readonly stringListValues: string[];
  readonly binaryListValues: string[];
  readonly dataType: string;
}

/** The event a function gets from an SQS event source. */
export interface LambdaSqsEvent {
  readonly Records: LambdaSqsRecord[];
}

/** The queue a record came from, as Lambda names it in the record. */
export interface RecordSource {
  readonly queueArn: string;
  readonly region: string;
}

/** The region of an SQS queue ARN, or `fallback` when the ARN names none. */
export function regionOfQueueArn(arn: string, fallback: string): string {
  return /^arn:[^:]+:sqs:([^:]+):/.exec(arn)?.[1] ?? fallback;
}

/**
 * A received message as the record Lambda hands the function: system attributes as strings, message
 * attributes in Lambda's casing, binary values in base64.
 */
export function toLambdaSqsRecord(message: Message, source: RecordSource): LambdaSqsRecord {
  const attributes: Record<string, string> = {};
  for (const [name, value] of Object.entries(message.Attributes ?? {}))
    if (value !== undefined) attributes[name] = value;
  const messageAttributes: Record<string, LambdaSqsMessageAttribute> = {};
  for (const [name, value] of Object.entries(message.MessageAttributes ?? {})) {
    messageAttributes[name] = {
      ...(value.StringValue !== undefined ? { stringValue: value.StringValue } : {}),
      ...(value.BinaryValue !== undefined
        ? { binaryValue: Buffer.from(value.BinaryValue).toString('base64') }
        : {}),
      stringListValues: value.StringListValues ?? [],
      binaryListValues: (value.BinaryListValues ?? []).map((item) => Buffer.from(item).toString('base64')),
      dataType: value.DataType ?? 'String',
    };
  }
  return {
    messageId: message.MessageId ?? '',
    receiptHandle: message.ReceiptHandle ?? '',
    body: message.Body ?? '',
    attributes,
    messageAttributes,
    md5OfBody: message.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: source.queueArn,
    awsRegion: source.region,
  };
}
