import { describe, expect, it } from 'vitest';
import { createFailedEventFunction } from '../../lib/failed/failed-event-function';
import { readFetcherEnvironment } from '../../lib/fetcher/from-environment';
import {
  FAILED_EVENT_ENVIRONMENT,
  FETCHER_ENVIRONMENT,
  MAX_REDELIVERY_COUNT_RANGE,
  maxReceiveCountFor,
  readVariable,
  visibilityTimeoutSecondsFor,
  WORKER_ENVIRONMENT,
  wholeNumber,
} from '../../lib/settings';
import { createWorker } from '../../lib/worker/create-worker';
import { type QueueSettings, synthesizedPipeline, type TemplateResource } from '../support/deployed-pipeline';

process.env.CDK_VALIDATION = 'false';

/** A CloudFormation value made concrete the way the deployed stack would resolve it, with made-up names. */
function resolver(resources: Record<string, TemplateResource>) {
  const resolve = (value: unknown): string => {
    if (typeof value === 'string') return value;
    const { Ref: ref, 'Fn::Join': join } = value as { Ref?: string; 'Fn::Join'?: [string, unknown[]] };
    if (join) return join[1].map(resolve).join(join[0]);
    const resource = ref === undefined ? undefined : resources[ref];
    if (resource?.Type === 'AWS::SQS::Queue')
      return `https://sqs.us-east-1.amazonaws.com/123456789012/${ref}${resource.Properties.FifoQueue ? '.fifo' : ''}`;
    if (resource?.Type === 'AWS::DynamoDB::Table') return `table-${ref}`;
    if (resource?.Type === 'AWS::Events::EventBus') return `bus-${ref}`;
    throw new Error(`no resolution for ${JSON.stringify(value)}`);
  };
  return resolve;
}

function deployed(settings: QueueSettings) {
  const { stack, pipeline, resources, logicalId } = synthesizedPipeline(settings);
  const resolve = resolver(resources);
  const environmentOf = (fn: { node: { findChild(id: string): unknown } }) => {
    const id = stack.getLogicalId(fn.node.findChild('Resource') as never);
    const variables = (
      (resources[id] as TemplateResource).Properties.Environment as { Variables: Record<string, unknown> }
    ).Variables;
    return Object.fromEntries(Object.entries(variables).map(([name, value]) => [name, resolve(value)]));
  };
  const queue = resources[logicalId(pipeline.queue)] as TemplateResource;
  return {
    pipeline,
    queue: queue.Properties as { VisibilityTimeout: number; RedrivePolicy: { maxReceiveCount: number } },
    worker: environmentOf(pipeline.workerFunction as never),
    fetcher: environmentOf(pipeline.fetcherFunction as never),
    failed: environmentOf(pipeline.failedEventFunction as never),
  };
}

const sluiceNames = (environment: Record<string, string>) =>
  Object.keys(environment).filter((name) => name.startsWith('SLUICE_'));

describe('the deployed template and what lib reads', () => {
  it.each([
    { maxRedeliveryCount: 7, fifo: false, batchSize: 10, workerTimeoutSeconds: 20 },
    { maxRedeliveryCount: 12, fifo: true, batchSize: 4, workerTimeoutSeconds: 60 },
    {
      maxRedeliveryCount: MAX_REDELIVERY_COUNT_RANGE.max,
      fifo: true,
      batchSize: 10,
      workerTimeoutSeconds: 900,
    },
  ])('agree on names, the redrive and the visibility for %o', (settings) => {
    // Act
    const { queue, worker, fetcher, failed } = deployed(settings);

    // Assess: the queue follows the settings module's formulas.
    expect(queue.RedrivePolicy.maxReceiveCount).toBe(
      maxReceiveCountFor(settings.maxRedeliveryCount, settings.fifo ? settings.batchSize : 1),
    );
    expect(queue.VisibilityTimeout).toBe(visibilityTimeoutSecondsFor(settings.workerTimeoutSeconds));

    // Assess: each function gets only SLUICE_ variables its reader knows, and the readers accept them.
    expect(
      sluiceNames(worker).filter((name) => !Object.values<string>(WORKER_ENVIRONMENT).includes(name)),
    ).toEqual([]);
    expect(
      sluiceNames(fetcher).filter((name) => !Object.values<string>(FETCHER_ENVIRONMENT).includes(name)),
    ).toEqual([]);
    expect(
      sluiceNames(failed).filter((name) => !Object.values<string>(FAILED_EVENT_ENVIRONMENT).includes(name)),
    ).toEqual([]);
    const problems: string[] = [];
    expect(
      readVariable(
        worker,
        WORKER_ENVIRONMENT.maxRedeliveryCount,
        wholeNumber(MAX_REDELIVERY_COUNT_RANGE),
        problems,
      ),
    ).toBe(settings.maxRedeliveryCount);
    expect(problems).toEqual([]);
    expect(() => createWorker({ handle: async () => {} }, worker)).not.toThrow();
    expect(() => createFailedEventFunction({ failedHandler: async () => {}, env: failed })).not.toThrow();
    const read = readFetcherEnvironment(fetcher);
    expect(read.pipelines).toEqual(['Billing']);
    expect(read.pipelineDefinitions?.[0]?.queueUrl).toBe(worker[WORKER_ENVIRONMENT.queueUrl]);
  });
});
