import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
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
      { Properties: { Environment: { Variables: Record<string, unknown> } } },
    ];
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
      /latency must be 'balanced' or 'economy' \(given "instant"\)/,
    );
  });
});
