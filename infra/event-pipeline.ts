import { fileURLToPath } from 'node:url';
import { Duration, Stack, Token } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { BACKFILL_EVENTS, BACKFILL_NAME_INFIX } from '../lib/backfill/constants';
import { NAME_PATTERN, NAME_RULE } from '../lib/event-log/names';
import { FETCHER_METRICS, METRICS_NAMESPACE, WORKER_METRICS } from '../lib/metrics/names';
import { type PipelineDefinition, type PipelineStart, resolvePipeline } from '../lib/pipeline/definition';
import {
  DEFAULT_MAX_REDELIVERY_COUNT,
  maxReceiveCountFor,
  maxRedeliveryCountProblem,
} from '../lib/settings/redelivery';
import { FAILED_EVENT_ENVIRONMENT, FETCHER_ENVIRONMENT, WORKER_ENVIRONMENT } from '../lib/settings/variables';
import { VISIBILITY_TIMEOUT_FACTOR, visibilityTimeoutSecondsFor } from '../lib/settings/visibility';
import { WOKEN_RUN_UNTIL_IDLE_MS } from '../lib/wake/wake-routes';
import type { EventLog } from './event-log';
import {
  alarmThresholdProblems,
  PipelineMonitoring,
  type PipelineMonitoringThresholds,
} from './pipeline-monitoring';
import { SluiceFunction } from './sluice-function';
import { PipelineStateTable } from './state-table';

const FUNCTIONS = {
  fetcher: fileURLToPath(new URL('../functions/fetcher.ts', import.meta.url)),
  backfill: fileURLToPath(new URL('../functions/backfill.ts', import.meta.url)),
  failed: fileURLToPath(new URL('../functions/failed.ts', import.meta.url)),
};

/** The `latency` settings of an {@link EventPipeline}. */
export const PIPELINE_LATENCY = { balanced: 'balanced', economy: 'economy' } as const;
export type PipelineLatency = (typeof PIPELINE_LATENCY)[keyof typeof PIPELINE_LATENCY];

/** The failed-event function's timeout; the DLQ's visibility timeout is 6 times as long. */
const FAILED_HANDLER_TIMEOUT = Duration.seconds(30);

// The formulas the local runtime uses too; re-exported here, where they were first public.
export { maxReceiveCountFor, VISIBILITY_TIMEOUT_FACTOR };

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

/**
 * One Sluice pipeline on AWS: everything that pumps a stream of the event log to a user's worker,
 * safely configured and observable from the first minute.
 *
 * - the queue (standard or FIFO) and its DLQ, encrypted, TLS only, `maxReceiveCount` above
 *   `maxRedeliveryCount` (see {@link maxReceiveCountFor}) and a visibility timeout of 6× the worker's;
 * - the state table (or a shared one);
 * - the fetcher Lambda on an EventBridge schedule; it registers the pipeline on its first run;
 * - the worker Lambda from `entry`, behind an SQS event source with `ReportBatchItemFailures`;
 * - the failed-event Lambda on the DLQ;
 * - a rule for this pipeline's "Backfill Requested" events and the backfill Lambda;
 * - a CloudWatch dashboard and alarms ({@link PipelineMonitoring}).
 *
 * Every function has its own role, granted only what it calls on its own tables and queues.
 * Invalid props fail at construction, each problem named with its value.
 *
 * @example
 * ```ts
 * const eventLog = new EventLog(this, 'EventLog');
 * const billing = new EventPipeline(this, 'Billing', {
 *   eventLog,
 *   stream: 'orders',
 *   eventTypes: ['order.placed'],
 *   entry: 'src/billing-worker.ts',
 *   maxConcurrency: 10,
 * });
 * billing.alarms.deadLetters.addAlarmAction(new SnsAction(pagerTopic));
 * ```
 */
export class EventPipeline extends Construct {
  public readonly pipelineName: string;
  public readonly queue: sqs.Queue;
  public readonly deadLetterQueue: sqs.Queue;
  public readonly stateTable: PipelineStateTable;
  public readonly fetcherFunction: lambda.IFunction;
  public readonly workerFunction: lambda.IFunction;
  public readonly failedEventFunction: lambda.IFunction;
  public readonly backfillFunction: lambda.IFunction;
  /** The schedule that runs the fetcher. */
  public readonly fetchSchedule: events.Rule;
  /** The rule that sends this pipeline's "Backfill Requested" events to the backfill function. */
  public readonly backfillRule: events.Rule;
  public readonly monitoring: PipelineMonitoring;
  /** The bus of its backfill events. */
  public readonly eventBus: events.IEventBus;

  constructor(scope: Construct, id: string, props: EventPipelineProps) {
    super(scope, id);
    const settings = resolveProps(id, props, this.node.path);
    this.pipelineName = settings.pipelineName;
    const eventBus = props.eventBus ?? sluiceEventBus(this);
    this.eventBus = eventBus;

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      fifo: settings.fifo || undefined,
      visibilityTimeout: Duration.seconds(visibilityTimeoutSecondsFor(FAILED_HANDLER_TIMEOUT.toSeconds())),
      retentionPeriod: Duration.days(14),
      ...queueEncryption(props.encryptionKey),
      enforceSSL: true,
    });
    this.queue = new sqs.Queue(this, 'Queue', {
      fifo: settings.fifo || undefined,
      visibilityTimeout: Duration.seconds(visibilityTimeoutSecondsFor(settings.workerTimeout.toSeconds())),
      retentionPeriod: props.retentionPeriod ?? Duration.days(4),
      ...queueEncryption(props.encryptionKey),
      enforceSSL: true,
      deadLetterQueue: {
        queue: this.deadLetterQueue,
        maxReceiveCount: maxReceiveCountFor(
          settings.maxRedeliveryCount,
          settings.fifo ? settings.batchSize : 1,
        ),
      },
    });
    this.stateTable =
      props.stateTable ??
      new PipelineStateTable(
        this,
        'State',
        props.encryptionKey ? { encryptionKey: props.encryptionKey } : {},
      );
    const stateTableName = this.stateTable.table.tableName;
    const eventLogTableName = props.eventLog.table.tableName;

    // The fetcher and the backfill function share their settings: the definition they register, and
    // this pipeline's name, so that they work it and its backfills and nothing else.
    const definition: PipelineDefinition = { ...settings.definition, queueUrl: this.queue.queueUrl };
    const fetcherEnvironment = {
      [FETCHER_ENVIRONMENT.eventLogTable]: eventLogTableName,
      [FETCHER_ENVIRONMENT.stateTable]: stateTableName,
      [FETCHER_ENVIRONMENT.pipelines]: settings.pipelineName,
      [FETCHER_ENVIRONMENT.pipelineDefinitions]: Stack.of(this).toJsonString([definition]),
      [FETCHER_ENVIRONMENT.eventBusName]: eventBus.eventBusName,
    };
    const fetcher = new SluiceFunction(this, 'Fetcher', {
      entry: FUNCTIONS.fetcher,
      description: `Sluice fetcher of pipeline ${settings.pipelineName}: pages the event log into its queue`,
      timeout: props.fetcherTimeout ?? Duration.minutes(1),
      environment: fetcherEnvironment,
    });
    const backfill = new SluiceFunction(this, 'Backfill', {
      entry: FUNCTIONS.backfill,
      description: `Sluice backfills of pipeline ${settings.pipelineName}`,
      timeout: props.backfillTimeout ?? Duration.minutes(5),
      environment: fetcherEnvironment,
    });
    for (const { role } of [fetcher, backfill]) {
      props.eventLog.grantRead(role, { streams: [props.stream] });
      this.stateTable.grantFor(role, 'fetcher', settings.pipelineName);
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: ['sqs:SendMessage', 'sqs:GetQueueAttributes'],
          resources: [this.queue.queueArn],
        }),
      );
      // A sender to a queue under a customer managed key makes and reads its data keys.
      props.encryptionKey?.grant(role, 'kms:GenerateDataKey', 'kms:Decrypt');
      eventBus.grantPutEventsTo(role);
    }

    const worker = new SluiceFunction(this, 'Worker', {
      entry: props.entry,
      ...(props.handler ? { handler: props.handler } : {}),
      description: `Sluice worker of pipeline ${settings.pipelineName}`,
      timeout: settings.workerTimeout,
      memorySize: props.workerMemorySize ?? 512,
      environment: {
        ...props.workerEnvironment,
        [WORKER_ENVIRONMENT.pipeline]: settings.pipelineName,
        [WORKER_ENVIRONMENT.stateTable]: stateTableName,
        [WORKER_ENVIRONMENT.queueUrl]: this.queue.queueUrl,
        [WORKER_ENVIRONMENT.deadLetterQueueUrl]: this.deadLetterQueue.queueUrl,
        [WORKER_ENVIRONMENT.maxRedeliveryCount]: String(settings.maxRedeliveryCount),
        [WORKER_ENVIRONMENT.metricsNamespace]: METRICS_NAMESPACE,
        ...(settings.commitsOutputs ? { [WORKER_ENVIRONMENT.eventLogTable]: eventLogTableName } : {}),
      },
    });
    this.stateTable.grantFor(worker.role, 'worker', settings.pipelineName);
    const outputs = props.outputStreams ? { streams: props.outputStreams } : {};
    if (settings.commitsOutputs) props.eventLog.grantCommit(worker.role, outputs);
    worker.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: [this.deadLetterQueue.queueArn] }),
    );
    props.encryptionKey?.grant(worker.role, 'kms:GenerateDataKey', 'kms:Decrypt');
    worker.function.addEventSource(
      new SqsEventSource(this.queue, {
        batchSize: settings.batchSize,
        reportBatchItemFailures: true,
        ...(props.maxBatchingWindow ? { maxBatchingWindow: props.maxBatchingWindow } : {}),
        ...(props.maxConcurrency ? { maxConcurrency: props.maxConcurrency } : {}),
      }),
    );

    const failed = new SluiceFunction(this, 'Failed', {
      entry: props.failedHandlerEntry ?? FUNCTIONS.failed,
      ...(props.failedHandler ? { handler: props.failedHandler } : {}),
      description: `Sluice failed-event handler of pipeline ${settings.pipelineName}`,
      timeout: FAILED_HANDLER_TIMEOUT,
      environment: {
        [FAILED_EVENT_ENVIRONMENT.pipeline]: settings.pipelineName,
        [FAILED_EVENT_ENVIRONMENT.stateTable]: stateTableName,
        ...(settings.commitsOutputs ? { [FAILED_EVENT_ENVIRONMENT.eventLogTable]: eventLogTableName } : {}),
      },
    });
    this.stateTable.grantFor(failed.role, 'failedHandler', settings.pipelineName);
    if (settings.commitsOutputs) props.eventLog.grantCommit(failed.role, outputs);
    failed.function.addEventSource(
      new SqsEventSource(this.deadLetterQueue, { batchSize: 10, reportBatchItemFailures: true }),
    );

    const wakesOnCommit = settings.latency === PIPELINE_LATENCY.balanced;
    if (wakesOnCommit)
      props.eventLog.wakeOnCommit({
        stream: props.stream,
        pipeline: settings.pipelineName,
        fetcher: fetcher.function,
        untilIdleMs: WOKEN_RUN_UNTIL_IDLE_MS,
      });
    this.fetchSchedule = new events.Rule(this, 'FetchSchedule', {
      description: `Runs the Sluice fetcher of pipeline ${settings.pipelineName}${wakesOnCommit ? ' (the safety net under wake-ups)' : ''}`,
      schedule: events.Schedule.rate(settings.fetchEvery),
      targets: [
        new targets.LambdaFunction(fetcher.function, {
          retryAttempts: 0,
          // A safety-net run leaves once idle, as a woken one does.
          ...(wakesOnCommit
            ? {
                event: events.RuleTargetInput.fromObject({
                  source: 'sluice.schedule',
                  untilIdleMs: WOKEN_RUN_UNTIL_IDLE_MS,
                }),
              }
            : {}),
        }),
      ],
    });
    this.backfillRule = new events.Rule(this, 'BackfillRequested', {
      description: `Starts backfills of Sluice pipeline ${settings.pipelineName}`,
      eventBus,
      eventPattern: {
        source: [BACKFILL_EVENTS.source],
        detailType: [BACKFILL_EVENTS.requested],
        detail: { pipeline: [settings.pipelineName] },
      },
      targets: [new targets.LambdaFunction(backfill.function, { retryAttempts: 2 })],
    });

    this.fetcherFunction = fetcher.function;
    this.workerFunction = worker.function;
    this.failedEventFunction = failed.function;
    this.backfillFunction = backfill.function;
    this.monitoring = new PipelineMonitoring(this, 'Monitoring', {
      pipelineName: settings.pipelineName,
      queue: this.queue,
      deadLetterQueue: this.deadLetterQueue,
      functions: {
        fetcher: fetcher.function,
        worker: worker.function,
        failed: failed.function,
        backfill: backfill.function,
      },
      tables: { eventLog: props.eventLog.table, state: this.stateTable.table },
      ...(props.alarmThresholds ? { thresholds: props.alarmThresholds } : {}),
      wakesOnCommit: settings.latency === PIPELINE_LATENCY.balanced,
      ...(props.alarmTopic ? { alarmTopic: props.alarmTopic } : {}),
    });
  }

  /** The pipeline's alarms. */
  public get alarms(): PipelineMonitoring['alarms'] {
    return this.monitoring.alarms;
  }

  /** The pipeline's dashboard. */
  public get dashboard(): cloudwatch.Dashboard {
    return this.monitoring.dashboard;
  }

  /**
   * Events the worker handled successfully, summed per minute.
   *
   * @example
   * ```ts
   * new cloudwatch.Alarm(this, 'Stalled', { metric: pipeline.metricEventsHandled(), threshold: 1, comparisonOperator: LESS_THAN_THRESHOLD, evaluationPeriods: 15 });
   * ```
   */
  public metricEventsHandled(): cloudwatch.Metric {
    return this.monitoring.workerMetric(WORKER_METRICS.eventsHandled, 'Handled');
  }

  /**
   * Failed attempts (each will be retried or dead-lettered), summed per minute.
   *
   * @example
   * ```ts
   * dashboard.addWidgets(new cloudwatch.GraphWidget({ left: [pipeline.metricEventsFailed()] }));
   * ```
   */
  public metricEventsFailed(): cloudwatch.Metric {
    return this.monitoring.workerMetric(WORKER_METRICS.eventsFailed, 'Failed');
  }

  /**
   * Events moved to the dead-letter queue, summed per minute.
   *
   * @example
   * ```ts
   * dashboard.addWidgets(new cloudwatch.SingleValueWidget({ metrics: [pipeline.metricEventsDeadLettered()] }));
   * ```
   */
  public metricEventsDeadLettered(): cloudwatch.Metric {
    return this.monitoring.workerMetric(WORKER_METRICS.eventsDeadLettered, 'Dead-lettered');
  }

  /**
   * How far the fetcher is behind the event log, in milliseconds (maximum per minute).
   *
   * @example
   * ```ts
   * pipeline.metricLag().createAlarm(this, 'FarBehind', { threshold: 600_000, evaluationPeriods: 5 });
   * ```
   */
  public metricLag(): cloudwatch.Metric {
    return this.monitoring.fetcherMetric(FETCHER_METRICS.lagMs, 'Maximum', 'Lag (ms)');
  }

  /**
   * Time from commit to success, averaged over the events handled, in milliseconds.
   *
   * @example
   * ```ts
   * dashboard.addWidgets(new cloudwatch.GraphWidget({ left: [pipeline.metricAverageLatency()] }));
   * ```
   */
  public metricAverageLatency(): cloudwatch.Metric {
    return this.monitoring.sluiceWorkerMetric(
      WORKER_METRICS.averageLatencyMs,
      'Average',
      'Average latency (ms)',
    );
  }

  /**
   * Lets the grantee start backfills: `events:PutEvents` on the pipeline's bus, for "Backfill Requested"
   * events of Sluice's source only (conditions on `events:source` and `events:detail-type`), so it
   * cannot forge a "Backfill Completed". The right covers every pipeline on that bus: give a pipeline
   * a bus of its own (`eventBus`) to grant it for that pipeline alone.
   *
   * @example
   * ```ts
   * pipeline.grantStartBackfill(operatorRole);
   * ```
   */
  public grantStartBackfill(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['events:PutEvents'],
      resourceArns: [this.eventBus.eventBusArn],
      conditions: {
        StringEquals: {
          'events:source': BACKFILL_EVENTS.source,
          'events:detail-type': BACKFILL_EVENTS.requested,
        },
      },
    });
  }
}

/** The id, in its stack, of the bus that {@link sluiceEventBus} makes. */
const EVENT_BUS_CONSTRUCT_ID = 'SluiceEvents';

/**
 * The stack's own EventBridge bus for Sluice's backfill events, made on first use and shared by the
 * stack's pipelines. A bus of the app's own, rather than the account's default bus, because any
 * principal with `events:PutEvents` on the default bus can put any event there, whatever its source.
 *
 * @example
 * ```ts
 * const bus = sluiceEventBus(this);
 * new CfnOutput(this, 'BackfillBus', { value: bus.eventBusName });
 * ```
 */
export function sluiceEventBus(scope: Construct): events.EventBus {
  const stack = Stack.of(scope);
  const found = stack.node.tryFindChild(EVENT_BUS_CONSTRUCT_ID);
  if (found instanceof events.EventBus) return found;
  return new events.EventBus(stack, EVENT_BUS_CONSTRUCT_ID, {
    description: 'Sluice backfill requests and completions',
  });
}

/** The queues' encryption: the customer managed key, if one was given, else SQS's own. */
function queueEncryption(
  key: kms.IKey | undefined,
): Pick<sqs.QueueProps, 'encryption' | 'encryptionMasterKey'> {
  return key
    ? { encryption: sqs.QueueEncryption.KMS, encryptionMasterKey: key }
    : { encryption: sqs.QueueEncryption.SQS_MANAGED };
}

interface ResolvedProps {
  readonly pipelineName: string;
  readonly fifo: boolean;
  readonly workerTimeout: Duration;
  readonly maxRedeliveryCount: number;
  readonly batchSize: number;
  readonly commitsOutputs: boolean;
  readonly fetchEvery: Duration;
  readonly latency: PipelineLatency;
  /** The definition the fetcher registers, but for its queue URL. */
  readonly definition: Omit<PipelineDefinition, 'queueUrl'>;
}

/** The queue URL that stands in for the queue's token while the definition is checked. */
const PLACEHOLDER_QUEUE = 'https://sqs.us-east-1.amazonaws.com/123456789012/placeholder';

/** Checks every prop and fills in the defaults; throws one error listing every problem with its value. */
function resolveProps(id: string, props: EventPipelineProps, path: string): ResolvedProps {
  const problems: string[] = [];
  const given = (value: unknown) => `(given ${JSON.stringify(value)})`;
  const pipelineName = props.pipelineName ?? id;
  if (!NAME_PATTERN.test(pipelineName))
    problems.push(
      `pipelineName must be ${NAME_RULE} ${given(pipelineName)}${props.pipelineName === undefined ? ': the construct id is used when pipelineName is left out' : ''}`,
    );
  else if (pipelineName.includes(BACKFILL_NAME_INFIX))
    problems.push(
      `pipelineName cannot contain '${BACKFILL_NAME_INFIX}': the name of a backfill of another pipeline ${given(pipelineName)}`,
    );
  for (const stream of props.outputStreams ?? [])
    if (typeof stream !== 'string' || !NAME_PATTERN.test(stream))
      problems.push(`outputStreams must be stream names that ${NAME_RULE} ${given(stream)}`);
  if (props.outputStreams !== undefined && props.outputStreams.length === 0)
    problems.push(`outputStreams cannot be empty: set commitsOutputs to false instead ${given([])}`);
  if (props.outputStreams !== undefined && props.commitsOutputs === false)
    problems.push(`outputStreams has no use when commitsOutputs is false ${given(props.outputStreams)}`);
  if (typeof props.entry !== 'string' || props.entry === '')
    problems.push(`entry must name the worker's file ${given(props.entry)}`);
  const fifo = props.fifo ?? false;
  const workerTimeout = props.workerTimeout ?? Duration.seconds(30);
  const workerTimeoutSeconds = workerTimeout.toSeconds();
  if (workerTimeoutSeconds < 10 || workerTimeoutSeconds > 900)
    problems.push(
      `workerTimeout must be from 10 seconds to 15 minutes: the worker keeps 5 seconds back to return its batch ${given(workerTimeout.toHumanString())}`,
    );
  const maxRedeliveryCount = props.maxRedeliveryCount ?? DEFAULT_MAX_REDELIVERY_COUNT;
  const redeliveryProblem = maxRedeliveryCountProblem('maxRedeliveryCount', maxRedeliveryCount);
  if (redeliveryProblem) problems.push(redeliveryProblem);
  const batchSize = props.batchSize ?? 10;
  const maxBatchSize = fifo ? 10 : 10_000;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > maxBatchSize)
    problems.push(
      `batchSize must be a whole number from 1 to ${maxBatchSize}${fifo ? ' on a FIFO queue' : ''} ${given(batchSize)}`,
    );
  const windowSeconds = props.maxBatchingWindow?.toSeconds();
  if (windowSeconds !== undefined) {
    if (fifo)
      problems.push(
        `maxBatchingWindow cannot be set on a FIFO queue ${given(props.maxBatchingWindow?.toHumanString())}`,
      );
    else if (windowSeconds > 300)
      problems.push(
        `maxBatchingWindow must be at most 5 minutes ${given(props.maxBatchingWindow?.toHumanString())}`,
      );
  }
  if (!fifo && batchSize > 10 && !(windowSeconds !== undefined && windowSeconds >= 1))
    problems.push(
      `batchSize over 10 needs a maxBatchingWindow of at least 1 second, as Lambda requires ${given(batchSize)}`,
    );
  const { maxConcurrency } = props;
  if (
    maxConcurrency !== undefined &&
    (!Number.isInteger(maxConcurrency) || maxConcurrency < 2 || maxConcurrency > 1_000)
  )
    problems.push(`maxConcurrency must be a whole number from 2 to 1000 ${given(maxConcurrency)}`);
  const latency = props.latency ?? PIPELINE_LATENCY.balanced;
  if (!Object.values<string>(PIPELINE_LATENCY).includes(latency))
    problems.push(`latency must be 'balanced' or 'economy' ${given(latency)}`);
  const fetchEvery = props.fetchEvery ?? Duration.minutes(latency === PIPELINE_LATENCY.economy ? 1 : 15);
  if (fetchEvery.toSeconds() < 60 || fetchEvery.toSeconds() % 60 !== 0)
    problems.push(
      `fetchEvery must be a whole number of minutes, as EventBridge schedules are ${given(fetchEvery.toHumanString())}`,
    );
  const fetcherTimeout = props.fetcherTimeout ?? Duration.minutes(1);
  if (fetcherTimeout.toSeconds() < 15 || fetcherTimeout.toSeconds() > 900)
    problems.push(
      `fetcherTimeout must be from 15 seconds to 15 minutes ${given(fetcherTimeout.toHumanString())}`,
    );
  const retention = props.retentionPeriod?.toSeconds();
  if (retention !== undefined && (retention < 60 || retention > 14 * 86_400))
    problems.push(
      `retentionPeriod must be from 1 minute to 14 days ${given(props.retentionPeriod?.toHumanString())}`,
    );

  const definition = {
    name: pipelineName,
    stream: props.stream,
    ...(props.eventTypes ? { eventTypes: [...props.eventTypes] } : {}),
    start: props.start ?? 'latest',
    ...(props.bufferSize === undefined ? {} : { bufferSize: props.bufferSize }),
    ...(props.maxEventsPerMessage === undefined ? {} : { maxEventsPerMessage: props.maxEventsPerMessage }),
  } satisfies Omit<PipelineDefinition, 'queueUrl'>;
  try {
    resolvePipeline({ ...definition, queueUrl: fifo ? `${PLACEHOLDER_QUEUE}.fifo` : PLACEHOLDER_QUEUE });
  } catch (error) {
    const { problems: definitionProblems } = error as { problems?: readonly string[] };
    // The name was checked above, with a hint about the construct id.
    problems.push(
      ...(definitionProblems ?? [(error as Error).message]).filter((problem) => !problem.startsWith('name:')),
    );
  }
  if (props.alarmThresholds) problems.push(...alarmThresholdProblems(props.alarmThresholds));
  if (props.workerEnvironment)
    for (const name of Object.keys(props.workerEnvironment))
      if (name.startsWith('SLUICE_'))
        problems.push(
          `workerEnvironment cannot set ${name}: the construct sets the SLUICE_ variables ${given(name)}`,
        );
  for (const [name, value] of Object.entries(props.workerEnvironment ?? {}))
    if (typeof value !== 'string' && !Token.isUnresolved(value))
      problems.push(`workerEnvironment.${name} must be a string ${given(value)}`);

  if (problems.length > 0) throw new Error(`invalid EventPipeline props at ${path}: ${problems.join('; ')}`);
  return {
    pipelineName,
    fifo,
    workerTimeout,
    maxRedeliveryCount,
    batchSize,
    commitsOutputs: props.commitsOutputs ?? true,
    fetchEvery,
    latency,
    definition,
  };
}
