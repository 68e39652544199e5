import { GetQueueAttributesCommand, GetQueueUrlCommand, type SQSClient } from '@aws-sdk/client-sqs';

/**
 * The URL of a queue's dead-letter queue, read from its redrive policy (`deadLetterTargetArn`), or
 * `undefined` when the queue has none.
 *
 * @example
 * ```ts
 * const dlqUrl = await deadLetterQueueUrlOf(sqs, pipeline.queueUrl);
 * ```
 */
export async function deadLetterQueueUrlOf(sqs: SQSClient, queueUrl: string): Promise<string | undefined> {
  const output = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['RedrivePolicy'] }),
  );
  const policy = output.Attributes?.RedrivePolicy;
  if (!policy) return undefined;
  let targetArn: unknown;
  try {
    targetArn = (JSON.parse(policy) as { deadLetterTargetArn?: unknown }).deadLetterTargetArn;
  } catch (error) {
    throw new Error(`the redrive policy of queue ${queueUrl} is not JSON (given ${policy})`, {
      cause: error,
    });
  }
  // arn:aws:sqs:<region>:<account>:<name>
  const parts = typeof targetArn === 'string' ? targetArn.split(':') : [];
  const name = parts[5];
  if (parts.length !== 6 || !name) {
    throw new Error(
      `the redrive policy of queue ${queueUrl} names no dead-letter queue ARN (given ${policy})`,
    );
  }
  const account = parts[4];
  const found = await sqs.send(
    new GetQueueUrlCommand({ QueueName: name, ...(account ? { QueueOwnerAWSAccountId: account } : {}) }),
  );
  return found.QueueUrl;
}

/** Messages waiting in a queue (not yet received): SQS's approximate count. */
export async function visibleMessages(sqs: SQSClient, queueUrl: string): Promise<number> {
  const output = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages'] }),
  );
  return Number(output.Attributes?.ApproximateNumberOfMessages ?? 0);
}
