import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as events from 'aws-cdk-lib/aws-events';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { NAME_PATTERN, NAME_RULE } from '../lib/event-log/names';
import { WORKER_METRICS } from '../lib/metrics/names';
import type { PipelineStart } from '../lib/pipeline/definition';
import { ON_STAGE_ERROR, type OnStageError } from '../lib/stages/constants';
import { stagePipelineName, stageStreamName } from '../lib/stages/names';
import type { EventLog } from './event-log';
import { EventPipeline, type EventPipelineProps } from './event-pipeline';
import { PipelineStateTable } from './state-table';

/** One stage of an {@link EventStages}: the settings of its `EventPipeline`, and its place in the chain. */
export interface EventStageProps
  extends Omit<
    EventPipelineProps,
    'eventLog' | 'stream' | 'eventTypes' | 'pipelineName' | 'start' | 'stateTable' | 'eventBus' | 'alarmTopic'
  > {
  /** As in `defineStages`: the stage's pipeline is `<stages name>.<stage name>`. */
  readonly name: string;
  /** The stream it writes, as in `defineStages`. @default '<stages name>.<stage name>' */
  readonly outputStream?: string;
  /**
   * As in `defineStages`. `abort` adds the `aborted` alarm (halting the pipeline is an UpdateItem on
   * the state table, which every worker may call). @default 'retry'
   */
  readonly onStageError?: OnStageError;
}

/** Properties of an {@link EventStages}. */
export interface EventStagesProps {
  readonly eventLog: EventLog;
  /** The name given to `defineStages`. */
  readonly name: string;
  /** What the first stage reads. */
  readonly source: {
    readonly stream: string;
    readonly eventTypes?: readonly string[];
    /** @default 'latest'; later stages start at 'earliest' of their streams */
    readonly start?: PipelineStart;
  };
  /** The stages in order; each `entry` exports `createStageWorker(stages, '<its name>')`. */
  readonly stages: readonly EventStageProps[];
  /** @default a new one, shared by every stage */
  readonly stateTable?: PipelineStateTable;
  /** @default the account's default bus */
  readonly eventBus?: events.IEventBus;
  /** Where every stage's alarms notify. @default no notification */
  readonly alarmTopic?: sns.ITopic;
}

/**
 * A multi-stage pipeline on AWS: one `EventPipeline` per stage (its own queue, DLQ, fetcher, worker,
 * failed handler, dashboard and alarms), chained by streams as `defineStages` chains them, on one
 * shared state table; and an overview dashboard with a row per stage: handled, failed, backlog
 * and pressure (backlog as a percentage of its `bufferSize`, where its fetcher pauses).
 *
 * @example
 * ```ts
 * const orders = new EventStages(this, 'Orders', {
 *   eventLog,
 *   name: 'orders',
 *   source: { stream: 'orders.raw' },
 *   stages: [
 *     { name: 'extract', entry: 'functions/extract.ts' },
 *     { name: 'transform', entry: 'functions/transform.ts', maxConcurrency: 5 },
 *     { name: 'load', entry: 'functions/load.ts', onStageError: 'abort', bufferSize: 100 },
 *   ],
 * });
 * ```
 */
export class EventStages extends Construct {
  /** Each stage's pipeline, by stage name. */
  public readonly stages: Readonly<Record<string, EventPipeline>>;
  public readonly stateTable: PipelineStateTable;
  /** Per abort stage: fires when the stage fails an event, which halts it. */
  public readonly abortAlarms: Readonly<Record<string, cloudwatch.Alarm>>;
  public readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: EventStagesProps) {
    super(scope, id);
    checkProps(props, this.node.path);
    this.stateTable = props.stateTable ?? new PipelineStateTable(this, 'State');
    const stages: Record<string, EventPipeline> = {};
    const abortAlarms: Record<string, cloudwatch.Alarm> = {};
    const rows: cloudwatch.IWidget[][] = [];
    let stream = props.source.stream;
    props.stages.forEach((stage, index) => {
      const { name, outputStream, onStageError, ...settings } = stage;
      const last = index === props.stages.length - 1;
      // The stream this stage's worker commits to: the next stage's, or the last stage's output.
      const next = last ? outputStream : (outputStream ?? stageStreamName(props.name, name));
      const pipeline = new EventPipeline(this, `Stage${index}`, {
        ...settings,
        eventLog: props.eventLog,
        stream,
        pipelineName: stagePipelineName(props.name, name),
        start: index === 0 ? (props.source.start ?? 'latest') : 'earliest',
        ...(index === 0 && props.source.eventTypes ? { eventTypes: props.source.eventTypes } : {}),
        commitsOutputs: last ? (settings.commitsOutputs ?? outputStream !== undefined) : true,
        ...(next === undefined ? {} : { outputStreams: [next] }),
        stateTable: this.stateTable,
        ...(props.eventBus ? { eventBus: props.eventBus } : {}),
        ...(props.alarmTopic ? { alarmTopic: props.alarmTopic } : {}),
      });
      stages[name] = pipeline;
      const failed = pipeline.monitoring.workerMetric(WORKER_METRICS.eventsFailed, `${name} failed`);
      if (onStageError === ON_STAGE_ERROR.abort) {
        // Halting is an UpdateItem of the halt's attributes on the pipeline's registry item.
        this.stateTable.grantHalt(pipeline.workerFunction);
        const alarm = failed.createAlarm(this, `Stage${index}Aborted`, {
          alarmDescription: `Stage ${name} of Sluice stages ${props.name} failed an event and halted its pipeline ${pipeline.pipelineName}: its fetcher feeds it nothing until PipelineStore.resumePipeline.`,
          threshold: 1,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          evaluationPeriods: 1,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        });
        if (props.alarmTopic) alarm.addAlarmAction(new actions.SnsAction(props.alarmTopic));
        abortAlarms[name] = alarm;
      }
      const minute = Duration.minutes(1);
      const backlog = new cloudwatch.MathExpression({
        label: `${name} backlog`,
        expression: 'FILL(waiting, 0) + FILL(inFlight, 0)',
        usingMetrics: {
          waiting: pipeline.queue.metricApproximateNumberOfMessagesVisible({
            period: minute,
            statistic: 'Maximum',
          }),
          inFlight: pipeline.queue.metricApproximateNumberOfMessagesNotVisible({
            period: minute,
            statistic: 'Maximum',
          }),
        },
        period: minute,
      });
      const pressure = new cloudwatch.MathExpression({
        label: `${name} pressure (% of bufferSize)`,
        expression: `100 * (FILL(waiting, 0) + FILL(inFlight, 0)) / ${settings.bufferSize ?? 1_000}`,
        usingMetrics: backlog.usingMetrics,
        period: minute,
      });
      rows.push([
        new cloudwatch.GraphWidget({
          title: `Stage ${name}: events`,
          left: [pipeline.monitoring.workerMetric(WORKER_METRICS.eventsHandled, `${name} handled`), failed],
          right: [
            pipeline.monitoring.sluiceWorkerMetric(
              WORKER_METRICS.averageLatencyMs,
              'Average',
              `${name} average latency (ms)`,
            ),
          ],
          width: 12,
          height: 6,
        }),
        new cloudwatch.GraphWidget({
          title: `Stage ${name}: backlog and pressure`,
          left: [backlog],
          right: [pressure],
          width: 12,
          height: 6,
        }),
      ]);
      stream = outputStream ?? stageStreamName(props.name, name);
    });
    this.stages = stages;
    this.abortAlarms = abortAlarms;
    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      defaultInterval: Duration.hours(3),
      widgets: rows,
    });
  }
}

/** Checks what the stages add to their pipelines' props; each pipeline checks its own. */
function checkProps(props: EventStagesProps, path: string): void {
  const problems: string[] = [];
  const given = (value: unknown) => `(given ${JSON.stringify(value)})`;
  if (typeof props.name !== 'string' || !NAME_PATTERN.test(props.name))
    problems.push(`name must be ${NAME_RULE} ${given(props.name)}`);
  if (typeof props.source?.stream !== 'string' || !NAME_PATTERN.test(props.source.stream))
    problems.push(`source.stream must be ${NAME_RULE} ${given(props.source?.stream)}`);
  if (!Array.isArray(props.stages) || props.stages.length === 0)
    problems.push(`stages must hold at least one stage ${given(props.stages)}`);
  const names = new Set<string>();
  props.stages?.forEach((stage, index) => {
    if (names.has(stage.name)) problems.push(`stages.${index}.name must be unique ${given(stage.name)}`);
    names.add(stage.name);
    if (!NAME_PATTERN.test(stagePipelineName(props.name, stage.name)))
      problems.push(`stages.${index}.name: '<name>.<stage>' must be ${NAME_RULE} ${given(stage.name)}`);
    if (stage.outputStream !== undefined && !NAME_PATTERN.test(stage.outputStream))
      problems.push(`stages.${index}.outputStream must be ${NAME_RULE} ${given(stage.outputStream)}`);
    if (stage.onStageError !== undefined && !Object.values(ON_STAGE_ERROR).includes(stage.onStageError))
      problems.push(
        `stages.${index}.onStageError must be one of ${Object.values(ON_STAGE_ERROR).join(', ')} ${given(stage.onStageError)}`,
      );
    if (index < props.stages.length - 1 && stage.commitsOutputs === false)
      problems.push(
        `stages.${index}.commitsOutputs cannot be false: the next stage reads its output ${given(false)}`,
      );
  });
  if (problems.length > 0) throw new Error(`invalid EventStages props at ${path}: ${problems.join('; ')}`);
}
