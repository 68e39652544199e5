import { DeleteMessageBatchCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { EventLog, type EventLogOptions, type PipelineDefinition } from '../../lib';
import { Fetcher, type FetcherOptions } from '../../lib/fetcher/fetcher';
import { type Envelope, parseEnvelope } from '../../lib/messages/envelope';
import { PipelineStore } from '../../lib/state/pipeline-store';
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

/** A message as SQS handed it out, already deleted from its queue. */
export interface DrainedMessage {
  readonly body: string;
  readonly attributes: Record<string, string>;
}

/**
 * Receives and deletes every message in a queue, in the order they come, until the queue has stayed
 * empty for `emptyReceives` receives in a row and at least `expected` messages arrived (or
 * `timeoutMs` passed). On a FIFO queue fauxqs hands out one message of a group per receive, so this
 * loops once per message.
 */
export async function drainMessages(
  sqs: SQSClient,
  queueUrl: string,
  options: { emptyReceives?: number; expected?: number; timeoutMs?: number } = {},
): Promise<DrainedMessage[]> {
  const drained: DrainedMessage[] = [];
  const deadline = Date.now() + (options.timeoutMs ?? 10_000);
  let empty = 0;
  while (Date.now() < deadline) {
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
      if (empty >= (options.emptyReceives ?? 2) && drained.length >= (options.expected ?? 0)) break;
      if (drained.length < (options.expected ?? 0)) await new Promise((resolve) => setTimeout(resolve, 50));
      continue;
    }
    empty = 0;
    drained.push(
      ...messages.map((message) => ({
        body: message.Body ?? '',
        attributes: { ...(message.Attributes ?? {}) },
      })),
    );
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
  return drained;
}

/** {@link drainMessages}, the bodies only. */
export async function drainBodies(
  sqs: SQSClient,
  queueUrl: string,
  options: Parameters<typeof drainMessages>[2] = {},
): Promise<string[]> {
  return (await drainMessages(sqs, queueUrl, options)).map((message) => message.body);
}

/** Drains a queue of Sluice messages, parsing each envelope. */
export async function drainQueue(
  sqs: SQSClient,
  queueUrl: string,
  emptyReceives = 2,
): Promise<ReceivedMessage[]> {
  return (await drainMessages(sqs, queueUrl, { emptyReceives })).map(({ body, attributes }) => ({
    envelope: parseEnvelope(body),
    body,
    sentTimestamp: Number(attributes.SentTimestamp ?? 0),
    ...(attributes.MessageGroupId ? { groupId: attributes.MessageGroupId } : {}),
  }));
}

/** The event ids of received messages, in the order received. */
export function receivedEventIds(messages: readonly ReceivedMessage[]): string[] {
  return messages.flatMap((message) => message.envelope.events.map((event) => event.id));
}
