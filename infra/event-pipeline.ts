import { fileURLToPath } from 'node:url';
import { Duration, Stack } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { BACKFILL_EVENTS } from '../lib/backfill/constants';
import { FETCHER_METRICS, METRICS_NAMESPACE, WORKER_METRICS } from '../lib/metrics/names';
import type { PipelineDefinition } from '../lib/pipeline/definition';
import { maxReceiveCountFor } from '../lib/settings/redelivery';
import { FAILED_EVENT_ENVIRONMENT, FETCHER_ENVIRONMENT, WORKER_ENVIRONMENT } from '../lib/settings/variables';
import { VISIBILITY_TIMEOUT_FACTOR, visibilityTimeoutSecondsFor } from '../lib/settings/visibility';
import { WOKEN_RUN_UNTIL_IDLE_MS } from '../lib/wake/wake-routes';
import { type EventPipelineProps, PIPELINE_LATENCY, type PipelineLatency } from './event-pipeline-props';
import { resolveProps } from './event-pipeline-settings';
import { PipelineMonitoring } from './pipeline-monitoring';
import { SluiceFunction } from './sluice-function';
import { PipelineStateTable } from './state-table';

const FUNCTIONS = {
  fetcher: fileURLToPath(new URL('../functions/fetcher.ts', import.meta.url)),
  backfill: fileURLToPath(new URL('../functions/backfill.ts', import.meta.url)),
  failed: fileURLToPath(new URL('../functions/failed.ts', import.meta.url)),
};

/** The failed-event function's timeout; the DLQ's visibility timeout is 6 times as long. */
const FAILED_HANDLER_TIMEOUT = Duration.seconds(30);

// The formulas the local runtime uses too; re-exported here, where they were first public.
export {
  type EventPipelineProps,
  maxReceiveCountFor,
  PIPELINE_LATENCY,
  type PipelineLatency,
  VISIBILITY_TIMEOUT_FACTOR,
};

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
    const { latencyProfile } = settings;
    const fetcherEnvironment = {
      [FETCHER_ENVIRONMENT.eventLogTable]: eventLogTableName,
      [FETCHER_ENVIRONMENT.stateTable]: stateTableName,
      [FETCHER_ENVIRONMENT.pipelines]: settings.pipelineName,
      [FETCHER_ENVIRONMENT.pipelineDefinitions]: Stack.of(this).toJsonString([definition]),
      [FETCHER_ENVIRONMENT.eventBusName]: eventBus.eventBusName,
      ...(latencyProfile.pollIntervalMs === undefined
        ? {}
        : { [FETCHER_ENVIRONMENT.pollIntervalMs]: String(latencyProfile.pollIntervalMs) }),
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
    if (latencyProfile.streamTiming) {
      // Stored before either function runs, so neither stores the defaults first.
      const timing = props.eventLog.declareStreamTiming(props.stream, {
        settleWindow: Duration.millis(latencyProfile.streamTiming.settleWindowMs),
        commitDeadline: Duration.millis(latencyProfile.streamTiming.commitDeadlineMs),
        declaredBy: `pipeline ${settings.pipelineName} (latency: '${settings.latency}')`,
      });
      fetcher.function.node.addDependency(timing);
      backfill.function.node.addDependency(timing);
    }
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

    const { wakesOnCommit } = latencyProfile;
    if (wakesOnCommit) {
      props.eventLog.wakeOnCommit({
        stream: props.stream,
        pipeline: settings.pipelineName,
        fetcher: fetcher.function,
        untilIdleMs: WOKEN_RUN_UNTIL_IDLE_MS,
        stateTable: this.stateTable,
      });
      // A woken run that must end with events still settling invokes its own function for them
      // (`handOff`). In a policy of its own: in the role's default policy, the function's ARN would
      // make the function depend on itself.
      new iam.Policy(this, 'FetcherHandOff', {
        roles: [fetcher.role],
        statements: [
          new iam.PolicyStatement({
            actions: ['lambda:InvokeFunction'],
            resources: [fetcher.function.functionArn],
          }),
        ],
      });
    }
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
      wakesOnCommit,
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
