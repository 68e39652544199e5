import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { EventLog, EventPipeline } from '../../infra';
import { EXAMPLE_WORKER_ENTRY } from '../../infra/example-app';

/** The settings of a pipeline that decide its queue. */
export interface QueueSettings {
  readonly maxRedeliveryCount: number;
  readonly fifo: boolean;
  readonly batchSize: number;
  readonly workerTimeoutSeconds: number;
}

/** A resource of a synthesized template. */
export interface TemplateResource {
  readonly Type: string;
  readonly Properties: Record<string, unknown>;
}

/**
 * An `EventPipeline` with these settings, synthesized without bundling: its stack, the construct and
 * the template's resources by logical id. Set `CDK_VALIDATION=false` first to skip the validator.
 *
 * @example
 * ```ts
 * const { resources, logicalId, pipeline } = synthesizedPipeline({ maxRedeliveryCount: 7, fifo: false, batchSize: 10, workerTimeoutSeconds: 20 });
 * resources[logicalId(pipeline.queue)];
 * ```
 */
export function synthesizedPipeline(settings: QueueSettings) {
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
  const resources = Template.fromStack(stack).toJSON().Resources as Record<string, TemplateResource>;
  const logicalId = (construct: { node: { defaultChild?: unknown } }) =>
    stack.getLogicalId(construct.node.defaultChild as never);
  return { stack, pipeline, resources, logicalId };
}

/**
 * The main queue's redrive and visibility in the template of {@link synthesizedPipeline}.
 *
 * @example
 * ```ts
 * deployedQueue(settings).maxReceiveCount; // 19 for maxRedeliveryCount 7 on a standard queue
 * ```
 */
export function deployedQueue(settings: QueueSettings): {
  maxReceiveCount: number;
  visibilityTimeout: number;
} {
  const { pipeline, resources, logicalId } = synthesizedPipeline(settings);
  const queue = resources[logicalId(pipeline.queue)]?.Properties as {
    VisibilityTimeout: number;
    RedrivePolicy: { maxReceiveCount: number };
  };
  return { maxReceiveCount: queue.RedrivePolicy.maxReceiveCount, visibilityTimeout: queue.VisibilityTimeout };
}
