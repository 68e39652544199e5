import type { Duration } from 'aws-cdk-lib';
import type * as events from 'aws-cdk-lib/aws-events';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type { PipelineStart } from '../lib/pipeline/definition';
import type { PipelineLatency } from '../lib/settings/latency';
import { maxReceiveCountFor } from '../lib/settings/redelivery';
import type { EventLog } from './event-log';
import type { PipelineMonitoringThresholds } from './pipeline-monitoring';
import type { PipelineStateTable } from './state-table';

// The properties of an `EventPipeline`, as its users set them.

export { PIPELINE_LATENCY, type PipelineLatency } from '../lib/settings/latency';

/** Properties of an {@link EventPipeline}. */
export interface EventPipelineProps {
  /** The event log the pipeline reads. */
  readonly eventLog: EventLog;
  /** The stream it consumes. */
  readonly stream: string;
  /** Only events of these types. @default every type */
  readonly eventTypes?: readonly string[];
  /** The pipeline's name, unique in the state table. @default the construct's id */
  readonly pipelineName?: string;

  /** The file of the worker: it exports a handler made with `createWorker`. */
  readonly entry: string;
  /** The worker's exported handler. @default 'handler' */
  readonly handler?: string;
  /** @default Duration.seconds(30) */
  readonly workerTimeout?: Duration;
  /** @default 512 */
  readonly workerMemorySize?: number;
  /** More environment variables for the worker. */
  readonly workerEnvironment?: Readonly<Record<string, string>>;
  /**
   * Whether the worker and the failed-event handler may commit events to the event log (a worker's
   * returned events or `context.commit`; a failed handler's `context.commit`, with its mark). Turn it
   * off for a pipeline that only consumes.
   * @default true
   */
  readonly commitsOutputs?: boolean;
  /**
   * The streams the worker and the failed-event handler may commit to: their roles may write those
   * streams' events and nothing else of the log. Leave it out only for a worker that picks its output
   * streams at run time.
   *
   * @default every stream of the log (when `commitsOutputs` is on)
   */
  readonly outputStreams?: readonly string[];

  /**
   * The file of the failed-event function: it exports a handler made with
   * `createFailedEventFunction`. @default Sluice's own, which logs each failure at error level
   */
  readonly failedHandlerEntry?: string;
  /** @default 'handler' */
  readonly failedHandler?: string;

  /** A FIFO queue: events of one partition key are handled in commit order. @default false */
  readonly fifo?: boolean;
  /** Where a new pipeline starts reading. @default 'latest' */
  readonly start?: PipelineStart;
  /**
   * Attempts an event gets before it goes to the failed handler, from 1 to 99 (the most whose queue
   * redrive, {@link maxReceiveCountFor}, fits SQS's limit of 1,000 receives). @default 5
   */
  readonly maxRedeliveryCount?: number;
  /** Messages (each up to 100 packed events) per worker invocation. @default 10 */
  readonly batchSize?: number;
  /**
   * How long the event source gathers messages before invoking the worker; standard queues only, and
   * required (at least 1 second) for a batch size over 10. @default none
   */
  readonly maxBatchingWindow?: Duration;
  /** The most worker invocations at once, from 2 to 1,000. @default no limit but the account's */
  readonly maxConcurrency?: number;
  /** The most messages waiting or in flight before the fetcher pauses. @default 1000 */
  readonly bufferSize?: number;
  /** 1 sends one event per message. @default 100 */
  readonly maxEventsPerMessage?: number;
  /** How long messages wait in the queue before SQS drops them. @default Duration.days(4) */
  readonly retentionPeriod?: Duration;

  /**
   * How the fetcher learns of new events, the trade between latency and idle cost:
   * - `'balanced'`: commits wake the fetcher through the event log's table stream; a woken run leaves
   *   once idle, so a pipeline without traffic runs its fetcher only on the safety-net schedule
   *   (`fetchEvery`, 15 minutes by default). Commit to handler in about the settle window (1.5 s);
   * - `'low'`: woken as with `'balanced'`, and the pipeline's stream gets a 300 ms settle window and a
   *   200 ms commit deadline (stored with the stream at deploy, see {@link EventLog.declareStreamTiming}),
   *   read every 200 ms: commit to handler in about half a second. Every writer of the stream must then
   *   have its commits acknowledged within 200 ms of taking their ids (a slower one fails with
   *   `CommitOutcomeUnknownError`), and the stream keeps that timing for every pipeline reading it;
   * - `'economy'`: the schedule alone (`fetchEvery`, every minute by default), each run tailing the log
   *   until its timeout: no waker, and the fetcher's whole minute billed whether events flow or not.
   * @default 'balanced'
   */
  readonly latency?: PipelineLatency;
  /**
   * How often the fetcher runs on its schedule: the safety net under wake-ups (`latency: 'balanced'`),
   * or the only trigger (`'economy'`, where each run tails the log until its timeout).
   * @default Duration.minutes(15) when woken on commit, Duration.minutes(1) with `latency: 'economy'`
   */
  readonly fetchEvery?: Duration;
  /** @default Duration.minutes(1) */
  readonly fetcherTimeout?: Duration;
  /** @default Duration.minutes(5) */
  readonly backfillTimeout?: Duration;

  /** The state table, to share one among pipelines. @default a new one */
  readonly stateTable?: PipelineStateTable;
  /**
   * The bus "Backfill Requested" events arrive on and "Backfill Completed" events go to. Only principals
   * allowed `events:PutEvents` on it can start a backfill (see {@link EventPipeline.grantStartBackfill}):
   * do not pass the account's default bus, on which any principal may put any event.
   *
   * @default the stack's own Sluice bus ({@link sluiceEventBus}), shared by its pipelines
   */
  readonly eventBus?: events.IEventBus;

  /**
   * A customer managed KMS key for the pipeline's queue and DLQ, and for its state table when it creates
   * one (a `stateTable` you pass keeps its own key). Each function is granted exactly what it needs on
   * the key.
   *
   * @default - SQS-managed encryption of the queues, a DynamoDB-owned key for the table
   */
  readonly encryptionKey?: kms.IKey;

  /** Where alarms notify. @default no notification; the alarms still show on the dashboard */
  readonly alarmTopic?: sns.ITopic;
  /** When the alarms fire. */
  readonly alarmThresholds?: PipelineMonitoringThresholds;
}
