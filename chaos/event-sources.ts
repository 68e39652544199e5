import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { createWorker, EventLog } from '../lib';
import { handleDeadLetters } from '../lib/failed/dlq-consumer';
import { FailureStore } from '../lib/failed/failure-store';
import { type LambdaSqsEvent, SqsEventSourceMapping } from '../lib/local';
import { seededRandom } from '../test/support/fixtures';
import type { QueueWithDeadLetterQueue } from '../test/support/resources';
import { CHAOS_SCHEMAS, type ChaosData } from './event-kinds';
import type { ObservedHandOver } from './invariants';
import type { ChaosPipelineOptions } from './pipeline-options';
import type { ScenarioHandler } from './scenario-handler';
import { CHAOS_TIMING, EVENT_SOURCE_BATCH_SIZE } from './settings';

/** What {@link chaosEventSources} wires together. */
export interface ChaosEventSourcesSetup {
  readonly pipeline: string;
  readonly tables: { readonly events: string; readonly state: string };
  readonly queue: QueueWithDeadLetterQueue;
  readonly options: ChaosPipelineOptions;
  /** Where the failed handler commits one event per failure, with the failure's mark. */
  readonly failedEffectsStream: string;
  readonly handler: ScenarioHandler;
  /** Clients for one part of the pipeline, with the scenario's faults in them. */
  readonly clients: (part: string) => { dynamodb: DynamoDBClient; sqs: SQSClient };
  /** Told of every failure the failed handler is called with, repeats kept. */
  readonly onHandOver: (call: ObservedHandOver) => void;
  /** Told how many duplicates each worker invocation skipped. */
  readonly onDuplicatesSkipped: (count: number) => void;
}

/**
 * The worker and the dead-letter consumer behind the local runtime's SQS event source mappings
 * (Lambda's rules), not yet started: the worker commits the scenario handler's effects through its
 * ackCommit, and the failed handler commits one failed effect per failure through `context.commit`.
 *
 * @example
 * ```ts
 * const mappings = chaosEventSources({ pipeline, tables, queue, options, failedEffectsStream, handler, clients, onHandOver, onDuplicatesSkipped });
 * await Promise.all(mappings.map((mapping) => mapping.start()));
 * ```
 */
export function chaosEventSources(setup: ChaosEventSourcesSetup): SqsEventSourceMapping[] {
  const { pipeline, tables, queue, options, handler } = setup;
  const workerClients = setup.clients('worker');
  const timeoutSeconds = options.workerTimeoutSeconds ?? CHAOS_TIMING.workerTimeoutSeconds;
  const worker = createWorker<ChaosData>(
    {
      pipeline,
      stateTable: tables.state,
      queueUrl: queue.queueUrl,
      deadLetterQueueUrl: queue.deadLetterQueueUrl,
      sqs: workerClients.sqs,
      dynamodb: workerClients.dynamodb,
      eventLog: new EventLog({ tableName: tables.events, client: workerClients.dynamodb }),
      ...(options.maxRedeliveryCount ? { maxRedeliveryCount: options.maxRedeliveryCount } : {}),
      deadlineMarginMs: Math.round(timeoutSeconds * 1_000 * CHAOS_TIMING.deadlineMarginShare),
      schemas: CHAOS_SCHEMAS,
      random: seededRandom(options.seed),
      ...(options.workerOnStep ? { onStep: options.workerOnStep } : {}),
      handle: (event) => handler.handle(event, timeoutSeconds),
    },
    {},
  );
  const deadLetterClients = setup.clients('dead-letters');
  const failures = new FailureStore({ tableName: tables.state, client: deadLetterClients.dynamodb });
  const mappingClients = setup.clients('event-source');
  return [
    new SqsEventSourceMapping({
      sqs: mappingClients.sqs,
      queueUrl: queue.queueUrl,
      queueArn: queue.queueArn,
      functionName: 'chaos-worker',
      functionTimeoutSeconds: timeoutSeconds,
      batchSize: EVENT_SOURCE_BATCH_SIZE,
      maximumConcurrency: options.maximumConcurrency ?? 4,
      pollWaitTimeSeconds: 1,
      onError: () => {},
      handler: async (event: LambdaSqsEvent, context) => {
        const outcome = await handler.invocation(() => worker.processEvent(event, context));
        setup.onDuplicatesSkipped(outcome.stats.duplicatesSkipped);
        return { batchItemFailures: outcome.batchItemFailures };
      },
    }),
    new SqsEventSourceMapping({
      sqs: mappingClients.sqs,
      queueUrl: queue.deadLetterQueueUrl,
      queueArn: queue.deadLetterQueueArn,
      functionName: 'chaos-failed',
      functionTimeoutSeconds: 30,
      maximumConcurrency: 2,
      pollWaitTimeSeconds: 1,
      onError: () => {},
      handler: async (event: LambdaSqsEvent) => {
        const result = await handleDeadLetters<ChaosData>(event.Records, {
          pipeline,
          store: failures,
          claimDurationMs: options.claimDurationMs ?? 10_000,
          ...(options.deadLetterOnStep ? { onStep: options.deadLetterOnStep } : {}),
          eventLog: new EventLog({ tableName: tables.events, client: deadLetterClients.dynamodb }),
          // The failed handler's effect goes through context.commit, with the failure's mark.
          failedHandler: (handed, context) => {
            for (const { event, attempts, lastError } of handed) {
              setup.onHandOver({ id: event.id, attempts, lastError: lastError.message });
              context.commit(event.id, {
                stream: setup.failedEffectsStream,
                type: 'failed-effect',
                data: { source: event.id },
              });
            }
          },
        });
        return { batchItemFailures: result.batchItemFailures };
      },
    }),
  ];
}
