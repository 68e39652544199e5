import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { EventLog, EventPipeline, type EventPipelineProps } from '../../infra';
import { EXAMPLE_WORKER_ENTRY } from '../../infra/example-app';
import { parseWakeRoutes } from '../../lib/wake/wake-routes';

process.env.CDK_VALIDATION = 'false';
const NO_BUNDLING = { 'aws:cdk:bundling-stacks': [] };

function stackWith(pipelines: Record<string, Partial<EventPipelineProps>>) {
  const app = new App({ context: NO_BUNDLING });
  const stack = new Stack(app, 'Test');
  const eventLog = new EventLog(stack, 'EventLog');
  const built = Object.fromEntries(
    Object.entries(pipelines).map(([id, props]) => [
      id,
      new EventPipeline(stack, id, { eventLog, stream: 'orders', entry: EXAMPLE_WORKER_ENTRY, ...props }),
    ]),
  );
  return { stack, eventLog, pipelines: built, template: Template.fromStack(stack) };
}

const logicalId = (stack: Stack, construct: { node: { defaultChild?: unknown } }) =>
  stack.getLogicalId(construct.node.defaultChild as never);

function wakerOf(template: Template) {
  const functions = Object.entries(template.findResources('AWS::Lambda::Function')).filter(([id]) =>
    id.startsWith('EventLogWaker'),
  );
  return functions;
}

describe('wake on commit (latency: balanced, the default)', () => {
  it('adds one waker on the log table’s keys-only stream, for INSERTs of events, waking each pipeline’s fetcher', () => {
    // Prepare / Act
    const { stack, eventLog, pipelines, template } = stackWith({
      Billing: {},
      Shipping: { stream: 'shipments', fetchEvery: Duration.minutes(5) },
    });

    // Assess: the stream and the one waker
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      StreamSpecification: { StreamViewType: 'KEYS_ONLY' },
    });
    const wakers = wakerOf(template);
    expect(wakers).toHaveLength(1);
    const [wakerId, waker] = wakers[0] as [
      string,
      { Properties: { MemorySize: number; Environment: { Variables: Record<string, unknown> } } },
    ];
    expect(waker.Properties.MemorySize).toBe(128);
    const mappings = Object.values(template.findResources('AWS::Lambda::EventSourceMapping')).filter(
      (mapping) => JSON.stringify(mapping.Properties.FunctionName).includes(wakerId),
    );
    expect(mappings).toHaveLength(1);
    expect(mappings[0]?.Properties).toMatchObject({
      EventSourceArn: { 'Fn::GetAtt': [logicalId(stack, eventLog.table), 'StreamArn'] },
      StartingPosition: 'LATEST',
      FilterCriteria: {
        Filters: [
          {
            Pattern: JSON.stringify({
              eventName: ['INSERT'],
              dynamodb: { Keys: { pk: { S: [{ prefix: 'e#' }] } } },
            }),
          },
        ],
      },
    });
    // No batching window unless the log asks for one: a wake-up on every read that brings records
    expect(mappings[0]?.Properties.MaximumBatchingWindowInSeconds).toBeUndefined();
    // Its routes: each pipeline's stream and fetcher, resolved from the synthesized JSON
    const routesText = JSON.stringify(waker.Properties.Environment.Variables.SLUICE_WAKE_ROUTES);
    expect(routesText).toContain(logicalId(stack, pipelines.Billing?.fetcherFunction as never));
    expect(routesText).toContain(logicalId(stack, pipelines.Shipping?.fetcherFunction as never));
    expect(routesText).toContain('\\"stream\\":\\"shipments\\"');
    // The schedule is the safety net, and its runs leave once idle too
    const schedules = Object.values(template.findResources('AWS::Events::Rule')).filter(
      (rule) => rule.Properties.ScheduleExpression !== undefined,
    );
    expect(schedules.map((rule) => rule.Properties.ScheduleExpression).sort()).toEqual([
      'rate(15 minutes)',
      'rate(5 minutes)',
    ]);
    for (const rule of schedules)
      expect(JSON.parse(rule.Properties.Targets[0].Input)).toEqual({
        source: 'sluice.schedule',
        untilIdleMs: 1000,
      });
  });

  it('lets the waker invoke exactly the fetchers it wakes, and read only the log’s stream', () => {
    // Prepare / Act
    const { stack, eventLog, pipelines, template } = stackWith({ Billing: {} });

    // Assess
    expect(wakerOf(template)).toHaveLength(1);
    const statements = Object.values(template.findResources('AWS::IAM::Policy'))
      .filter((policy) => JSON.stringify(policy.Properties.Roles).includes('"EventLogWakerRole'))
      .flatMap((policy) => policy.Properties.PolicyDocument.Statement);
    expect(statements).toContainEqual({
      Action: 'lambda:InvokeFunction',
      Effect: 'Allow',
      Resource: { 'Fn::GetAtt': [logicalId(stack, pipelines.Billing?.fetcherFunction as never), 'Arn'] },
    });
    expect(statements).toContainEqual({
      Action: [
        'dynamodb:DescribeStream',
        'dynamodb:GetRecords',
        'dynamodb:GetShardIterator',
        'dynamodb:ListStreams',
      ],
      Effect: 'Allow',
      Resource: { 'Fn::GetAtt': [logicalId(stack, eventLog.table), 'StreamArn'] },
    });
    expect(JSON.stringify(statements)).not.toContain('"*"');
    // It may read the pipeline's lease, and nothing else of the state table
    expect(statements).toContainEqual({
      Action: 'dynamodb:GetItem',
      Effect: 'Allow',
      Resource: { 'Fn::GetAtt': [logicalId(stack, pipelines.Billing?.stateTable.table as never), 'Arn'] },
      Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['pipeline#Billing'] } },
    });
    const routes = JSON.stringify(
      Object.values(template.findResources('AWS::Lambda::Function')).find((fn) =>
        JSON.stringify(fn.Properties.Environment?.Variables ?? {}).includes('SLUICE_WAKE_ROUTES'),
      )?.Properties.Environment.Variables.SLUICE_WAKE_ROUTES,
    );
    // It may read each routed stream's timing, to tell commits stored after their settle window
    expect(statements).toContainEqual({
      Action: 'dynamodb:GetItem',
      Effect: 'Allow',
      Resource: { 'Fn::GetAtt': [logicalId(stack, eventLog.table), 'Arn'] },
      Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['t#orders'] } },
    });
    expect(routes).toContain('stateTable');
    expect(routes).toContain(logicalId(stack, pipelines.Billing?.stateTable.table as never));
    // The fetcher may invoke itself, to hand over events a woken run had to leave, and nothing else
    const fetcherId = logicalId(stack, pipelines.Billing?.fetcherFunction as never);
    const handOff = Object.values(template.findResources('AWS::IAM::Policy')).filter(
      (policy) =>
        policy.Properties.PolicyDocument.Statement.some(
          (statement: { Action: unknown }) => statement.Action === 'lambda:InvokeFunction',
        ) && !JSON.stringify(policy.Properties.Roles).includes('"EventLogWakerRole'),
    );
    expect(handOff.map((policy) => policy.Properties.PolicyDocument.Statement)).toEqual([
      [{ Action: 'lambda:InvokeFunction', Effect: 'Allow', Resource: { 'Fn::GetAtt': [fetcherId, 'Arn'] } }],
    ]);
    expect(JSON.stringify(handOff[0]?.Properties.Roles)).toContain('BillingFetcherRole');
  });

  it('gathers the stream’s records for the log’s wakeBatchingWindow, and refuses one Lambda would not take', () => {
    // Prepare / Act
    const app = new App({ context: NO_BUNDLING });
    const stack = new Stack(app, 'Test');
    const eventLog = new EventLog(stack, 'EventLog', { wakeBatchingWindow: Duration.seconds(2) });
    new EventPipeline(stack, 'Billing', { eventLog, stream: 'orders', entry: EXAMPLE_WORKER_ENTRY });

    // Assess
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [logicalId(stack, eventLog.table), 'StreamArn'] },
      MaximumBatchingWindowInSeconds: 2,
    });
    for (const [window, given] of [
      [Duration.millis(1_500), '1.5 seconds'],
      [Duration.minutes(6), '360 seconds'],
    ] as const) {
      expect(
        () =>
          new EventLog(new Stack(app, `Refused${window.toMilliseconds()}`), 'EventLog', {
            wakeBatchingWindow: window,
          }),
      ).toThrow(
        `wakeBatchingWindow must be whole seconds from 0 to 300, as Lambda requires (given ${given})`,
      );
    }
    const notDuration = 2 as unknown as Duration;
    expect(
      () => new EventLog(new Stack(app, 'NotADuration'), 'EventLog', { wakeBatchingWindow: notDuration }),
    ).toThrow('wakeBatchingWindow must be a Duration (given 2)');
  });

  it('parses the routes it is given, and refuses malformed ones naming each', () => {
    expect(
      parseWakeRoutes('[{"stream":"orders","pipeline":"billing","target":"fn","untilIdleMs":1000}]'),
    ).toEqual([{ stream: 'orders', pipeline: 'billing', target: 'fn', untilIdleMs: 1000 }]);
    expect(() =>
      parseWakeRoutes('[{"stream":"a#b","pipeline":"billing","target":"","untilIdleMs":-1}]'),
    ).toThrow(
      /\[0\]\.stream must be a stream name \(given "a#b"\); .*\[0\]\.target must name a function .*\[0\]\.untilIdleMs must be 0 or more/,
    );
    expect(() => parseWakeRoutes('nope')).toThrow(
      'SLUICE_WAKE_ROUTES must be a JSON array of routes (given "nope")',
    );
  });
});

describe('latency: economy', () => {
  it('runs on the schedule alone: no waker, every minute, tailing to the timeout', () => {
    // Prepare / Act
    const { template } = stackWith({ Billing: { latency: 'economy' } });

    // Assess
    expect(wakerOf(template)).toHaveLength(0);
    const [schedule] = Object.values(template.findResources('AWS::Events::Rule')).filter(
      (rule) => rule.Properties.ScheduleExpression !== undefined,
    );
    expect(schedule?.Properties.ScheduleExpression).toBe('rate(1 minute)');
    expect(schedule?.Properties.Targets[0].Input).toBeUndefined();
  });

  it('refuses a latency it does not know, naming it', () => {
    expect(() => stackWith({ Billing: { latency: 'instant' as never } })).toThrow(
      /latency must be 'balanced', 'low' or 'economy' \(given "instant"\)/,
    );
  });
});

describe('latency: low', () => {
  const customResources = (template: Template) => template.findResources('Custom::SluiceStreamTiming');

  it('wakes on commit, reads every 200 ms, and stores a 300/200 ms timing with the stream before its fetcher runs', () => {
    // Prepare / Act
    const { stack, eventLog, pipelines, template } = stackWith({ Billing: { latency: 'low' } });

    // Assess: woken as balanced is
    expect(wakerOf(template)).toHaveLength(1);
    const fetcherId = logicalId(stack, pipelines.Billing?.fetcherFunction as never);
    const fetcher = template.findResources('AWS::Lambda::Function')[fetcherId];
    expect(fetcher?.Properties.Environment.Variables.SLUICE_POLL_INTERVAL_MS).toBe('200');
    // The timing, stored by one custom resource, which the fetcher and the backfill function wait for
    const stored = Object.entries(customResources(template));
    expect(stored).toHaveLength(1);
    const [storedId, resource] = stored[0] as [string, { Properties: Record<string, unknown> }];
    const timingFunctionId = Object.keys(template.findResources('AWS::Lambda::Function')).find((id) =>
      id.startsWith('EventLogStreamTimingFunction'),
    );
    expect(resource.Properties).toEqual({
      ServiceToken: { 'Fn::GetAtt': [timingFunctionId, 'Arn'] },
      TableName: { Ref: logicalId(stack, eventLog.table) },
      Stream: 'orders',
      SettleWindowMs: '300',
      CommitDeadlineMs: '200',
    });
    const backfillId = Object.keys(template.findResources('AWS::Lambda::Function')).find((id) =>
      id.startsWith('BillingBackfill'),
    );
    for (const id of [fetcherId, backfillId as string])
      expect(template.toJSON().Resources[id].DependsOn).toContain(storedId);
    // Its function may read and put that one item, and nothing else of the table
    const statements = Object.values(template.findResources('AWS::IAM::Policy'))
      .filter((policy) =>
        JSON.stringify(policy.Properties.Roles).includes('EventLogStreamTimingFunctionRole'),
      )
      .flatMap((policy) => policy.Properties.PolicyDocument.Statement)
      .filter((statement) => JSON.stringify(statement.Action).includes('dynamodb:'));
    expect(statements).toEqual([
      {
        Action: ['dynamodb:GetItem', 'dynamodb:PutItem'],
        Effect: 'Allow',
        Resource: { 'Fn::GetAtt': [logicalId(stack, eventLog.table), 'Arn'] },
        Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['t#orders'] } },
      },
    ]);
  });

  it('passes cdk-nag’s AwsSolutions checks, the stream-timing function included', () => {
    // Prepare
    const { stack } = stackWith({ Billing: { latency: 'low' } });
    const app = stack.node.root as App;
    const nag = new AwsSolutionsChecks(app, { verbose: true });

    // Act
    app.synth();

    // Assess
    expect(nag.validateScope(app).violations).toEqual([]);
  });

  it('stores the timing once for every low pipeline of a stream, and not at all for balanced ones, which read every 500 ms', () => {
    const { template } = stackWith({
      Billing: { latency: 'low' },
      Shipping: { latency: 'low' },
      Audit: { stream: 'audit' },
    });

    expect(Object.keys(customResources(template))).toHaveLength(1);
    const audit = Object.entries(template.findResources('AWS::Lambda::Function')).find(([id]) =>
      id.startsWith('AuditFetcher'),
    );
    expect(audit?.[1].Properties.Environment.Variables.SLUICE_POLL_INTERVAL_MS).toBe('500');
  });

  it('refuses a second, different declaration of a stream’s timing, naming both', () => {
    const { eventLog } = stackWith({ Billing: { latency: 'low' } });

    expect(() =>
      eventLog.declareStreamTiming('orders', {
        settleWindow: Duration.seconds(5),
        declaredBy: 'the producers',
      }),
    ).toThrow(
      "EventLog.declareStreamTiming('orders') at Test/EventLog: the producers declares a 5000 ms settle window and a 3333 ms commit deadline, but pipeline Billing (latency: 'low') declared 300 ms and 200 ms; a stream has one timing, shared by every writer and reader",
    );
  });

  it('refuses a timing or a stream name that cannot be, naming the value', () => {
    const { eventLog } = stackWith({});

    expect(() =>
      eventLog.declareStreamTiming('orders', {
        settleWindow: Duration.millis(300),
        commitDeadline: Duration.millis(300),
      }),
    ).toThrow('commitDeadlineMs (300) must be below settleWindowMs (300)');
    expect(() => eventLog.declareStreamTiming('a#b', { settleWindow: Duration.seconds(2) })).toThrow(
      'the stream name must use 1 to 128 letters',
    );
    expect(() => eventLog.declareStreamTiming('slow', { settleWindow: Duration.millis(1) })).toThrow(
      'settleWindowMs must be',
    );
  });
});
