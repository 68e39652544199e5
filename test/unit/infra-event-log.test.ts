import { App, type CfnElement, CfnParameter, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { EventLog, type EventLogProps } from '../../infra';

// aws-cdk-lib reads CDK_VALIDATION each time it synthesizes, so this line (run after the imports)
// still turns the CloudFormation validator off for every synth below; it costs seconds a synth. The
// one test that keeps it on sets it back around its own synth.
process.env.CDK_VALIDATION = 'false';

interface Fixture {
  readonly app: App;
  readonly stack: Stack;
  readonly log: EventLog;
}

function eventLogStack(props?: EventLogProps, build?: (stack: Stack) => EventLogProps): Fixture {
  const app = new App();
  const stack = new Stack(app, 'Test');
  const log = new EventLog(stack, 'EventLog', build ? build(stack) : props);
  return { app, stack, log };
}

function customerKey(stack: Stack): kms.Key {
  return new kms.Key(stack, 'Key', { enableKeyRotation: true });
}

function lambdaRole(stack: Stack, id = 'Consumer'): iam.Role {
  return new iam.Role(stack, id, { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
}

function tableProperties(template: Template): Record<string, unknown> {
  const tables = Object.values(template.findResources('AWS::DynamoDB::Table'));
  expect(tables).toHaveLength(1);
  return (tables[0] as { Properties: Record<string, unknown> }).Properties;
}

interface Statement {
  readonly Action: string | string[];
  readonly Effect: string;
  readonly Resource: unknown;
}

function policyStatements(template: Template): Statement[] {
  return Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
    (policy) =>
      (policy as { Properties: { PolicyDocument: { Statement: Statement[] } } }).Properties.PolicyDocument
        .Statement,
  );
}

function actionsOf(statement: Statement): string[] {
  return typeof statement.Action === 'string' ? [statement.Action] : statement.Action;
}

function tableArn(stack: Stack, log: EventLog): unknown {
  return { 'Fn::GetAtt': [stack.getLogicalId(log.table.node.defaultChild as CfnElement), 'Arn'] };
}

function keyArn(stack: Stack, key: kms.Key): unknown {
  return { 'Fn::GetAtt': [stack.getLogicalId(key.node.defaultChild as CfnElement), 'Arn'] };
}

describe('EventLog construct: the table', () => {
  it('keys the table by string pk and string sk', () => {
    // Prepare
    const { stack } = eventLogStack();

    // Act
    const table = tableProperties(Template.fromStack(stack));

    // Assess
    expect(table.KeySchema).toEqual([
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ]);
    expect(table.AttributeDefinitions).toEqual([
      { AttributeName: 'pk', AttributeType: 'S' },
      { AttributeName: 'sk', AttributeType: 'S' },
    ]);
  });

  it('bills on demand, with no provisioned throughput', () => {
    // Prepare
    const { stack } = eventLogStack();

    // Act
    const template = Template.fromStack(stack);

    // Assess
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      BillingMode: 'PAY_PER_REQUEST',
      ProvisionedThroughput: Match.absent(),
    });
  });

  it('expires items by their expiresAt attribute', () => {
    // Prepare
    const { stack } = eventLogStack();

    // Act
    const template = Template.fromStack(stack);

    // Assess
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
    });
  });

  it('turns point-in-time recovery on by default', () => {
    // Prepare
    const { stack } = eventLogStack();

    // Act
    const template = Template.fromStack(stack);

    // Assess
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    });
  });

  it('turns point-in-time recovery off when asked', () => {
    // Prepare
    const { stack } = eventLogStack({ pointInTimeRecovery: false });

    // Act
    const template = Template.fromStack(stack);

    // Assess
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: false },
    });
  });

  it('encrypts at rest with a key DynamoDB owns by default', () => {
    // Prepare
    const { stack } = eventLogStack();

    // Act
    const template = Template.fromStack(stack);

    // Assess
    template.hasResourceProperties('AWS::DynamoDB::Table', { SSESpecification: { SSEEnabled: false } });
    template.resourceCountIs('AWS::KMS::Key', 0);
  });

  it('encrypts at rest with the customer managed key given', () => {
    // Prepare
    let key: kms.Key | undefined;
    const { stack } = eventLogStack(undefined, (s) => {
      key = customerKey(s);
      return { encryptionKey: key };
    });

    // Act
    const table = tableProperties(Template.fromStack(stack));

    // Assess
    expect(table.SSESpecification).toEqual({
      SSEEnabled: true,
      SSEType: 'KMS',
      KMSMasterKeyId: keyArn(stack, key as kms.Key),
    });
  });

  it('retains the table on deletion and replacement by default', () => {
    // Prepare
    const { stack } = eventLogStack();

    // Act
    const template = Template.fromStack(stack);

    // Assess
    template.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
  });

  it('deletes the table with the stack when the removal policy is DESTROY', () => {
    // Prepare
    const { stack } = eventLogStack({ removalPolicy: RemovalPolicy.DESTROY });

    // Act
    const template = Template.fromStack(stack);

    // Assess
    template.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Delete', UpdateReplacePolicy: 'Delete' });
  });

  it('names the table as asked, and lets CloudFormation name it otherwise', () => {
    // Prepare
    const named = eventLogStack({ tableName: 'sluice-events' });
    const unnamed = eventLogStack();

    // Act
    const namedTable = tableProperties(Template.fromStack(named.stack));
    const unnamedTable = tableProperties(Template.fromStack(unnamed.stack));

    // Assess
    expect(namedTable.TableName).toBe('sluice-events');
    expect(unnamedTable.TableName).toBeUndefined();
  });
});

describe('EventLog construct: grants', () => {
  const leadingKeys = (keys: string[]) => ({
    'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': keys },
  });

  it('grantCommit allows PutItem and UpdateItem on the given streams’ keys only, and reading their timing', () => {
    // Prepare
    const { stack, log } = eventLogStack();
    const role = lambdaRole(stack);

    // Act
    const grant = log.grantCommit(role, { streams: ['orders', 'refunds'] });

    // Assess
    expect(grant.success).toBe(true);
    expect(policyStatements(Template.fromStack(stack))).toEqual([
      {
        Action: ['dynamodb:PutItem', 'dynamodb:UpdateItem'],
        Condition: leadingKeys([
          'e#orders#*',
          'b#orders',
          't#orders',
          'e#refunds#*',
          'b#refunds',
          't#refunds',
        ]),
        Effect: 'Allow',
        Resource: tableArn(stack, log),
      },
      {
        Action: 'dynamodb:GetItem',
        Condition: leadingKeys(['t#orders', 't#refunds']),
        Effect: 'Allow',
        Resource: tableArn(stack, log),
      },
    ]);
  });

  it('grantCommit without streams still covers only the log’s own items', () => {
    // Prepare
    const { stack, log } = eventLogStack();
    const role = lambdaRole(stack);

    // Act
    log.grantCommit(role);

    // Assess
    const [write] = policyStatements(Template.fromStack(stack));
    expect(write).toEqual({
      Action: ['dynamodb:PutItem', 'dynamodb:UpdateItem'],
      Condition: leadingKeys(['e#*', 'b#*', 't#*']),
      Effect: 'Allow',
      Resource: tableArn(stack, log),
    });
  });

  it('grantRead allows GetItem and Query on the stream’s keys, and storing its timing', () => {
    // Prepare
    const { stack, log } = eventLogStack();
    const role = lambdaRole(stack);

    // Act
    const grant = log.grantRead(role, { streams: ['orders'] });

    // Assess
    expect(grant.success).toBe(true);
    expect(policyStatements(Template.fromStack(stack))).toEqual([
      {
        Action: ['dynamodb:GetItem', 'dynamodb:Query'],
        Condition: leadingKeys(['e#orders#*', 'b#orders', 't#orders']),
        Effect: 'Allow',
        Resource: tableArn(stack, log),
      },
      {
        Action: 'dynamodb:PutItem',
        Condition: leadingKeys(['t#orders']),
        Effect: 'Allow',
        Resource: tableArn(stack, log),
      },
    ]);
  });

  it.each([
    ['an empty list', []],
    ['a name with #', ['orders#1']],
    ['a wildcard', ['*']],
  ])('refuses %s of streams, naming it', (_, streams) => {
    // Prepare
    const { stack, log } = eventLogStack();

    // Act & Assess
    expect(() => log.grantRead(lambdaRole(stack), { streams })).toThrow(
      `EventLog.grantRead at Test/EventLog: streams must be a non-empty list of stream names`,
    );
    expect(() => log.grantCommit(lambdaRole(stack, 'Other'), { streams })).toThrow(JSON.stringify(streams));
  });

  it.each(['grantCommit', 'grantRead'] as const)(
    '%s also allows kms:Decrypt and kms:Encrypt on a customer managed key',
    (method) => {
      // Prepare
      let key: kms.Key | undefined;
      const { stack, log } = eventLogStack(undefined, (s) => {
        key = customerKey(s);
        return { encryptionKey: key };
      });
      const role = lambdaRole(stack);

      // Act
      log[method](role);

      // Assess
      expect(policyStatements(Template.fromStack(stack))).toContainEqual({
        Action: ['kms:Decrypt', 'kms:Encrypt'],
        Effect: 'Allow',
        Resource: keyArn(stack, key as kms.Key),
      });
    },
  );

  it('grants no wildcard action and no action beyond the two grants', () => {
    // Prepare
    const { stack, log } = eventLogStack(undefined, (s) => ({ encryptionKey: customerKey(s) }));
    const role = lambdaRole(stack);

    // Act
    log.grantCommit(role);
    log.grantRead(role);

    // Assess
    const actions = policyStatements(Template.fromStack(stack)).flatMap(actionsOf);
    expect(actions.filter((action) => action.endsWith('*'))).toEqual([]);
    expect(new Set(actions)).toEqual(
      new Set([
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
        'dynamodb:GetItem',
        'dynamodb:Query',
        'kms:Decrypt',
        'kms:Encrypt',
      ]),
    );
  });
});

describe('EventLog construct: props checked at construction', () => {
  it.each([
    ['is shorter than 3 characters', 'ab'],
    ['is longer than 255 characters', 'e'.repeat(256)],
    ['holds a character DynamoDB forbids', 'sluice events'],
    ['holds a hash', 'events#1'],
    ['is empty', ''],
  ])('fails when tableName %s', (_, tableName) => {
    // Act
    const build = () => eventLogStack({ tableName });

    // Assess
    expect(build).toThrow(
      `tableName must be 3 to 255 letters, digits, '_', '-' or '.' (given "${tableName}")`,
    );
  });

  it('fails when removalPolicy is SNAPSHOT, which DynamoDB tables do not support', () => {
    // Act
    const build = () => eventLogStack({ removalPolicy: RemovalPolicy.SNAPSHOT });

    // Assess
    expect(build).toThrow(/removalPolicy must be RETAIN, .* \(given "snapshot"\)/);
  });

  it('fails when pointInTimeRecovery is not a boolean', () => {
    // Act
    const build = () => eventLogStack({ pointInTimeRecovery: 'yes' as unknown as boolean });

    // Assess
    expect(build).toThrow('pointInTimeRecovery must be true or false (given "yes")');
  });

  it('fails when several props are invalid, listing every problem in one error', () => {
    // Act
    const build = () =>
      eventLogStack({
        tableName: 'x',
        removalPolicy: RemovalPolicy.SNAPSHOT,
        pointInTimeRecovery: 1 as unknown as boolean,
      });

    // Assess
    expect(build).toThrow(
      /^invalid EventLog props at Test\/EventLog: tableName must be .* \(given "x"\); pointInTimeRecovery must be true or false \(given 1\); removalPolicy must be .* \(given "snapshot"\)$/,
    );
  });

  it('accepts table names of 3 and of 255 characters, and a name only known at deploy time', () => {
    // Act
    const build = () => {
      eventLogStack({ tableName: 'a.b' });
      eventLogStack({ tableName: `A-z_0.${'9'.repeat(249)}` });
      eventLogStack(undefined, (stack) => ({
        tableName: new CfnParameter(stack, 'TableName').valueAsString,
      }));
    };

    // Assess
    expect(build).not.toThrow();
  });
});

describe('EventLog construct: checks of the synthesized stack', () => {
  it('passes cdk-nag AwsSolutions and CloudFormation validation with no findings', () => {
    // Prepare: the one synth in this file with the CloudFormation validator on, its errors made fatal.
    const app = new App({ context: { '@aws-cdk/core:validateAgainstDefaultRules': true } });
    const stack = new Stack(app, 'Test');
    const log = new EventLog(stack, 'EventLog', { encryptionKey: customerKey(stack) });
    const role = lambdaRole(stack);
    log.grantCommit(role);
    log.grantRead(role);
    const nag = new AwsSolutionsChecks(app, { verbose: true });
    Validations.of(app).addPlugins(nag);

    // Act: synth throws on any validator error or unacknowledged cdk-nag finding.
    const previous = process.env.CDK_VALIDATION;
    process.env.CDK_VALIDATION = 'true';
    try {
      expect(() => app.synth()).not.toThrow();
    } finally {
      process.env.CDK_VALIDATION = previous;
    }

    // Assess: no cdk-nag finding at all, errors or warnings, and none acknowledged away.
    expect(nag.validateScope(app).violations).toEqual([]);
    const acknowledgements = app.node
      .findAll()
      .flatMap((construct) => construct.node.metadata)
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY);
    expect(acknowledgements).toEqual([]);
  });

  it('fails the AwsSolutions checks when point-in-time recovery is turned off', () => {
    // Prepare
    const { app } = eventLogStack({ pointInTimeRecovery: false });

    // Act
    const report = new AwsSolutionsChecks(app).validateScope(app);

    // Assess
    expect(report.violations.map((violation) => violation.ruleName)).toEqual(['AwsSolutions-DDB3']);
  });
});
