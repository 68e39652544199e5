import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { MissingResourceError } from '../errors';
import { isTransientError } from '../retry/is-transient';

/**
 * Messages in a queue that a worker has not finished: visible, in flight and delayed (SQS's
 * approximate counts). A queue that cannot be used throws a `MissingResourceError` (code
 * `resource-unusable`) naming it.
 *
 * @example
 * ```ts
 * if ((await queueDepth(sqs, queueUrl)) >= bufferSize) return; // let the workers catch up
 * ```
 */
export async function queueDepth(sqs: SQSClient, queueUrl: string): Promise<number> {
  const command = new GetQueueAttributesCommand({
    QueueUrl: queueUrl,
    AttributeNames: [
      'ApproximateNumberOfMessages',
      'ApproximateNumberOfMessagesNotVisible',
      'ApproximateNumberOfMessagesDelayed',
    ],
  });
  let attributes: Record<string, string>;
  try {
    attributes = (await sqs.send(command)).Attributes ?? {};
  } catch (error) {
    // Transient errors pass through unwrapped, so that a retry recognises them.
    if (isTransientError(error)) throw error;
    throw new MissingResourceError('queue', queueUrl, { cause: error, code: 'resource-unusable' });
  }
  return (
    Number(attributes.ApproximateNumberOfMessages ?? 0) +
    Number(attributes.ApproximateNumberOfMessagesNotVisible ?? 0) +
    Number(attributes.ApproximateNumberOfMessagesDelayed ?? 0)
  );
}
