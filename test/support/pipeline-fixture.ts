import { DeleteMessageBatchCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import {
  type Envelope,
  EventLog,
  type EventLogOptions,
  Fetcher,
  type FetcherOptions,
  type PipelineDefinition,
  PipelineStore,
  parseEnvelope,
} from '../../lib';
import {
  createQueueWithDeadLetterQueue,
  createStreamTable,
  dynamodbClient,
  sqsClient,
  uniqueName,
} from './aws';

/** Everything one fetcher test needs: its own event and state tables, a queue with a DLQ, a store. */
export async function createPipelineFixture(options: { fifo?: boolean } = {}) {
  const dynamodb = dynamodbClient();
  const sqs = sqsClient();
  const [events, state, queue] = await Promise.all([
    createStreamTable(dynamodb, 'events'),
    createStreamTable(dynamodb, 'state'),
    createQueueWithDeadLetterQueue(sqs, { fifo: options.fifo ?? false, visibilityTimeoutSeconds: 60 }),
  ]);
  const store = new PipelineStore({ tableName: state.name, client: dynamodb });
  return {
    dynamodb,
    sqs,
    queue,
    store,
    stream: uniqueName('stream'),
    /** An event log on this fixture's table; pass an id generator to lay events out in the past. */
    eventLog(logOptions: Partial<EventLogOptions> = {}): EventLog {
      return new EventLog({ tableName: events.name, client: dynamodb, ...logOptions });
    },
    fetcher(fetcherOptions: Partial<FetcherOptions> & { source: FetcherOptions['source'] }): Fetcher {
      return new Fetcher({ store, sqs, pollIntervalMs: 50, finalizeReserveMs: 200, ...fetcherOptions });
    },
    pipeline(definition: Partial<PipelineDefinition> & { name: string; stream: string }): PipelineDefinition {
      return { queueUrl: queue.queueUrl, start: 'earliest', ...definition };
    },
    async drop(): Promise<void> {
      await Promise.all([events.drop(), state.drop()]);
    },
  };
}

/** A message as a test reads it back: its envelope and the time SQS took it. */
export interface ReceivedMessage {
  readonly envelope: Envelope;
  readonly body: string;
  readonly sentTimestamp: number;
  readonly groupId?: string;
}

/**
 * Receives and deletes every message in a queue until it stays empty for `emptyReceives` calls in a
 * row, in the order they came.
 */
export async function drainQueue(
  sqs: SQSClient,
  queueUrl: string,
  emptyReceives = 2,
): Promise<ReceivedMessage[]> {
  const received: ReceivedMessage[] = [];
  let empty = 0;
  while (empty < emptyReceives) {
    const output = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
        MessageSystemAttributeNames: ['SentTimestamp', 'MessageGroupId'],
      }),
    );
    const messages = output.Messages ?? [];
    if (messages.length === 0) {
      empty += 1;
      continue;
    }
    empty = 0;
    for (const message of messages) {
      const groupId = message.Attributes?.MessageGroupId;
      received.push({
        envelope: parseEnvelope(message.Body ?? '', message.MessageId),
        body: message.Body ?? '',
        sentTimestamp: Number(message.Attributes?.SentTimestamp ?? 0),
        ...(groupId ? { groupId } : {}),
      });
    }
    await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: messages.map((message, index) => ({
          Id: String(index),
          ReceiptHandle: message.ReceiptHandle,
        })),
      }),
    );
  }
  return received;
}

/** The event ids of received messages, in the order received. */
export function receivedEventIds(messages: readonly ReceivedMessage[]): string[] {
  return messages.flatMap((message) => message.envelope.events.map((event) => event.id));
}
