import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { ValidationError } from '../lib/errors';
import { findDeadLetterQueue } from '../lib/sqs/redrive-policy';

/**
 * The URL of a queue's dead-letter queue, read from its redrive policy (`deadLetterTargetArn`), or
 * `undefined` when the queue has none. A policy that names no queue throws a `ValidationError`.
 *
 * @example
 * ```ts
 * const dlqUrl = await deadLetterQueueUrlOf(sqs, pipeline.queueUrl);
 * ```
 */
export async function deadLetterQueueUrlOf(sqs: SQSClient, queueUrl: string): Promise<string | undefined> {
  const lookup = await findDeadLetterQueue(sqs, queueUrl);
  if (lookup.found) return lookup.url;
  if (lookup.kind === 'no-policy') return undefined;
  throw new ValidationError(`queue ${queueUrl}: ${lookup.reason}`, queueUrl);
}

/** Messages waiting in a queue (not yet received): SQS's approximate count. */
export async function visibleMessages(sqs: SQSClient, queueUrl: string): Promise<number> {
  const output = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages'] }),
  );
  return Number(output.Attributes?.ApproximateNumberOfMessages ?? 0);
}
