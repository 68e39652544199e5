import { CreateQueueCommand } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { findDeadLetterQueue, readRedrivePolicy } from '../../lib/sqs/redrive-policy';
import { createQueueWithDeadLetterQueue, sqsClient, uniqueName } from '../support/aws';

const sqs = sqsClient();

describe('a queue’s redrive policy', () => {
  it('finds the dead-letter queue and the receive count a queue’s redrive policy names', async () => {
    const { queueUrl, deadLetterQueueUrl } = await createQueueWithDeadLetterQueue(sqs, {
      maxReceiveCount: 7,
    });

    expect(await findDeadLetterQueue(sqs, queueUrl)).toEqual({ found: true, url: deadLetterQueueUrl });
    expect((await readRedrivePolicy(sqs, queueUrl))?.maxReceiveCount).toBe(7);
  });

  it('says a queue without a redrive policy has none, naming why, rather than failing', async () => {
    const created = await sqs.send(new CreateQueueCommand({ QueueName: uniqueName('no-policy') }));
    const queueUrl = created.QueueUrl as string;

    expect(await readRedrivePolicy(sqs, queueUrl)).toBeUndefined();
    expect(await findDeadLetterQueue(sqs, queueUrl)).toEqual({
      found: false,
      kind: 'no-policy',
      reason: 'it has no redrive policy',
    });
  });
});
