import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { EventLog } from '../../event-log/event-log';
import type { FailureStore } from '../../failed/failure-store';
import type { FailedHandler } from '../../failed/types';
import type { FetcherRunSummary } from '../../fetcher/types';
import type { PipelineDefinition } from '../../pipeline/definition';
import type { PipelineLatency } from '../../settings/latency';
import type { PipelineStore } from '../../state/pipeline-store';
import type { LocalEventBus } from './event-bus';
import type { ModuleExport } from './function-modules';
import type { LambdaHandler } from './lambda-context';
import type { LambdaSqsEvent } from './lambda-sqs-records';
import type { ScheduleStats } from './schedule';
import type { SqsEventSourceStats } from './sqs-event-source';
import type { LocalWakeStats } from './wake-on-commit';

// The options and the running handle of `startLocalPipeline`.

/** Where the runtime finds DynamoDB and SQS. */
export type LocalEndpoints =
  /** Any endpoints, such as emulators you run yourself. */
  | { readonly dynamodb: string; readonly sqs: string }
  /** Real AWS, through the standard credential chain and region settings. */
  | 'aws';

/** What the runtime created, for a worker built in code. */
export interface LocalPipelineResources {
  readonly pipeline: string;
  readonly queueUrl: string;
  readonly queueArn: string;
  readonly deadLetterQueueUrl: string;
  readonly deadLetterQueueArn: string;
  readonly eventLogTable: string;
  readonly stateTable: string;
  readonly sqs: SQSClient;
  readonly dynamodb: DynamoDBClient;
  readonly eventLog: EventLog;
}

/** Options of {@link startLocalPipeline}. Give exactly one of `worker`, `workerModule` and `workerFactory`. */
export interface LocalPipelineOptions {
  /**
   * Where DynamoDB and SQS are.
   * @default DynamoDB Local and the SQS emulator, started on loopback ports and stopped by `stop()`
   */
  readonly endpoints?: LocalEndpoints;
  /** @default `AWS_REGION` for 'aws', else 'us-east-1' */
  readonly region?: string;
  /** @default the standard chain for 'aws', else dummy credentials */
  readonly credentials?: {
    readonly accessKeyId: string;
    readonly secretAccessKey: string;
    readonly sessionToken?: string;
  };
  /** Created if missing. @default 'sluice-events' */
  readonly eventLogTable?: string;
  /** Created if missing. @default 'sluice-state' */
  readonly stateTable?: string;
  /** The pipeline; its queue is created for it. */
  readonly pipeline: Omit<PipelineDefinition, 'queueUrl'>;
  /** The queue's name (and `<name>-dlq` its DLQ's). @default `sluice-<pipeline>` (`.fifo` added for FIFO) */
  readonly queueName?: string;
  /** The worker's Lambda handler, such as the `handler` export of its module. */
  readonly worker?: LambdaHandler<LambdaSqsEvent>;
  /**
   * The worker's module, imported unchanged after the `SLUICE_*` variables and the AWS endpoint
   * variables are set in `process.env` (and restored by `stop()`).
   */
  readonly workerModule?: ModuleExport;
  /** Builds the worker once the queues exist, for a worker made in code that needs their URLs. */
  readonly workerFactory?: (
    resources: LocalPipelineResources,
  ) => LambdaHandler<LambdaSqsEvent> | Promise<LambdaHandler<LambdaSqsEvent>>;
  /** The user's failed handler, run by the failed-event function on the DLQ. */
  readonly failedHandler?: FailedHandler;
  /** The failed-event function's module (a `createFailedEventFunction` handler), imported like `workerModule`. */
  readonly failedModule?: ModuleExport;
  /** @default 10 */
  readonly batchSize?: number;
  /** @default 0 */
  readonly maximumBatchingWindowSeconds?: number;
  /** @default 5 */
  readonly maximumConcurrency?: number;
  /** The worker's timeout; the queue's visibility timeout is six times it. @default 30 */
  readonly workerTimeoutSeconds?: number;
  /**
   * Attempts an event gets before it goes to the failed handler, from 1 to 99. The queue's redrive
   * sits above it as on AWS (`maxReceiveCountFor`, the same formula as the `EventPipeline` construct).
   * @default 5
   */
  readonly maxRedeliveryCount?: number;
  /** How often the fetcher runs. @default 60000 (EventBridge's `rate(1 minute)`) */
  readonly fetcherIntervalMs?: number;
  /**
   * Wake the fetcher on commit, as a deployed pipeline with `latency: 'balanced'` is woken: the event
   * log table's stream (`KEYS_ONLY`, turned on if the table has none) is read shard by shard and
   * handed to the same `Waker` the deployed waker function runs, which starts a fetcher run (or, while
   * one runs, queues the next and cuts its wait short). Every run, woken or scheduled, then leaves once
   * idle; the schedule stays as the safety net. When false, the schedule alone runs the fetcher and
   * each run tails the log until its timeout.
   * @default true, and false with `endpoints: 'aws'` (where the table's stream is the deployment's)
   */
  readonly wakeOnCommit?: boolean;
  /**
   * How long the table stream's records are gathered before the waker is handed them, as the deployed
   * waker's event source does with `EventLog`'s `wakeBatchingWindow`: the first event after a quiet
   * spell waits up to this long longer. Whole seconds, at most 300.
   * @default 0
   */
  readonly wakeBatchingWindowSeconds?: number;
  /**
   * As `EventPipeline`'s `latency`, and from the same profiles: `'balanced'` wakes on commit; `'low'`
   * also declares the stream's timing (a 300 ms settle window, a 200 ms commit deadline) and reads
   * the live edge every 200 ms; `'economy'` runs on the schedule alone. `wakeOnCommit`,
   * `settleWindowMs` and `fetcherPollIntervalMs`, when given, win over what it sets.
   * @default the settings of `wakeOnCommit`, `settleWindowMs` and `fetcherPollIntervalMs` alone
   */
  readonly latency?: PipelineLatency;
  /** The fetcher's timeout: each run works until its start plus this. @default 60 */
  readonly fetcherTimeoutSeconds?: number;
  /** How often the fetcher reads the live edge once caught up. @default 1000 */
  readonly fetcherPollIntervalMs?: number;
  /**
   * The event log's settle window; its commit deadline becomes two thirds of it.
   * @default the EventLog defaults (1500 ms, and a 1000 ms commit deadline)
   */
  readonly settleWindowMs?: number;
  /** Told of errors of the functions it runs. @default logs with console.error */
  readonly onError?: (error: unknown, details: { readonly function: string }) => void;
}

/** Counts of a running local pipeline. */
export interface LocalPipelineStats {
  readonly fetcher: ScheduleStats & { readonly lastRun?: FetcherRunSummary };
  readonly worker: SqsEventSourceStats;
  readonly failed: SqsEventSourceStats;
  readonly bus: ReturnType<LocalEventBus['stats']>;
  /** Wake-ups from the table's stream, when the pipeline wakes on commit. */
  readonly wake?: LocalWakeStats;
}

/** A running local pipeline. */
export interface LocalPipeline {
  /** An event log for producers. */
  readonly eventLog: EventLog;
  readonly store: PipelineStore;
  readonly failures: FailureStore;
  /** The in-process EventBridge bus, for backfill requests and other events. */
  readonly bus: LocalEventBus;
  readonly queueUrl: string;
  readonly deadLetterQueueUrl: string;
  readonly endpoints: { readonly dynamodb?: string; readonly sqs?: string };
  /** The PIDs of the emulators it started. */
  readonly pids: readonly number[];
  /**
   * Resolves once everything committed so far has been handled or dead-lettered: the checkpoint has
   * passed the newest event of the stream, both queues are empty and nothing runs.
   * @throws `SluiceError` naming what was still busy when `timeoutMs` (default 60000) passed.
   */
  waitForIdle(options?: { readonly timeoutMs?: number }): Promise<void>;
  stats(): LocalPipelineStats;
  /** Stops the schedule, the event sources (waiting for running invocations) and the emulators it started. */
  stop(): Promise<void>;
}
