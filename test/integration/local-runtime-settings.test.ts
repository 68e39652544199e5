import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { describe, expect, inject, it } from 'vitest';
import { startLocalPipeline } from '../../lib/local';
import { maxReceiveCountFor, visibilityTimeoutSecondsFor } from '../../lib/settings';
import { createWorker } from '../../lib/worker/create-worker';
import { sqsClient, uniqueName } from '../support/aws';
import { deployedQueue } from '../support/deployed-pipeline';

process.env.CDK_VALIDATION = 'false';

describe('the local runtime and the deployed pipeline', () => {
  it.each([
    { maxRedeliveryCount: 7, fifo: false, batchSize: 10, workerTimeoutSeconds: 20 },
    { maxRedeliveryCount: 12, fifo: true, batchSize: 4, workerTimeoutSeconds: 60 },
  ])('give the queue the same maxReceiveCount and visibility timeout for %o', async (settings) => {
    // Prepare
    const deployed = deployedQueue(settings);
    const sqs = sqsClient();
    const local = await startLocalPipeline({
      endpoints: { dynamodb: inject('dynamodbEndpoint'), sqs: inject('sqsEndpoint') },
      eventLogTable: uniqueName('events'),
      stateTable: uniqueName('state'),
      pipeline: { name: uniqueName('billing'), stream: uniqueName('orders'), fifo: settings.fifo },
      workerFactory: (resources) =>
        createWorker(
          {
            pipeline: resources.pipeline,
            stateTable: resources.stateTable,
            queueUrl: resources.queueUrl,
            deadLetterQueueUrl: resources.deadLetterQueueUrl,
            sqs: resources.sqs,
            dynamodb: resources.dynamodb,
            handle: async () => {},
          },
          {},
        ),
      failedHandler: () => {},
      maxRedeliveryCount: settings.maxRedeliveryCount,
      batchSize: settings.batchSize,
      workerTimeoutSeconds: settings.workerTimeoutSeconds,
      fetcherIntervalMs: 60_000,
    });

    try {
      // Act
      const { Attributes } = await sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: local.queueUrl,
          AttributeNames: ['RedrivePolicy', 'VisibilityTimeout'],
        }),
      );

      // Assess
      const redrive = JSON.parse(Attributes?.RedrivePolicy ?? '{}') as { maxReceiveCount?: unknown };
      expect(Number(redrive.maxReceiveCount)).toBe(deployed.maxReceiveCount);
      expect(deployed.maxReceiveCount).toBe(
        maxReceiveCountFor(settings.maxRedeliveryCount, settings.fifo ? settings.batchSize : 1),
      );
      expect(Number(Attributes?.VisibilityTimeout)).toBe(deployed.visibilityTimeout);
      expect(deployed.visibilityTimeout).toBe(visibilityTimeoutSecondsFor(settings.workerTimeoutSeconds));
    } finally {
      await local.stop();
      sqs.destroy();
    }
  });
});
