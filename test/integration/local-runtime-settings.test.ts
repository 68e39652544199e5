import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, inject, it } from 'vitest';
import { EventLog, EventPipeline } from '../../infra';
import { EXAMPLE_WORKER_ENTRY } from '../../infra/example-app';
import { startLocalPipeline } from '../../lib/local';
import { maxReceiveCountFor, visibilityTimeoutSecondsFor } from '../../lib/settings';
import { createWorker } from '../../lib/worker/create-worker';
import { sqsClient, uniqueName } from '../support/aws';

process.env.CDK_VALIDATION = 'false';

interface Settings {
  readonly maxRedeliveryCount: number;
  readonly fifo: boolean;
  readonly batchSize: number;
  readonly workerTimeoutSeconds: number;
}

/** The main queue's redrive and visibility in the template an EventPipeline with these settings deploys. */
function deployedQueue(settings: Settings): { maxReceiveCount: number; visibilityTimeout: number } {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Test');
  const pipeline = new EventPipeline(stack, 'Billing', {
    eventLog: new EventLog(stack, 'EventLog'),
    stream: 'orders',
    entry: EXAMPLE_WORKER_ENTRY,
    maxRedeliveryCount: settings.maxRedeliveryCount,
    fifo: settings.fifo,
    batchSize: settings.batchSize,
    workerTimeout: Duration.seconds(settings.workerTimeoutSeconds),
  });
  const resources = Template.fromStack(stack).toJSON().Resources as Record<
    string,
    { Properties: { VisibilityTimeout: number; RedrivePolicy: { maxReceiveCount: number } } }
  >;
  const queue = resources[stack.getLogicalId(pipeline.queue.node.defaultChild as never)];
  return {
    maxReceiveCount: queue?.Properties.RedrivePolicy.maxReceiveCount ?? Number.NaN,
    visibilityTimeout: queue?.Properties.VisibilityTimeout ?? Number.NaN,
  };
}

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
