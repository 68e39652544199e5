import { App, type CfnElement, Duration, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { EventLog } from '../../infra/event-log';
import { IngestFunction, type IngestFunctionProps, type IngestSourceProps } from '../../infra/ingest';

// Off for every synth but the one test that sets it back (it costs seconds a synth).
process.env.CDK_VALIDATION = 'false';

const SOURCE: IngestSourceProps = {
  name: 'crm-customers',
  url: 'https://crm.example.com/customers?limit=100',
  stream: 'customers',
  eventType: 'customer.changed',
};

interface Fixture {
  readonly stack: Stack;
  readonly ingest: IngestFunction;
  readonly log: EventLog;
  readonly state: dynamodb.Table;
}

/** A stack with an event log, a state table and an ingest; bundling skipped unless `bundle`. */
function ingestStack(props: Partial<IngestFunctionProps> = {}, options: { bundle?: boolean } = {}): Fixture {
  const app = new App(options.bundle ? {} : { context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Test');
  const log = new EventLog(stack, 'EventLog');
  const state = new dynamodb.Table(stack, 'State', {
    partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
    sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
  });
  const ingest = new IngestFunction(stack, 'Ingest', {
    eventLog: log,
    stateTable: state,
    source: SOURCE,
    ...props,
  });
  return { stack, ingest, log, state };
}

interface Statement {
  readonly Action: string | string[];
  readonly Effect: string;
  readonly Resource: unknown;
  readonly Condition?: unknown;
}

function statements(template: Template): Statement[] {
  return Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
    (policy) =>
      (policy as { Properties: { PolicyDocument: { Statement: Statement[] } } }).Properties.PolicyDocument
        .Statement,
  );
}

function arnOf(stack: Stack, table: dynamodb.Table): unknown {
  return { 'Fn::GetAtt': [stack.getLogicalId(table.node.defaultChild as CfnElement), 'Arn'] };
}

describe('IngestFunction construct', () => {
  it('runs functions/ingest.ts on Node.js 24 with its source in the environment', () => {
    // Prepare / Act
    const { stack } = ingestStack({
      source: { ...SOURCE, itemsField: 'data.items', retryPreset: 'rateLimit' },
    });
    const template = Template.fromStack(stack);

    // Assess
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      Timeout: 60,
      MemorySize: 256,
      Environment: {
        Variables: Match.objectEquals({
          NODE_OPTIONS: '--enable-source-maps',
          SLUICE_EVENT_LOG_TABLE: { Ref: Match.stringLikeRegexp('^EventLogTable') },
          SLUICE_STATE_TABLE: { Ref: Match.stringLikeRegexp('^State') },
          SLUICE_INGEST_SOURCE: 'crm-customers',
          SLUICE_INGEST_URL: 'https://crm.example.com/customers?limit=100',
          SLUICE_INGEST_STREAM: 'customers',
          SLUICE_INGEST_EVENT_TYPE: 'customer.changed',
          SLUICE_INGEST_LEASE_DURATION_MS: '120000',
          SLUICE_INGEST_ITEMS_FIELD: 'data.items',
          SLUICE_INGEST_RETRY_PRESET: 'rateLimit',
        }),
      },
    });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { MaximumRetryAttempts: 0 });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
  });

  it('runs on its schedule: every 5 minutes by default, or as given', () => {
    const byDefault = Template.fromStack(ingestStack().stack);
    const hourly = Template.fromStack(
      ingestStack({ schedule: events.Schedule.rate(Duration.hours(1)) }).stack,
    );

    byDefault.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(5 minutes)',
      State: 'ENABLED',
      Targets: [
        Match.objectLike({ Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^IngestFunction'), 'Arn'] } }),
      ],
    });
    byDefault.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      Principal: 'events.amazonaws.com',
    });
    hourly.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(1 hour)' });
  });

  it('grants commit on the event log, item actions on the state table and writes to its own logs, nothing else', () => {
    // Prepare / Act
    const { stack, log, state, ingest } = ingestStack();
    const granted = statements(Template.fromStack(stack));

    // Assess: named actions on each table's ARN only; no wildcard action or resource.
    const byResource = granted.map((statement) => ({
      actions: [statement.Action].flat().sort(),
      resource: statement.Resource,
    }));
    expect(byResource).toEqual(
      expect.arrayContaining([
        { actions: ['dynamodb:PutItem', 'dynamodb:UpdateItem'], resource: arnOf(stack, log.table) },
        { actions: ['dynamodb:GetItem'], resource: arnOf(stack, log.table) },
        {
          actions: [
            'dynamodb:BatchGetItem',
            'dynamodb:ConditionCheckItem',
            'dynamodb:GetItem',
            'dynamodb:PutItem',
            'dynamodb:UpdateItem',
          ],
          resource: [arnOf(stack, state)],
        },
      ]),
    );
    expect(granted.find((statement) => statement.Condition)).toMatchObject({
      Condition: {
        'ForAllValues:StringLike': {
          'dynamodb:LeadingKeys': ['e#customers#*', 'b#customers', 't#customers'],
        },
      },
    });
    expect(byResource).toContainEqual({
      actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      resource: {
        'Fn::GetAtt': [stack.getLogicalId(ingest.logGroup.node.defaultChild as CfnElement), 'Arn'],
      },
    });
    expect(granted).toHaveLength(4);
    expect(
      Template.fromStack(stack).findResources('AWS::IAM::Role', {
        Properties: { ManagedPolicyArns: Match.anyValue() },
      }),
    ).toEqual({});
    expect(
      granted.flatMap((statement) => [statement.Action].flat()).filter((action) => action.includes('*')),
    ).toEqual([]);
  });

  it('fails naming every invalid prop and the value given', () => {
    const build = () =>
      ingestStack({
        source: {
          name: 'crm#customers',
          url: 'ftp://crm.example.com',
          stream: 'customers',
          eventType: 'customer changed',
          retryPreset: 'slow' as 'fast',
        },
        timeout: Duration.seconds(10),
        memorySize: 64,
      });

    expect(build).toThrow(/invalid IngestFunction props at Test\/Ingest/);
    expect(build).toThrow(/source\.name must be 1 to 128 letters, .* \(given "crm#customers"\)/);
    expect(build).toThrow(/source\.url must be an http or https URL \(given "ftp:\/\/crm.example.com"\)/);
    expect(build).toThrow(/source\.eventType must be an event type: .* \(given "customer changed"\)/);
    expect(build).toThrow(
      /source\.retryPreset must be one of fast, standard, rateLimit, dns, verification, aws \(given "slow"\)/,
    );
    expect(build).toThrow(/timeout must be between 30 seconds and 15 minutes, .* \(given 10 seconds\)/);
    expect(build).toThrow(/memorySize must be a whole number of MB from 128 to 10240 \(given 64\)/);
  });

  it('passes the cdk-nag AwsSolutions checks with nothing acknowledged', () => {
    // Prepare: the state table with point-in-time recovery, as the AwsSolutions rules ask.
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'Test');
    const state = new dynamodb.Table(stack, 'State', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    });
    new IngestFunction(stack, 'Ingest', {
      eventLog: new EventLog(stack, 'EventLog'),
      stateTable: state,
      source: SOURCE,
    });

    // Act
    const report = new AwsSolutionsChecks(app).validateScope(app);

    // Assess: no finding, and none acknowledged away.
    expect(report.violations).toEqual([]);
    const acknowledged = app.node
      .findAll()
      .flatMap((construct) => construct.node.metadata)
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY);
    expect(acknowledged).toEqual([]);
  });

  it('bundles the entry point with the local esbuild and passes CloudFormation validation', () => {
    // Prepare: validation back on for this synth.
    process.env.CDK_VALIDATION = 'true';
    try {
      // Act
      const { stack } = ingestStack({}, { bundle: true });
      const template = Template.fromStack(stack);

      // Assess: the code is a real asset, not the placeholder of a skipped bundle.
      const [fn] = Object.values(template.findResources('AWS::Lambda::Function')) as {
        Properties: { Code: { S3Key: unknown } };
      }[];
      expect(JSON.stringify(fn?.Properties.Code.S3Key)).toMatch(/[0-9a-f]{64}\.zip/);
    } finally {
      process.env.CDK_VALIDATION = 'false';
    }
  });
});
