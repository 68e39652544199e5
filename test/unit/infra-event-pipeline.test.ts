import { App, Aspects, CfnResource, Duration, Stack, Validations } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import { SqsQueue } from 'aws-cdk-lib/aws-events-targets';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import {
  EventLog,
  EventPipeline,
  type EventPipelineProps,
  maxReceiveCountFor,
  PipelineStateTable,
  SluiceGuardrails,
} from '../../infra';
import { EXAMPLE_WORKER_ENTRY, exampleApp } from '../../infra/example-app';

// CloudFormation's validator costs seconds a synth: off here, on in the one test of the example app
// that checks it. Bundling is skipped (`aws:cdk:bundling-stacks` empty) but in that test too.
process.env.CDK_VALIDATION = 'false';
const NO_BUNDLING = { 'aws:cdk:bundling-stacks': [] };

interface Resource {
  readonly Type: string;
  readonly Properties: Record<string, unknown>;
}
interface Statement {
  readonly Action: string | string[];
  readonly Resource: unknown;
}

/** An alarm that fires on a single count in a minute, and stays quiet while nothing is published. */
const ALARM_ON_ANY_ONE = {
  Threshold: 1,
  ComparisonOperator: 'GreaterThanOrEqualToThreshold',
  EvaluationPeriods: 1,
  TreatMissingData: 'notBreaching',
};

/** The one metric an alarm watches: Sluice's `metricName` for pipeline Billing, from `service`. */
const sluiceAlarmMetric = (metricName: string, service: string, stat: string) => [
  expect.objectContaining({
    MetricStat: expect.objectContaining({
      Metric: {
        Namespace: 'Sluice',
        MetricName: metricName,
        Dimensions: expect.arrayContaining([
          { Name: 'pipeline', Value: 'Billing' },
          { Name: 'service', Value: service },
        ]),
      },
      Stat: stat,
    }),
  }),
];

function pipelineStack(
  props: Partial<EventPipelineProps> = {},
  build?: (stack: Stack, eventLog: EventLog) => Partial<EventPipelineProps>,
) {
  const app = new App({ context: NO_BUNDLING });
  const stack = new Stack(app, 'Test');
  const eventLog = new EventLog(stack, 'EventLog');
  const pipeline = new EventPipeline(stack, 'Billing', {
    eventLog,
    stream: 'orders',
    entry: EXAMPLE_WORKER_ENTRY,
    ...props,
    ...(build ? build(stack, eventLog) : {}),
  });
  return { app, stack, eventLog, pipeline };
}

const template = (stack: Stack) => Template.fromStack(stack);
const logicalId = (stack: Stack, construct: { node: { defaultChild?: unknown } }) =>
  stack.getLogicalId(construct.node.defaultChild as never);

function resourcesOf(t: Template, type: string): [string, Resource][] {
  return Object.entries(t.findResources(type)) as [string, Resource][];
}

/** Each IAM policy's statements, by the logical id of the role it is attached to. */
function statementsByRole(t: Template): Map<string, Statement[]> {
  const byRole = new Map<string, Statement[]>();
  for (const [, policy] of resourcesOf(t, 'AWS::IAM::Policy')) {
    const roles = policy.Properties.Roles as { Ref: string }[];
    const statements = (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement;
    for (const { Ref } of roles) byRole.set(Ref, [...(byRole.get(Ref) ?? []), ...statements]);
  }
  return byRole;
}

const actionsOf = (statement: Statement) =>
  typeof statement.Action === 'string' ? [statement.Action] : statement.Action;

/** The logical ids a statement's resources name. */
function resourceIds(statement: Statement): string[] {
  const text = JSON.stringify(statement.Resource);
  return [...text.matchAll(/"(?:Ref|Fn::GetAtt)":\[?"([A-Za-z0-9]+)"/g)].map((match) => match[1] as string);
}

function environmentOf(t: Template, functionLogicalIdPrefix: string): Record<string, unknown> {
  const found = resourcesOf(t, 'AWS::Lambda::Function').find(([id]) =>
    id.startsWith(functionLogicalIdPrefix),
  );
  expect(found, `a function ${functionLogicalIdPrefix}*`).toBeDefined();
  return ((found?.[1].Properties.Environment as { Variables: Record<string, unknown> }) ?? { Variables: {} })
    .Variables;
}

describe('the example app', () => {
  it('synthesizes, bundled and validated, with cdk-nag and the guardrails finding nothing', () => {
    // Prepare
    const { app, stack } = exampleApp();
    const nag = new AwsSolutionsChecks(app, { verbose: true });

    // Act: synth throws on any validator error or unacknowledged cdk-nag finding.
    const previous = process.env.CDK_VALIDATION;
    process.env.CDK_VALIDATION = 'true';
    try {
      expect(() => app.synth()).not.toThrow();
    } finally {
      process.env.CDK_VALIDATION = previous;
    }

    // Assess
    expect(nag.validateScope(app).violations).toEqual([]);
    expect(Annotations.fromStack(stack).findError('*', Match.anyValue())).toEqual([]);
    const acknowledged = stack.node
      .findAll()
      .flatMap((construct) => construct.node.metadata)
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY);
    expect(acknowledged).toEqual([]);
  }, 120_000); // bundles five functions with esbuild and runs the CloudFormation validator

  it('holds the queue with its DLQ, the event source, the tables, both rules, a dashboard and alarms', () => {
    // Prepare
    const { stack, pipeline } = exampleApp({ context: NO_BUNDLING });

    // Act
    const t = template(stack);

    // Assess
    const deadLetterQueueId = logicalId(stack, pipeline.deadLetterQueue);
    t.hasResourceProperties('AWS::SQS::Queue', {
      RedrivePolicy: {
        deadLetterTargetArn: { 'Fn::GetAtt': [deadLetterQueueId, 'Arn'] },
        maxReceiveCount: maxReceiveCountFor(5),
      },
      VisibilityTimeout: 180,
      SqsManagedSseEnabled: true,
    });
    t.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [logicalId(stack, pipeline.queue), 'Arn'] },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BatchSize: 10,
      ScalingConfig: { MaximumConcurrency: 10 },
    });
    t.resourceCountIs('AWS::DynamoDB::Table', 2);
    // Commits wake the fetcher; the schedule is the safety net.
    t.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(15 minutes)' });
    t.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['sluice'],
        'detail-type': ['Backfill Requested'],
        detail: { pipeline: ['orders'] },
      },
    });
    t.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    expect(resourcesOf(t, 'AWS::CloudWatch::Alarm').length).toBeGreaterThanOrEqual(2);
    const wildcards = [...statementsByRole(t).values()]
      .flat()
      .flatMap(actionsOf)
      .filter((action) => action.includes('*'));
    expect(wildcards).toEqual([]);
  });
});

describe('EventPipeline', () => {
  it('sets the visibility timeout to 6 times the worker timeout, and maxReceiveCount above maxRedeliveryCount', () => {
    // Prepare
    const { stack, pipeline } = pipelineStack({ workerTimeout: Duration.seconds(45), maxRedeliveryCount: 3 });

    // Act
    const t = template(stack);

    // Assess
    t.hasResourceProperties('AWS::SQS::Queue', {
      VisibilityTimeout: 270,
      RedrivePolicy: { maxReceiveCount: 11 },
    });
    t.hasResourceProperties('AWS::Lambda::Function', {
      Timeout: 45,
      Environment: { Variables: Match.objectLike({ SLUICE_MAX_REDELIVERY_COUNT: '3' }) },
    });
    expect(maxReceiveCountFor(3)).toBeGreaterThan(3);
    expect(pipeline.pipelineName).toBe('Billing');
  });

  it('encrypts both queues and refuses plain HTTP to them', () => {
    // Prepare
    const { stack, pipeline } = pipelineStack();

    // Act
    const t = template(stack);

    // Assess
    const queues = resourcesOf(t, 'AWS::SQS::Queue');
    expect(queues).toHaveLength(2);
    for (const [, queue] of queues) expect(queue.Properties.SqsManagedSseEnabled).toBe(true);
    for (const queue of [pipeline.queue, pipeline.deadLetterQueue])
      t.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: logicalId(stack, queue) }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          ]),
        },
      });
    for (const [, table] of resourcesOf(t, 'AWS::DynamoDB::Table'))
      expect(table.Properties.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
  });

  it('makes both queues FIFO for a FIFO pipeline', () => {
    const t = template(pipelineStack({ fifo: true }).stack);
    const queues = resourcesOf(t, 'AWS::SQS::Queue');
    expect(queues.map(([, queue]) => queue.Properties.FifoQueue)).toEqual([true, true]);
  });

  it('lets a FIFO message wait out the attempts of the messages ahead of it in a batch before SQS moves it', () => {
    // Act
    const t = template(pipelineStack({ fifo: true, batchSize: 10 }).stack);

    // Assess: 10 messages of a group in a batch, 5 attempts each, and the usual 5 to spare.
    t.hasResourceProperties('AWS::SQS::Queue', { RedrivePolicy: { maxReceiveCount: 55 } });
    expect([maxReceiveCountFor(5), maxReceiveCountFor(5, 1), maxReceiveCountFor(99, 10)]).toEqual([
      15, 15, 995,
    ]);
  });

  it('configures the event source: batch size, batching window, maximum concurrency, partial failures', () => {
    const t = template(
      pipelineStack({ batchSize: 100, maxBatchingWindow: Duration.seconds(5), maxConcurrency: 4 }).stack,
    );
    t.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 100,
      MaximumBatchingWindowInSeconds: 5,
      ScalingConfig: { MaximumConcurrency: 4 },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });

  it('gives the fetcher its pipeline definition, with the queue URL, and the worker its SLUICE_ settings', () => {
    // Prepare
    const { stack, pipeline, eventLog } = pipelineStack({ eventTypes: ['order.placed'], start: 'earliest' });

    // Act
    const t = template(stack);

    // Assess
    const fetcher = environmentOf(t, 'BillingFetcher');
    const queueId = logicalId(stack, pipeline.queue);
    const definitions = JSON.stringify(fetcher.SLUICE_PIPELINE_DEFINITIONS);
    expect(definitions).toContain('\\"name\\":\\"Billing\\"');
    expect(definitions).toContain('\\"eventTypes\\":[\\"order.placed\\"]');
    expect(definitions).toContain('\\"start\\":\\"earliest\\"');
    expect(definitions).toContain(`{"Ref":"${queueId}"}`);
    expect(fetcher).toMatchObject({
      SLUICE_PIPELINES: 'Billing',
      SLUICE_EVENT_LOG_TABLE: { Ref: logicalId(stack, eventLog.table) },
      SLUICE_STATE_TABLE: { Ref: logicalId(stack, pipeline.stateTable.table) },
      SLUICE_EVENT_BUS_NAME: { Ref: logicalId(stack, pipeline.eventBus) },
    });
    expect(environmentOf(t, 'BillingWorker')).toMatchObject({
      SLUICE_PIPELINE: 'Billing',
      SLUICE_QUEUE_URL: { Ref: queueId },
      SLUICE_DEAD_LETTER_QUEUE_URL: { Ref: logicalId(stack, pipeline.deadLetterQueue) },
      SLUICE_METRICS_NAMESPACE: 'Sluice',
      SLUICE_MAX_REDELIVERY_COUNT: '5',
      SLUICE_EVENT_LOG_TABLE: { Ref: logicalId(stack, eventLog.table) },
    });
  });

  it('limits each function to its own tables and queues, with the actions it calls', () => {
    // Prepare
    const { stack, pipeline, eventLog } = pipelineStack({ commitsOutputs: false });
    const t = template(stack);
    const ids = {
      eventLog: logicalId(stack, eventLog.table),
      state: logicalId(stack, pipeline.stateTable.table),
      queue: logicalId(stack, pipeline.queue),
      deadLetterQueue: logicalId(stack, pipeline.deadLetterQueue),
      eventBus: logicalId(stack, pipeline.eventBus),
      fetcherFunction: logicalId(stack, pipeline.fetcherFunction as never),
    };
    const roleOf = (name: string) =>
      [...statementsByRole(t).entries()].find(([role]) => role.startsWith(`Billing${name}Role`))?.[1] ?? [];
    const access = (name: string) => {
      const byResource: Record<string, string[]> = {};
      for (const statement of roleOf(name)) {
        for (const id of resourceIds(statement)) {
          const key =
            Object.entries(ids).find(([, value]) => value === id)?.[0] ?? (id.includes('Logs') ? 'logs' : id);
          byResource[key] = [...(byResource[key] ?? []), ...actionsOf(statement)].sort();
        }
      }
      return byResource;
    };

    // Act
    const fetcher = access('Fetcher');
    const worker = access('Worker');
    const failed = access('Failed');

    // Assess
    expect(Object.keys(fetcher).sort()).toEqual([
      'eventBus',
      'eventLog',
      'fetcherFunction',
      'logs',
      'queue',
      'state',
    ]);
    // Itself: a woken run that must end with events still settling hands them over to a new run.
    expect(fetcher.fetcherFunction).toEqual(['lambda:InvokeFunction']);
    // PutItem: a reader stores the stream's timing when it is the first to use the stream.
    expect(fetcher.eventLog).toEqual(['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query']);
    expect(fetcher.queue).toEqual(['sqs:GetQueueAttributes', 'sqs:SendMessage']);
    expect(Object.keys(worker).sort()).toEqual(['deadLetterQueue', 'logs', 'queue', 'state']);
    expect(worker.state).toEqual(['dynamodb:BatchGetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem']);
    expect(Object.keys(failed).sort()).toEqual(['deadLetterQueue', 'logs', 'state']);
    expect(roleOf('Fetcher').some((statement) => actionsOf(statement).includes('events:PutEvents'))).toBe(
      true,
    );
    expect(roleOf('Worker').some((statement) => actionsOf(statement).includes('events:PutEvents'))).toBe(
      false,
    );
  });

  it('lets the worker and the failed handler commit to the event log unless told not to', () => {
    const withOutputs = template(pipelineStack().stack);
    withOutputs.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Action: ['dynamodb:PutItem', 'dynamodb:UpdateItem'] }),
        ]),
      },
    });
    expect(environmentOf(withOutputs, 'BillingFailed').SLUICE_EVENT_LOG_TABLE).toEqual({
      Ref: expect.stringMatching(/^EventLogTable/),
    });
    const without = template(pipelineStack({ commitsOutputs: false }).stack);
    expect(environmentOf(without, 'BillingWorker').SLUICE_EVENT_LOG_TABLE).toBeUndefined();
    expect(environmentOf(without, 'BillingFailed').SLUICE_EVENT_LOG_TABLE).toBeUndefined();
  });

  it('shares one state table among pipelines', () => {
    // Prepare
    const app = new App({ context: NO_BUNDLING });
    const stack = new Stack(app, 'Test');
    const eventLog = new EventLog(stack, 'EventLog');
    const stateTable = new PipelineStateTable(stack, 'State');

    // Act
    for (const id of ['Billing', 'Shipping'])
      new EventPipeline(stack, id, { eventLog, stream: 'orders', entry: EXAMPLE_WORKER_ENTRY, stateTable });

    // Assess
    template(stack).resourceCountIs('AWS::DynamoDB::Table', 2);
  });

  it('notifies an SNS topic from every alarm, into alarm and back', () => {
    // Prepare
    const { stack, pipeline } = pipelineStack({}, (s) => ({ alarmTopic: new sns.Topic(s, 'Pager') }));

    // Act
    const t = template(stack);

    // Assess
    const alarms = resourcesOf(t, 'AWS::CloudWatch::Alarm');
    expect(alarms).toHaveLength(7);
    for (const [, alarm] of alarms) {
      expect(alarm.Properties.AlarmActions).toHaveLength(1);
      expect(JSON.stringify(alarm.Properties.AlarmActions)).toContain('Pager');
      expect(JSON.stringify(alarm.Properties.OKActions)).toContain('Pager');
    }
    expect(Object.keys(pipeline.alarms).sort()).toEqual([
      'deadLetters',
      'expiredEvents',
      'fetcherFailures',
      'lag',
      'lateCommits',
      'oldestMessageAge',
      'workerErrors',
    ]);
  });

  it('alarms on dead letters, lag, the oldest message and worker errors at the thresholds given', () => {
    // Prepare
    const { stack } = pipelineStack({
      alarmThresholds: { lag: Duration.minutes(2), oldestMessageAge: Duration.minutes(30), workerErrors: 3 },
    });

    // Act
    const t = template(stack);

    // Assess
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Metrics: Match.arrayWith([
        Match.objectLike({
          MetricStat: Match.objectLike({ Metric: Match.objectLike({ MetricName: 'NumberOfMessagesSent' }) }),
        }),
      ]),
      Threshold: 1,
    });
    const lag = resourcesOf(t, 'AWS::CloudWatch::Alarm').find(([id]) => id.includes('Lag'))?.[1];
    expect(lag?.Properties.Threshold).toBe(120_000);
    expect(lag?.Properties.Metrics).toEqual(sluiceAlarmMetric('LagMs', 'sluice-fetcher', 'Maximum'));
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateAgeOfOldestMessage',
      Threshold: 1_800,
    });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'Errors', Threshold: 3 });
  });

  it('alarms on any commit the waker saw stored after its settle window, and only when woken on commit', () => {
    // Prepare
    const { stack } = pipelineStack();
    const economy = pipelineStack({ latency: 'economy' });

    // Act
    const t = template(stack);

    // Assess
    const late = resourcesOf(t, 'AWS::CloudWatch::Alarm').find(([id]) => id.includes('LateCommits'))?.[1];
    expect(late?.Properties).toMatchObject(ALARM_ON_ANY_ONE);
    expect(late?.Properties.Metrics).toEqual(sluiceAlarmMetric('LateCommits', 'sluice-waker', 'Sum'));
    expect(economy.pipeline.alarms.lateCommits).toBeUndefined();
    expect(
      resourcesOf(template(economy.stack), 'AWS::CloudWatch::Alarm').some(([id]) =>
        id.includes('LateCommits'),
      ),
    ).toBe(false);
  });

  it('alarms on any fetcher run that read events past the stream retention', () => {
    // Prepare
    const { stack } = pipelineStack();

    // Act
    const t = template(stack);

    // Assess
    const expired = resourcesOf(t, 'AWS::CloudWatch::Alarm').find(([id]) =>
      id.includes('ExpiredEvents'),
    )?.[1];
    expect(expired?.Properties).toMatchObject(ALARM_ON_ANY_ONE);
    expect(expired?.Properties.Metrics).toEqual(sluiceAlarmMetric('ExpiredRanges', 'sluice-fetcher', 'Sum'));
  });

  it('offers its metrics, named and dimensioned as the fetcher and worker publish them', () => {
    // Prepare
    const { stack, pipeline } = pipelineStack();

    // Act
    const metrics = [
      pipeline.metricEventsHandled(),
      pipeline.metricEventsFailed(),
      pipeline.metricEventsDeadLettered(),
      pipeline.metricLag(),
      pipeline.metricAverageLatency(),
    ].map((metric) => stack.resolve(metric.toMetricConfig().metricStat));

    // Assess
    expect(metrics.map((metric) => [metric.metricName, metric.statistic, metric.namespace])).toEqual([
      ['EventsHandled', 'Sum', 'Sluice'],
      ['EventsFailed', 'Sum', 'Sluice'],
      ['EventsDeadLettered', 'Sum', 'Sluice'],
      ['LagMs', 'Maximum', 'Sluice'],
      ['AverageLatencyMs', 'Average', 'Sluice'],
    ]);
    expect(metrics[3].dimensions).toEqual(
      expect.arrayContaining([
        { name: 'service', value: 'sluice-fetcher' },
        { name: 'pipeline', value: 'Billing' },
      ]),
    );
    expect(metrics[0].dimensions).toEqual(
      expect.arrayContaining([{ name: 'service', value: 'sluice-worker' }]),
    );
  });

  it('draws the dashboard from the metrics the fetcher and worker publish', () => {
    // Prepare
    const { stack, pipeline } = pipelineStack();

    // Act
    const body = JSON.stringify(template(stack).toJSON().Resources[logicalId(stack, pipeline.dashboard)]);

    // Assess
    for (const metric of [
      'EventsFetched',
      'EventsSentAhead',
      'EventsHandled',
      'EventsFailed',
      'EventsDeadLettered',
      'LagMs',
      'AverageLatencyMs',
      'ApproximateNumberOfMessagesVisible',
      'ApproximateAgeOfOldestMessage',
      'ThrottledRequests',
      'Throttles',
      'Duration',
    ])
      expect(body).toContain(metric);
    expect(body).toContain('sluice-worker');
  });

  it("graphs the waker's wake-ups of a pipeline woken on commit, and not of one on its schedule alone", () => {
    // Prepare
    const woken = pipelineStack();
    const scheduled = pipelineStack({ latency: 'economy' });

    // Act
    const bodyOf = ({ stack, pipeline }: ReturnType<typeof pipelineStack>) =>
      JSON.stringify(template(stack).toJSON().Resources[logicalId(stack, pipeline.dashboard)]);

    // Assess
    const wokenBody = bodyOf(woken);
    expect(wokenBody).toContain('Wake-ups of the fetcher by commits');
    expect(wokenBody).toContain('Wakeups');
    expect(wokenBody).toContain('sluice-waker');
    expect(bodyOf(scheduled)).not.toContain('Wakeups');
  });

  it.each<[string, Partial<EventPipelineProps>, RegExp]>([
    [
      'a FIFO batch over 10',
      { fifo: true, batchSize: 20 },
      /batchSize must be a whole number from 1 to 10 on a FIFO queue \(given 20\)/,
    ],
    [
      'a batching window on FIFO',
      { fifo: true, maxBatchingWindow: Duration.seconds(2) },
      /maxBatchingWindow cannot be set on a FIFO queue \(given "2 seconds"\)/,
    ],
    [
      'a batch over 10 without a window',
      { batchSize: 50 },
      /batchSize over 10 needs a maxBatchingWindow of at least 1 second.*\(given 50\)/,
    ],
    [
      'maxConcurrency of 1',
      { maxConcurrency: 1 },
      /maxConcurrency must be a whole number from 2 to 1000 \(given 1\)/,
    ],
    [
      'a worker timeout over 15 minutes',
      { workerTimeout: Duration.minutes(20) },
      /workerTimeout must be from 10 seconds to 15 minutes.*\(given "20 minutes"\)/,
    ],
    [
      'maxRedeliveryCount of 0',
      { maxRedeliveryCount: 0 },
      /maxRedeliveryCount must be a whole number from 1 to 99 \(given 0\)/,
    ],
    ['a bad pipeline name', { pipelineName: 'bill ing' }, /pipelineName must be .* \(given "bill ing"\)/],
    ['a bad stream', { stream: 'or ders' }, /stream: stream must be .*\(given "or ders"\)/],
    ['a bad event type', { eventTypes: ['order placed'] }, /eventTypes\.0: .*\(given "order placed"\)/],
    ['a bufferSize of 0', { bufferSize: 0 }, /bufferSize: .*\(given 0\)/],
    [
      'a fetch every 30 seconds',
      { fetchEvery: Duration.seconds(30) },
      /fetchEvery must be a whole number of minutes.*\(given "30 seconds"\)/,
    ],
    [
      'a worker variable that overrides SLUICE_PIPELINE',
      { workerEnvironment: { SLUICE_PIPELINE: 'x' } },
      /workerEnvironment cannot set SLUICE_PIPELINE/,
    ],
    [
      'a lag threshold of 1 second',
      { alarmThresholds: { lag: Duration.seconds(1) } },
      /alarmThresholds.lag must be at least 10 seconds \(given "1 second"\)/,
    ],
  ])('fails at construction on %s, naming the value', (_case, props, message) => {
    expect(() => pipelineStack(props)).toThrow(message);
  });

  it('lists every problem at once', () => {
    expect(() =>
      pipelineStack({ fifo: true, batchSize: 20, maxConcurrency: 1, maxRedeliveryCount: 0 }),
    ).toThrow(
      /invalid EventPipeline props at Test\/Billing: maxRedeliveryCount .*; batchSize .*; maxConcurrency/,
    );
  });

  it('explains that the construct id is the default pipeline name when it is not a valid one', () => {
    const app = new App({ context: NO_BUNDLING });
    const stack = new Stack(app, 'Test');
    const eventLog = new EventLog(stack, 'EventLog');
    expect(
      () =>
        new EventPipeline(stack, 'Billing Pipeline', {
          eventLog,
          stream: 'orders',
          entry: EXAMPLE_WORKER_ENTRY,
        }),
    ).toThrow(/\(given "Billing Pipeline"\): the construct id is used when pipelineName is left out/);
  });
});

describe('SluiceGuardrails', () => {
  /** A stack with a worker behind a queue, built as the test says, and the guardrails on. */
  function guardedStack(build: (stack: Stack, fn: lambda.Function) => void) {
    const app = new App({ context: NO_BUNDLING });
    const stack = new Stack(app, 'Guarded');
    const fn = new lambda.Function(stack, 'Worker', {
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler = async () => ({ batchItemFailures: [] })'),
      timeout: Duration.seconds(30),
    });
    build(stack, fn);
    Aspects.of(app).add(new SluiceGuardrails());
    app.synth();
    return Annotations.fromStack(stack).findError('*', Match.stringLikeRegexp('SluiceGuardrails'));
  }

  it('fails a queue with no DLQ and no alarm, a mapping without partial failures, and a short visibility timeout', () => {
    // Act
    const errors = guardedStack((stack, fn) => {
      const queue = new sqs.Queue(stack, 'Bare', { visibilityTimeout: Duration.seconds(60) });
      fn.addEventSource(new SqsEventSource(queue));
    });

    // Assess
    const messages = errors.map((error) => String(error.entry.data));
    expect(messages).toHaveLength(4);
    expect(messages).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/queue Guarded\/Bare\/Resource has no dead-letter queue/),
        expect.stringMatching(/queue Guarded\/Bare\/Resource has no CloudWatch alarm/),
        expect.stringMatching(/does not report batch item failures/),
        expect.stringMatching(/visibility timeout of 60 s, under 6× the 30 s timeout .* \(180 s\)/),
      ]),
    );
  });

  it('passes a queue with a DLQ, an alarm on each, partial failures and a long enough visibility timeout', () => {
    // Act
    const errors = guardedStack((stack, fn) => {
      const deadLetters = new sqs.Queue(stack, 'DeadLetters');
      const queue = new sqs.Queue(stack, 'Queue', {
        visibilityTimeout: Duration.seconds(180),
        deadLetterQueue: { queue: deadLetters, maxReceiveCount: 5 },
      });
      for (const [id, q] of [
        ['QueueAge', queue],
        ['DeadLetterDepth', deadLetters],
      ] as const)
        new cloudwatch.Alarm(stack, id, {
          metric: q.metricApproximateAgeOfOldestMessage(),
          threshold: 60,
          evaluationPeriods: 1,
        });
      fn.addEventSource(new SqsEventSource(queue, { reportBatchItemFailures: true }));
    });

    // Assess
    expect(errors).toEqual([]);
  });

  it('checks resources of another copy of aws-cdk-lib, by their CloudFormation type rather than their class', () => {
    // Prepare: an app with its own aws-cdk-lib makes L1 constructs whose classes are not ours; a
    // plain CfnResource of each type stands in for them.
    const otherCopy = (stack: Stack, id: string, type: string, properties: Record<string, unknown>) =>
      new CfnResource(stack, id, { type, properties });

    // Act
    let unsafeQueue: CfnResource | undefined;
    const errors = guardedStack((stack) => {
      const worker = otherCopy(stack, 'OtherWorker', 'AWS::Lambda::Function', { Timeout: 30 });
      unsafeQueue = otherCopy(stack, 'OtherQueue', 'AWS::SQS::Queue', { VisibilityTimeout: 60 });
      otherCopy(stack, 'OtherMapping', 'AWS::Lambda::EventSourceMapping', {
        EventSourceArn: unsafeQueue.getAtt('Arn'),
        FunctionName: worker.ref,
      });
      const deadLetters = otherCopy(stack, 'OtherDeadLetters', 'AWS::SQS::Queue', {});
      const safeQueue = otherCopy(stack, 'OtherSafeQueue', 'AWS::SQS::Queue', {
        VisibilityTimeout: 180,
        RedrivePolicy: { deadLetterTargetArn: deadLetters.getAtt('Arn'), maxReceiveCount: 5 },
      });
      for (const [id, queue] of [
        ['OtherSafeAlarm', safeQueue],
        ['OtherDeadLetterAlarm', deadLetters],
      ] as const)
        otherCopy(stack, id, 'AWS::CloudWatch::Alarm', {
          Dimensions: [{ Name: 'QueueName', Value: queue.getAtt('QueueName') }],
        });
    });

    // Assess
    expect(unsafeQueue).not.toBeInstanceOf(sqs.CfnQueue);
    expect(errors.map((error) => String(error.entry.data)).sort()).toEqual([
      expect.stringMatching(/queue Guarded\/OtherQueue has a visibility timeout of 60 s, under 6× the 30 s/),
      expect.stringMatching(/queue Guarded\/OtherQueue has no CloudWatch alarm/),
      expect.stringMatching(/queue Guarded\/OtherQueue has no dead-letter queue/),
      expect.stringMatching(/the SQS event source Guarded\/OtherMapping does not report batch item failures/),
    ]);
  });

  it('checks every queue of the stack, whoever built it', () => {
    const errors = guardedStack((stack) => {
      const queue = new sqs.Queue(stack, 'RuleTarget');
      new events.Rule(stack, 'Every', {
        schedule: events.Schedule.rate(Duration.minutes(1)),
        targets: [new SqsQueue(queue)],
      });
    });
    expect(errors.map((error) => String(error.entry.data))).toEqual([
      expect.stringMatching(/RuleTarget.*no dead-letter queue/),
      expect.stringMatching(/RuleTarget.*no CloudWatch alarm/),
    ]);
  });
});
