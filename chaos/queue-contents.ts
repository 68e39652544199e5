import { GetQueueAttributesCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { parseEnvelope } from '../lib/messages/envelope';
import type { QueueWithDeadLetterQueue } from '../test/support/resources';

/**
 * Where the given events are, for the report of a scenario that did not settle: each queue's
 * counts, and the visible messages that carry one of them with their receive counts. Receiving
 * moves those messages, so call it only once the scenario has stopped.
 */
export async function whereAre(
  sqs: SQSClient,
  queue: QueueWithDeadLetterQueue,
  ids: readonly string[],
): Promise<Record<string, unknown>> {
  const wanted = new Set(ids);
  const where: Record<string, unknown> = {};
  for (const [name, url] of [
    ['queue', queue.queueUrl],
    ['deadLetterQueue', queue.deadLetterQueueUrl],
  ] as const) {
    const { Attributes = {} } = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: url,
        AttributeNames: [
          'ApproximateNumberOfMessages',
          'ApproximateNumberOfMessagesNotVisible',
          'ApproximateNumberOfMessagesDelayed',
        ],
      }),
    );
    const carrying: string[] = [];
    for (let round = 0; round < 5; round += 1) {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: url,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 0,
          VisibilityTimeout: 30,
          MessageSystemAttributeNames: ['ApproximateReceiveCount'],
        }),
      );
      if (Messages.length === 0) break;
      for (const message of Messages) {
        const text = readableBody(message.Body ?? '');
        const found = [...wanted].filter((id) => text.includes(id));
        if (found.length > 0)
          carrying.push(
            `${found.length} lost event(s), received ${message.Attributes?.ApproximateReceiveCount} time(s): ${message.Body?.slice(0, 200)}`,
          );
      }
    }
    where[name] = { ...Attributes, carrying };
  }
  return where;
}

/** A body with its events readable, compressed or not: the envelope as JSON, or the body as it is. */
export function readableBody(body: string): string {
  try {
    return JSON.stringify(parseEnvelope(body));
  } catch {
    return body;
  }
}
