import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import {
  FETCHER_METRICS,
  METRICS_NAMESPACE,
  PIPELINE_DIMENSION,
  SERVICE_DIMENSION,
  SERVICE_NAMES,
  WAKER_METRICS,
  WORKER_METRICS,
} from '../lib/metrics/names';

/** When a pipeline's alarms fire. */
export interface PipelineMonitoringThresholds {
  /** The fetcher's lag behind the log, for 3 minutes running. @default Duration.minutes(5) */
  readonly lag?: Duration;
  /** The age of the oldest message in the queue. @default Duration.minutes(15) */
  readonly oldestMessageAge?: Duration;
  /** Failed worker invocations (timeouts, crashes, thrown batches) in 5 minutes. @default 1 */
  readonly workerErrors?: number;
}

/** Properties of a {@link PipelineMonitoring}. */
export interface PipelineMonitoringProps {
  readonly pipelineName: string;
  readonly queue: sqs.IQueue;
  readonly deadLetterQueue: sqs.IQueue;
  readonly functions: {
    readonly fetcher: lambda.IFunction;
    readonly worker: lambda.IFunction;
    readonly failed: lambda.IFunction;
    readonly backfill: lambda.IFunction;
  };
  readonly tables: { readonly eventLog: dynamodb.ITable; readonly state: dynamodb.ITable };
  readonly thresholds?: PipelineMonitoringThresholds;
  /**
   * Whether commits wake the pipeline's fetcher (`latency: 'balanced'`): the dashboard then graphs the
   * waker's wake-ups of it next to the fetcher's runs.
   * @default false
   */
  readonly wakesOnCommit?: boolean;
  /** Every alarm notifies this topic, going into alarm and back to OK. */
  readonly alarmTopic?: sns.ITopic;
}

/** The operations whose throttling the dashboard shows, per table. */
const THROTTLED_OPERATIONS = [
  'GetItem',
  'PutItem',
  'UpdateItem',
  'Query',
  'BatchGetItem',
  'TransactWriteItems',
] as const;

/**
 * A pipeline's CloudWatch dashboard and alarms.
 *
 * Alarms: dead letters arrived (any message in, or sent to, the DLQ), the fetcher's lag over a
 * threshold, the oldest queued message over an age, worker errors, failed fetcher runs, and events
 * that passed the stream's retention before the fetcher read them (DynamoDB TTL may have deleted them).
 *
 * The dashboard: the alarms' states; events fetched, sent, handled, failed and dead-lettered; lag;
 * the queue's backlog and in-flight messages and the age of its oldest message; the DLQ's depth;
 * each function's errors, throttles and duration; DynamoDB throttling on both tables.
 *
 * @example
 * ```ts
 * const monitoring = new PipelineMonitoring(this, 'Monitoring', { pipelineName, queue, deadLetterQueue, functions, tables });
 * monitoring.alarms.lag.addAlarmAction(new SnsAction(topic));
 * ```
 */
export class PipelineMonitoring extends Construct {
  public readonly dashboard: cloudwatch.Dashboard;
  public readonly alarms: {
    readonly deadLetters: cloudwatch.Alarm;
    readonly lag: cloudwatch.Alarm;
    readonly oldestMessageAge: cloudwatch.Alarm;
    readonly workerErrors: cloudwatch.Alarm;
    readonly fetcherFailures: cloudwatch.Alarm;
    readonly expiredEvents: cloudwatch.Alarm;
    /**
     * Commits the table's stream showed stored after their settle window (pipelines woken on commit
     * only: the waker counts them).
     */
    readonly lateCommits?: cloudwatch.Alarm;
  };
  private readonly pipelineName: string;

  constructor(scope: Construct, id: string, props: PipelineMonitoringProps) {
    super(scope, id);
    this.pipelineName = props.pipelineName;
    const thresholds = checkThresholds(props.thresholds ?? {}, this.node.path);
    const { queue, deadLetterQueue, functions } = props;
    const minute = Duration.minutes(1);

    const deadLettersArrived = new cloudwatch.MathExpression({
      label: 'Dead letters (waiting + arrived)',
      expression: 'FILL(waiting, 0) + FILL(arrived, 0)',
      usingMetrics: {
        waiting: deadLetterQueue.metricApproximateNumberOfMessagesVisible({
          period: minute,
          statistic: 'Maximum',
        }),
        arrived: deadLetterQueue.metricNumberOfMessagesSent({ period: minute, statistic: 'Sum' }),
      },
      period: minute,
    });
    const lag = this.fetcherMetric(FETCHER_METRICS.lagMs, 'Maximum', 'Lag (ms)');
    const oldestMessageAge = queue.metricApproximateAgeOfOldestMessage({
      period: minute,
      statistic: 'Maximum',
    });
    const pipelineRunFailures = new cloudwatch.MathExpression({
      label: 'Failed fetcher runs and invocations',
      expression: 'FILL(runs, 0) + FILL(invocations, 0)',
      usingMetrics: {
        runs: this.fetcherMetric(FETCHER_METRICS.pipelineRunFailed, 'Sum', 'Failed runs'),
        invocations: functions.fetcher.metricErrors({ period: minute, statistic: 'Sum' }),
      },
      period: minute,
    });

    const expiredRanges = this.fetcherMetric(
      FETCHER_METRICS.expiredRanges,
      'Sum',
      'Runs that met expired events',
    );

    const lateCommits = this.wakerMetric(
      WAKER_METRICS.lateCommits,
      'Commits stored after their settle window',
    );

    const notBreaching = cloudwatch.TreatMissingData.NOT_BREACHING;
    const name = props.pipelineName;
    this.alarms = {
      deadLetters: deadLettersArrived.createAlarm(this, 'DeadLetters', {
        alarmDescription: `Events of Sluice pipeline ${name} reached its dead-letter queue: they ran out of attempts, failed their schema or were not retryable. The failed-event handler has them; see its log and the failure records (sluice redrive --dry-run).`,
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: notBreaching,
      }),
      lag: lag.createAlarm(this, 'Lag', {
        alarmDescription: `The fetcher of Sluice pipeline ${name} is more than ${thresholds.lag.toHumanString()} behind the event log.`,
        threshold: thresholds.lag.toMilliseconds(),
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 3,
        treatMissingData: notBreaching,
      }),
      oldestMessageAge: oldestMessageAge.createAlarm(this, 'OldestMessageAge', {
        alarmDescription: `A message has waited in the queue of Sluice pipeline ${name} for more than ${thresholds.oldestMessageAge.toHumanString()}: the worker is slow, failing or throttled.`,
        threshold: thresholds.oldestMessageAge.toSeconds(),
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: notBreaching,
      }),
      workerErrors: functions.worker
        .metricErrors({ period: Duration.minutes(5), statistic: 'Sum' })
        .createAlarm(this, 'WorkerErrors', {
          alarmDescription: `Invocations of the worker of Sluice pipeline ${name} failed as a whole (a timeout, a crash or a thrown batch): their messages come back after the visibility timeout.`,
          threshold: thresholds.workerErrors,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          evaluationPeriods: 1,
          treatMissingData: notBreaching,
        }),
      fetcherFailures: pipelineRunFailures.createAlarm(this, 'FetcherFailures', {
        alarmDescription: `Runs of the fetcher of Sluice pipeline ${name} failed in 3 minutes running: events are not reaching its queue. See the fetcher's log.`,
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 3,
        treatMissingData: notBreaching,
      }),
      expiredEvents: expiredRanges.createAlarm(this, 'ExpiredEvents', {
        alarmDescription: `The fetcher of Sluice pipeline ${name} read events that had passed the stream's retention: DynamoDB TTL may have deleted some before the pipeline read them, and those are lost to it. The fetcher's run records (and its log) name the range; the pipeline lags more than the retention allows.`,
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: notBreaching,
      }),
      ...(props.wakesOnCommit
        ? {
            lateCommits: lateCommits.createAlarm(this, 'LateCommits', {
              alarmDescription: `A commit to the stream of Sluice pipeline ${name} was stored after its settle window had passed it (a write applied after its commit was abandoned at the deadline): if the pipeline's checkpoint had passed it by then, its events were skipped. The waker's log names the stream and event id; check with the pipeline's run records and seek back to redeliver.`,
              threshold: 1,
              comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
              evaluationPeriods: 1,
              treatMissingData: notBreaching,
            }),
          }
        : {}),
    };
    if (props.alarmTopic) {
      const action = new actions.SnsAction(props.alarmTopic);
      for (const alarm of Object.values(this.alarms)) {
        alarm.addAlarmAction(action);
        alarm.addOkAction(action);
      }
    }

    const allFunctions = Object.entries(functions);
    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      defaultInterval: Duration.hours(3),
      widgets: [
        [
          new cloudwatch.AlarmStatusWidget({
            title: `Sluice pipeline ${name}: alarms`,
            alarms: Object.values(this.alarms),
            width: 24,
            height: 3,
          }),
        ],
        [
          graph('Events', [
            this.fetcherMetric(FETCHER_METRICS.eventsFetched, 'Sum', 'Fetched'),
            this.fetcherMetric(FETCHER_METRICS.eventsSent, 'Sum', 'Sent'),
            this.fetcherMetric(FETCHER_METRICS.eventsSentAhead, 'Sum', 'Sent before settling'),
            this.workerMetric(WORKER_METRICS.eventsHandled, 'Handled'),
            this.workerMetric(WORKER_METRICS.eventsFailed, 'Failed (will retry)'),
            this.workerMetric(WORKER_METRICS.eventsDeadLettered, 'Dead-lettered'),
          ]),
          graph('Lag behind the event log, and commit-to-handled latency (ms)', [
            lag,
            this.sluiceWorkerMetric(WORKER_METRICS.averageLatencyMs, 'Average', 'Average latency'),
          ]),
        ],
        props.wakesOnCommit
          ? [
              graph('Fetcher runs that failed, or met events past the retention', [
                pipelineRunFailures,
                expiredRanges,
              ]),
              graph('Wake-ups of the fetcher by commits, and its runs', [
                this.wakerMetric(WAKER_METRICS.wakeups, 'Wake-ups'),
                lateCommits,
                functions.fetcher.metricInvocations({
                  period: minute,
                  statistic: 'Sum',
                  label: 'Fetcher runs',
                }),
              ]),
            ]
          : [
              graph(
                'Fetcher runs that failed, or met events past the retention',
                [pipelineRunFailures, expiredRanges],
                24,
              ),
            ],
        [
          graph(
            'Queue backlog',
            [
              queue.metricApproximateNumberOfMessagesVisible({ period: minute, label: 'Waiting' }),
              queue.metricApproximateNumberOfMessagesNotVisible({ period: minute, label: 'In flight' }),
            ],
            8,
          ),
          graph('Age of the oldest message (s)', [oldestMessageAge], 8),
          graph('Dead-letter queue', [deadLettersArrived], 8),
        ],
        [
          graph(
            'Lambda errors',
            allFunctions.map(([role, fn]) =>
              fn.metricErrors({ period: minute, statistic: 'Sum', label: role }),
            ),
            8,
          ),
          graph(
            'Lambda throttles',
            allFunctions.map(([role, fn]) =>
              fn.metricThrottles({ period: minute, statistic: 'Sum', label: role }),
            ),
            8,
          ),
          graph(
            'Lambda duration, p99 (ms)',
            allFunctions.map(([role, fn]) =>
              fn.metricDuration({ period: minute, statistic: 'p99', label: role }),
            ),
            8,
          ),
        ],
        // One graph per table: the two tables' expressions name their metrics alike.
        Object.entries(props.tables).map(([table, t]) =>
          graph(`DynamoDB throttled requests: ${table} table`, [
            t.metricThrottledRequestsForOperations({
              operations: [...THROTTLED_OPERATIONS] as dynamodb.Operation[],
              period: minute,
              label: 'Throttled requests',
            }),
          ]),
        ),
      ],
    });
  }

  /**
   * A metric the fetcher publishes for this pipeline (see `FETCHER_METRICS`).
   *
   * @example
   * ```ts
   * monitoring.fetcherMetric('EventsSent', 'Sum', 'Sent');
   * ```
   */
  public fetcherMetric(metricName: string, statistic: string, label: string): cloudwatch.Metric {
    return this.sluiceMetric(SERVICE_NAMES.fetcher, metricName, statistic, label);
  }

  /**
   * A count the waker publishes for this pipeline, summed per minute (see `WAKER_METRICS`).
   *
   * @example
   * ```ts
   * monitoring.wakerMetric('Wakeups', 'Wake-ups');
   * ```
   */
  public wakerMetric(metricName: string, label: string): cloudwatch.Metric {
    return this.sluiceMetric(SERVICE_NAMES.waker, metricName, 'Sum', label);
  }

  /**
   * A count the worker publishes for this pipeline, summed per minute (see `WORKER_METRICS`).
   *
   * @example
   * ```ts
   * monitoring.workerMetric('EventsHandled', 'Handled');
   * ```
   */
  public workerMetric(metricName: string, label: string): cloudwatch.Metric {
    return this.sluiceMetric(SERVICE_NAMES.worker, metricName, 'Sum', label);
  }

  /**
   * Any metric the worker publishes for this pipeline, with the statistic given.
   *
   * @example
   * ```ts
   * monitoring.sluiceWorkerMetric('AverageLatencyMs', 'Average', 'Latency (ms)');
   * ```
   */
  public sluiceWorkerMetric(metricName: string, statistic: string, label: string): cloudwatch.Metric {
    return this.sluiceMetric(SERVICE_NAMES.worker, metricName, statistic, label);
  }

  private sluiceMetric(service: string, metricName: string, statistic: string, label: string) {
    return new cloudwatch.Metric({
      namespace: METRICS_NAMESPACE,
      metricName,
      dimensionsMap: { [SERVICE_DIMENSION]: service, [PIPELINE_DIMENSION]: this.pipelineName },
      statistic,
      period: Duration.minutes(1),
      label,
    });
  }
}

function graph(title: string, metrics: cloudwatch.IMetric[], width = 12): cloudwatch.GraphWidget {
  return new cloudwatch.GraphWidget({ title, left: metrics, width, height: 6 });
}

/**
 * Every problem with a set of alarm thresholds, each naming the value given; empty when they are fine.
 *
 * @example
 * ```ts
 * alarmThresholdProblems({ lag: Duration.seconds(1) }); // ['alarmThresholds.lag must be at least 10 seconds (given "1 second")']
 * ```
 */
export function alarmThresholdProblems(thresholds: PipelineMonitoringThresholds): string[] {
  return resolveThresholds(thresholds).problems;
}

function checkThresholds(thresholds: PipelineMonitoringThresholds, path: string) {
  const { problems, resolved } = resolveThresholds(thresholds);
  if (problems.length > 0) throw new Error(`invalid alarm thresholds at ${path}: ${problems.join('; ')}`);
  return resolved;
}

function resolveThresholds(thresholds: PipelineMonitoringThresholds) {
  const problems: string[] = [];
  const lag = thresholds.lag ?? Duration.minutes(5);
  if (lag.toMilliseconds() < 10_000)
    problems.push(
      `alarmThresholds.lag must be at least 10 seconds (given ${JSON.stringify(lag.toHumanString())})`,
    );
  const oldestMessageAge = thresholds.oldestMessageAge ?? Duration.minutes(15);
  if (oldestMessageAge.toSeconds() < 60)
    problems.push(
      `alarmThresholds.oldestMessageAge must be at least 1 minute (given ${JSON.stringify(oldestMessageAge.toHumanString())})`,
    );
  const workerErrors = thresholds.workerErrors ?? 1;
  if (!Number.isInteger(workerErrors) || workerErrors < 1)
    problems.push(
      `alarmThresholds.workerErrors must be a whole number of at least 1 (given ${JSON.stringify(workerErrors)})`,
    );
  return { problems, resolved: { lag, oldestMessageAge, workerErrors } };
}
