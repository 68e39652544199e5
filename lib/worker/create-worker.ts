import { randomUUID } from 'node:crypto';
import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';
import middy from '@middy/core';
import { describe, ValidationError } from '../errors';
import { TABLE_NAME_PATTERN } from '../event-log/constants';
import { EventLogWriter } from '../event-log/event-log-writer';
import { NAME_PATTERN } from '../event-log/names';
import { matching, readVariable, wholeNumber } from '../settings/read-variable';
import {
  DEFAULT_MAX_REDELIVERY_COUNT,
  MAX_REDELIVERY_COUNT_RANGE,
  maxRedeliveryCountProblem,
} from '../settings/redelivery';
import { WORKER_ENVIRONMENT } from '../settings/variables';
import { createSqsClient } from '../sqs/client';
import { type BackoffPolicy, validateBackoff } from './backoff';
import { MarkerStore } from './marker-store';
import { addBatchCounters } from './pipeline-counters';
import { addWorkerBatchMetrics, pipelineBatchMetrics } from './pipeline-metrics';
import { type BatchDependencies, emptyBatchStats, processBatch } from './process-batch';
import { queueUrlFromArn, type SqsEvent } from './sqs-record';
import type {
  BatchHandler,
  BatchOutcome,
  BatchStats,
  EventHandler,
  ManualHandler,
  StandardSchema,
  WorkerStepHook,
} from './types';

/** Options of {@link createWorker}. Give exactly one of `handle`, `handleBatch` and `manual`. */
export interface WorkerOptions<TData = unknown> {
  /** @default the `SLUICE_PIPELINE` environment variable */
  readonly pipeline?: string;
  /** Push mode, one event at a time (up to `concurrency` at once): throw to fail the event. */
  readonly handle?: EventHandler<TData>;
  /** Push mode, the whole batch at once: throw to fail every event. */
  readonly handleBatch?: BatchHandler<TData>;
  /** Manual mode: settle each event with `context.ack()` / `context.fail()`. */
  readonly manual?: ManualHandler<TData>;
  /** A schema per event type (zod, valibot, ...): an event that fails its schema is not retried. */
  readonly schemas?: Readonly<Record<string, StandardSchema>>;
  /** Events handled at once in push mode. @default 10 */
  readonly concurrency?: number;
  /** Attempts an event gets before it goes to the failed handler, from 1 to 99. @default `SLUICE_MAX_REDELIVERY_COUNT`, else 5 */
  readonly maxRedeliveryCount?: number;
  /** How long a failed event waits before its next attempt. @default 2 s doubling up to 5 minutes, with jitter */
  readonly backoff?: BackoffPolicy;
  /**
   * Whether the log line of a failed event carries the event's data. Off, a failure is logged with
   * its pipeline, event id, type, attempt and error only, since event data may be personal or secret.
   * @default false
   */
  readonly includeSensitiveData?: boolean;
  /** No event starts once the Lambda has less time left than this. @default 5000 */
  readonly deadlineMarginMs?: number;
  /** @default the `SLUICE_QUEUE_URL` environment variable, else from the records' event source ARN */
  readonly queueUrl?: string;
  /** Where events that keep failing go. @default the `SLUICE_DEAD_LETTER_QUEUE_URL` environment variable */
  readonly deadLetterQueueUrl?: string;
  /** The table of idempotency markers (the pipeline state table). @default `SLUICE_STATE_TABLE` */
  readonly stateTable?: string;
  /**
   * Where output events are committed: an `EventLog`, or an `EventLogWriter` (commits only).
   * @default an EventLogWriter on `SLUICE_EVENT_LOG_TABLE`, when set
   */
  readonly eventLog?: EventLogWriter;
  readonly sqs?: SQSClient;
  readonly dynamodb?: DynamoDBClient;
  /** Powertools Logger; the Lambda context is injected into it. */
  readonly logger?: Logger;
  /**
   * Powertools Metrics, flushed by the handler's `logMetrics` middleware. Each batch's counts are
   * added to it, unless `SLUICE_METRICS_NAMESPACE` is set: then they are published under that
   * namespace with the dimensions `service` (`sluice-worker`) and `pipeline`, which is where the
   * `EventPipeline` construct's dashboard and alarms look.
   */
  readonly metrics?: Metrics;
  /** @default Date.now */
  readonly clock?: () => number;
  /** @default Math.random */
  readonly random?: () => number;
  /** Named crash points for tests; see {@link WorkerStepHook}. @default none */
  readonly onStep?: WorkerStepHook;
}

/** The part of the Lambda context the worker reads. */
export interface WorkerInvocationContext {
  readonly awsRequestId?: string;
  getRemainingTimeInMillis(): number;
}

/** A worker: the middy handler for Lambda, and the same processing without middy for the local runtime. */
export type Worker = middy.MiddyfiedHandler<SqsEvent, { batchItemFailures: { itemIdentifier: string }[] }> & {
  /** Processes one SQS event and says what happened, without middy. */
  processEvent(event: SqsEvent, context: WorkerInvocationContext): Promise<BatchOutcome>;
};

const OPTION_KEYS = new Set<string>([
  'pipeline',
  'handle',
  'handleBatch',
  'manual',
  'schemas',
  'concurrency',
  'maxRedeliveryCount',
  'backoff',
  'deadlineMarginMs',
  'includeSensitiveData',
  'queueUrl',
  'deadLetterQueueUrl',
  'stateTable',
  'eventLog',
  'sqs',
  'dynamodb',
  'logger',
  'metrics',
  'clock',
  'random',
  'onStep',
]);

/**
 * Makes the Lambda handler of a pipeline's worker: it turns what your handler does into SQS partial
 * batch responses, retries failed events with backoff, skips duplicates, commits output events with
 * their acknowledgement, and hands events that keep failing to the dead-letter queue with their last
 * error. The result is a middy handler: add your own middleware with `.use()`.
 *
 * @example
 * ```ts
 * export const handler = createWorker<{ orderId: string }>({
 *   handle: async (event, context) => {
 *     await chargeCustomer(event.data.orderId);
 *     return { stream: 'invoices', type: 'invoice.requested', data: { orderId: event.data.orderId } };
 *   },
 *   concurrency: 20,
 *   maxRedeliveryCount: 5,
 * });
 * ```
 */
export function createWorker<TData = unknown>(
  options: WorkerOptions<TData>,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Worker {
  const settings = resolveWorkerOptions(options, env);
  const markers = new MarkerStore({
    tableName: settings.stateTable,
    client: settings.dynamodb,
    clock: settings.clock,
  });

  const processEvent = async (event: SqsEvent, context: WorkerInvocationContext): Promise<BatchOutcome> => {
    const records = event?.Records ?? [];
    if (records.length === 0) return { batchItemFailures: [], stats: emptyBatchStats() };
    const queueUrl = settings.queueUrl ?? queueUrlFromArn(records[0]?.eventSourceARN);
    if (!queueUrl)
      throw new ValidationError(
        `cannot tell the queue URL from the event source ARN ${describe(records[0]?.eventSourceARN)}; set queueUrl`,
        records[0]?.eventSourceARN,
      );
    const dependencies: BatchDependencies<TData> = {
      pipeline: settings.pipeline,
      mode: settings.mode,
      ...(options.schemas ? { schemas: options.schemas } : {}),
      concurrency: settings.concurrency,
      maxRedeliveryCount: settings.maxRedeliveryCount,
      backoff: options.backoff ?? {},
      deadlineMarginMs: settings.deadlineMarginMs,
      sqs: settings.sqs,
      queueUrl,
      deadLetterQueueUrl: settings.deadLetterQueueUrl,
      markers,
      dynamodb: settings.dynamodb,
      ...(settings.eventLog ? { eventLog: settings.eventLog } : {}),
      requestId: context.awsRequestId ?? randomUUID(),
      remainingTimeMs: () => context.getRemainingTimeInMillis(),
      clock: settings.clock,
      random: settings.random,
      ...(options.logger ? { logger: options.logger } : {}),
      ...(options.includeSensitiveData ? { includeSensitiveData: true } : {}),
      ...(options.onStep ? { onStep: options.onStep } : {}),
    };
    const outcome = await processBatch(records, dependencies);
    settings.publishBatchMetrics?.(outcome.stats);
    if (outcome.stats.succeeded + outcome.stats.failed > 0) {
      // The totals `sluice status` shows; a failure to count never fails the batch.
      await addBatchCounters(
        settings.dynamodb,
        settings.stateTable,
        settings.pipeline,
        outcome.stats,
        settings.clock(),
      ).catch((error: unknown) =>
        options.logger?.warn('could not add the batch to the pipeline counters', {
          pipeline: settings.pipeline,
          error: (error as Error).message,
        }),
      );
    }
    return outcome;
  };

  let handler = middy<SqsEvent, { batchItemFailures: { itemIdentifier: string }[] }>(
    async (event: SqsEvent, context: unknown) => {
      const { batchItemFailures } = await processEvent(event, context as WorkerInvocationContext);
      return { batchItemFailures };
    },
  );
  if (options.logger) handler = handler.use(injectLambdaContext(options.logger));
  if (options.metrics) handler = handler.use(logMetrics(options.metrics));
  return Object.assign(handler, { processEvent });
}

function resolveWorkerOptions<TData>(
  options: WorkerOptions<TData>,
  env: Readonly<Record<string, string | undefined>>,
) {
  const problems: string[] = [];
  if (typeof options !== 'object' || options === null)
    throw new ValidationError(`worker options must be an object (given ${describe(options)})`, options);
  for (const key of Object.keys(options)) if (!OPTION_KEYS.has(key)) problems.push(`unknown option '${key}'`);
  const modes = (['handle', 'handleBatch', 'manual'] as const).filter((mode) => options[mode] !== undefined);
  if (modes.length !== 1)
    problems.push(
      `give exactly one of handle, handleBatch and manual (given ${modes.length === 0 ? 'none' : modes.join(', ')})`,
    );
  for (const mode of modes)
    if (typeof options[mode] !== 'function')
      problems.push(`${mode} must be a function (given ${describe(typeof options[mode])})`);
  const pipeline = options.pipeline ?? env[WORKER_ENVIRONMENT.pipeline];
  if (typeof pipeline !== 'string' || !NAME_PATTERN.test(pipeline))
    problems.push(
      `pipeline (or ${WORKER_ENVIRONMENT.pipeline}) must be a pipeline name (given ${describe(pipeline)})`,
    );
  const stateTable = options.stateTable ?? env[WORKER_ENVIRONMENT.stateTable];
  if (typeof stateTable !== 'string' || !TABLE_NAME_PATTERN.test(stateTable))
    problems.push(
      `stateTable (or ${WORKER_ENVIRONMENT.stateTable}) must be a table name (given ${describe(stateTable)})`,
    );
  const deadLetterQueueUrl = options.deadLetterQueueUrl ?? env[WORKER_ENVIRONMENT.deadLetterQueueUrl];
  if (typeof deadLetterQueueUrl !== 'string' || !/^https?:\/\/\S+\/\S+$/.test(deadLetterQueueUrl)) {
    problems.push(
      `deadLetterQueueUrl (or ${WORKER_ENVIRONMENT.deadLetterQueueUrl}) must be a queue URL (given ${describe(deadLetterQueueUrl)})`,
    );
  }
  const queueUrl = options.queueUrl ?? env[WORKER_ENVIRONMENT.queueUrl];
  if (queueUrl !== undefined && !/^https?:\/\/\S+\/\S+$/.test(queueUrl)) {
    problems.push(
      `queueUrl (or ${WORKER_ENVIRONMENT.queueUrl}) must be a queue URL (given ${describe(queueUrl)})`,
    );
  }
  const integer = (name: string, value: unknown, min: number, max: number) => {
    if (
      value !== undefined &&
      (!Number.isInteger(value) || (value as number) < min || (value as number) > max)
    ) {
      problems.push(`${name} must be a whole number from ${min} to ${max} (given ${describe(value)})`);
    }
  };
  if (options.includeSensitiveData !== undefined && typeof options.includeSensitiveData !== 'boolean')
    problems.push(
      `includeSensitiveData must be true or false (given ${describe(options.includeSensitiveData)})`,
    );
  integer('concurrency', options.concurrency, 1, 1_000);
  const maxRedeliveryCount =
    options.maxRedeliveryCount ??
    readVariable(
      env,
      WORKER_ENVIRONMENT.maxRedeliveryCount,
      wholeNumber(MAX_REDELIVERY_COUNT_RANGE),
      problems,
    );
  const redeliveryProblem = maxRedeliveryCountProblem('maxRedeliveryCount', options.maxRedeliveryCount);
  if (redeliveryProblem) problems.push(redeliveryProblem);
  const metricsNamespace = readVariable(
    env,
    WORKER_ENVIRONMENT.metricsNamespace,
    matching(/^[^:]{1,255}$/, "1 to 255 characters without ':'"),
    problems,
  );
  integer('deadlineMarginMs', options.deadlineMarginMs, 0, 900_000);
  if (options.onStep !== undefined && typeof options.onStep !== 'function')
    problems.push(`onStep must be a function (given ${describe(options.onStep)})`);
  problems.push(...validateBackoff(options.backoff ?? {}));
  for (const [type, schema] of Object.entries(options.schemas ?? {})) {
    if (typeof schema?.['~standard']?.validate !== 'function')
      problems.push(`schemas.${type} must be a Standard Schema (zod, valibot, ...)`);
  }
  if (problems.length > 0)
    throw new ValidationError(`invalid worker options: ${problems.join('; ')}`, options);

  const dynamodb = options.dynamodb ?? new DynamoDBClient({});
  const eventLogTable = env[WORKER_ENVIRONMENT.eventLogTable];
  const eventLog =
    options.eventLog ??
    (eventLogTable ? new EventLogWriter({ tableName: eventLogTable, client: dynamodb }) : undefined);
  const mode = options.handle
    ? { handle: options.handle }
    : options.handleBatch
      ? { handleBatch: options.handleBatch }
      : { manual: options.manual as ManualHandler<TData> };
  return {
    pipeline: pipeline as string,
    stateTable: stateTable as string,
    deadLetterQueueUrl: deadLetterQueueUrl as string,
    queueUrl,
    mode: mode as
      | { handle: EventHandler<TData> }
      | { handleBatch: BatchHandler<TData> }
      | { manual: ManualHandler<TData> },
    concurrency: options.concurrency ?? 10,
    maxRedeliveryCount: maxRedeliveryCount ?? DEFAULT_MAX_REDELIVERY_COUNT,
    // The construct's dashboard reads the counts under its own namespace, service and pipeline, so
    // that namespace, when set, wins over the user's instance.
    publishBatchMetrics:
      metricsNamespace !== undefined
        ? pipelineBatchMetrics(metricsNamespace, pipeline as string)
        : options.metrics
          ? (stats: BatchStats) => addWorkerBatchMetrics(options.metrics as Metrics, stats)
          : undefined,
    deadlineMarginMs: options.deadlineMarginMs ?? 5_000,
    sqs: options.sqs ?? createSqsClient(),
    dynamodb,
    eventLog,
    clock: options.clock ?? Date.now,
    random: options.random ?? Math.random,
  };
}
