import { ReceiveMessageCommand, SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { type EnvelopeEvent, envelopeBody } from '../../lib/messages/envelope';
import { EventIdGenerator } from '../../lib/time/event-id';
import type { SqsEvent, SqsRecord } from '../../lib/worker/sqs-record';

const ids = new EventIdGenerator();

/** Envelope events with real, increasing ids. */
export function envelopeEvents(datas: readonly unknown[], type = 'order'): EnvelopeEvent[] {
  return datas.map((data) => ({ id: ids.next(), type, data }));
}

/** Sends one message per list of events, in order. */
export async function sendEnvelopes(
  sqs: SQSClient,
  queueUrl: string,
  messages: readonly (readonly EnvelopeEvent[])[],
  options: { pipeline?: string; stream?: string; groupIds?: readonly string[]; epoch?: number } = {},
): Promise<void> {
  for (let start = 0; start < messages.length; start += 10) {
    await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: messages.slice(start, start + 10).map((events, offset) => ({
          Id: String(offset),
          MessageBody: envelopeBody(
            {
              pipeline: options.pipeline ?? 'orders-pipeline',
              stream: options.stream ?? 'orders',
              ...(options.epoch === undefined ? {} : { epoch: options.epoch }),
            },
            events,
          ),
          ...(options.groupIds
            ? {
                MessageGroupId: options.groupIds[start + offset],
                MessageDeduplicationId: events
                  .map((event) => event.id)
                  .join('')
                  .slice(0, 128),
              }
            : {}),
        })),
      }),
    );
  }
}

/** Receives up to `max` messages as a Lambda SQS event would carry them. */
export async function receiveAsLambdaEvent(
  sqs: SQSClient,
  queueUrl: string,
  queueArn: string,
  max = 10,
): Promise<SqsEvent> {
  const records: SqsRecord[] = [];
  for (let round = 0; round < 3 && records.length < max; round += 1) {
    const output = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: Math.min(10, max - records.length),
        WaitTimeSeconds: 0,
        MessageSystemAttributeNames: ['All'],
      }),
    );
    const messages = output.Messages ?? [];
    if (messages.length === 0) break;
    for (const message of messages) {
      records.push({
        messageId: message.MessageId as string,
        receiptHandle: message.ReceiptHandle as string,
        body: message.Body ?? '',
        attributes: { ...(message.Attributes ?? {}) },
        eventSourceARN: queueArn,
      });
    }
  }
  return { Records: records };
}

/** A Lambda-like context with a fixed, or changing, time left. */
export function lambdaContext(remainingMs: number | (() => number) = 60_000) {
  return {
    awsRequestId: 'test-request',
    getRemainingTimeInMillis: typeof remainingMs === 'number' ? () => remainingMs : remainingMs,
  };
}

/** A record built by hand, for batches the emulator cannot produce (several messages of one FIFO group). */
export function constructedRecord(
  events: readonly EnvelopeEvent[],
  options: { groupId?: string; receiveCount?: number } = {},
): SqsRecord {
  const messageId = `constructed-${events[0]?.id}`;
  return {
    messageId,
    receiptHandle: `handle-${messageId}`,
    body: envelopeBody({ pipeline: 'orders-pipeline', stream: 'orders' }, events),
    attributes: {
      ApproximateReceiveCount: String(options.receiveCount ?? 1),
      ...(options.groupId ? { MessageGroupId: options.groupId } : {}),
    },
  };
}
