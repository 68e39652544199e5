import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { describe, expect, it } from 'vitest';
import { EventLog, EventPipeline, type EventPipelineProps } from '../../infra';
import { EXAMPLE_WORKER_ENTRY } from '../../infra/example-app';
import { iamLike } from '../support/iam';

process.env.CDK_VALIDATION = 'false';
const NO_BUNDLING = { 'aws:cdk:bundling-stacks': [] };

interface Statement {
  readonly Action: string | string[];
  readonly Resource: unknown;
  readonly Condition?: Record<string, Record<string, string | string[]>>;
}

function pipelineStack(
  props: Partial<EventPipelineProps> = {},
  build?: (stack: Stack) => Partial<EventPipelineProps>,
) {
  const app = new App({ context: NO_BUNDLING });
  const stack = new Stack(app, 'Test');
  const eventLog = new EventLog(stack, 'EventLog');
  const pipeline = new EventPipeline(stack, 'Billing', {
    eventLog,
    stream: 'orders',
    entry: EXAMPLE_WORKER_ENTRY,
    ...props,
    ...(build ? build(stack) : {}),
  });
  return {
    stack,
    pipeline,
    get template() {
      return Template.fromStack(stack);
    },
  };
}

/** Every statement of the policies attached to the role whose logical id starts with `rolePrefix`. */
function statementsOf(template: Template, rolePrefix: string): Statement[] {
  const statements: Statement[] = [];
  for (const policy of Object.values(template.findResources('AWS::IAM::Policy'))) {
    const roles = (policy.Properties.Roles as { Ref: string }[]).map(({ Ref }) => Ref);
    if (roles.some((role) => role.startsWith(rolePrefix)))
      statements.push(...(policy.Properties.PolicyDocument.Statement as Statement[]));
  }
  expect(statements.length, `policies of ${rolePrefix}`).toBeGreaterThan(0);
  return statements;
}

const actionsOf = (statement: Statement) => [statement.Action].flat();

/**
 * Whether the role's statements allow `action` on an item with partition key `key` of the table
 * `tableId` (its logical id), evaluating the statements' `dynamodb:LeadingKeys` conditions as IAM does.
 */
function allows(statements: Statement[], action: string, tableId: string, key: string): boolean {
  return statements.some((statement) => {
    if (!actionsOf(statement).includes(action)) return false;
    if (!JSON.stringify(statement.Resource).includes(`"${tableId}"`)) return false;
    const like = statement.Condition?.['ForAllValues:StringLike']?.['dynamodb:LeadingKeys'];
    const equal = statement.Condition?.['ForAllValues:StringEquals']?.['dynamodb:LeadingKeys'];
    if (like === undefined && equal === undefined) return true;
    if (like !== undefined) return [like].flat().some((pattern) => iamLike(pattern, key));
    return [equal].flat().includes(key);
  });
}

const logicalId = (stack: Stack, construct: { node: { defaultChild?: unknown } }) =>
  stack.getLogicalId(construct.node.defaultChild as never);

describe('least privilege: DynamoDB keys', () => {
  it('gives every DynamoDB statement of every function a LeadingKeys condition', () => {
    // Prepare
    const { template } = pipelineStack();

    // Act
    const unconditioned = ['Fetcher', 'Backfill', 'Worker', 'Failed'].flatMap((name) =>
      statementsOf(template, `Billing${name}Role`).filter(
        (statement) =>
          actionsOf(statement).some((action) => action.startsWith('dynamodb:')) &&
          !JSON.stringify(statement.Condition ?? {}).includes('dynamodb:LeadingKeys'),
      ),
    );

    // Assess
    expect(unconditioned).toEqual([]);
  });

  it('lets the worker write its own markers and totals, and no other pipeline’s state', () => {
    // Prepare
    const { stack, pipeline, template } = pipelineStack();
    const state = logicalId(stack, pipeline.stateTable.table);
    const worker = statementsOf(template, 'BillingWorkerRole');

    // Act & Assess: its own keys
    expect(allows(worker, 'dynamodb:PutItem', state, 'marker#Billing#abc')).toBe(true);
    expect(allows(worker, 'dynamodb:BatchGetItem', state, 'marker#Billing#abc')).toBe(true);
    expect(allows(worker, 'dynamodb:UpdateItem', state, 'counters#Billing')).toBe(true);
    // Another pipeline's, or its own pipeline's checkpoint, lease, registry entry and failures
    for (const key of [
      'marker#Shipping#abc',
      'counters#Shipping',
      'counters#Billing2',
      'pipeline#Billing',
      'pipeline#Shipping',
      'pipelines',
      'failed#Billing',
      'failures#Billing#20261205',
      'backfill#Billing.backfill.x',
    ]) {
      expect(allows(worker, 'dynamodb:PutItem', state, key), key).toBe(false);
      expect(allows(worker, 'dynamodb:UpdateItem', state, key), key).toBe(false);
    }
  });

  it('lets the fetcher work its own pipeline and its backfills, not another pipeline', () => {
    // Prepare
    const { stack, pipeline, template } = pipelineStack();
    const state = logicalId(stack, pipeline.stateTable.table);
    const fetcher = statementsOf(template, 'BillingFetcherRole');

    // Act & Assess
    for (const key of [
      'pipeline#Billing',
      'pipeline#Billing#runs',
      'pipeline#Billing#seeks',
      'pipeline#Billing.backfill.b1',
      'pipeline#Billing.backfill.b1#runs',
      'backfill#Billing.backfill.b1',
      'pipelines',
    ])
      expect(allows(fetcher, 'dynamodb:UpdateItem', state, key), key).toBe(true);
    for (const key of [
      'pipeline#Shipping',
      'pipeline#Billings',
      'pipeline#Shipping.backfill.b1',
      'marker#Billing#x',
    ])
      expect(allows(fetcher, 'dynamodb:UpdateItem', state, key), key).toBe(false);
  });

  it('lets the failed handler claim and record its own failures and read its own markers only', () => {
    // Prepare
    const { stack, pipeline, template } = pipelineStack();
    const state = logicalId(stack, pipeline.stateTable.table);
    const failed = statementsOf(template, 'BillingFailedRole');

    // Act & Assess
    expect(allows(failed, 'dynamodb:PutItem', state, 'failed#Billing')).toBe(true);
    expect(allows(failed, 'dynamodb:PutItem', state, 'failures#Billing#20261205')).toBe(true);
    expect(allows(failed, 'dynamodb:BatchGetItem', state, 'marker#Billing#abc')).toBe(true);
    expect(allows(failed, 'dynamodb:PutItem', state, 'failed#Shipping')).toBe(false);
    expect(allows(failed, 'dynamodb:UpdateItem', state, 'pipeline#Billing')).toBe(false);
  });

  it('lets the worker commit only to its outputStreams, and the fetcher read only its stream', () => {
    // Prepare
    const { stack, template } = pipelineStack({ outputStreams: ['invoices'] });
    const log = logicalId(stack, (stack.node.findChild('EventLog') as EventLog).table);
    const worker = statementsOf(template, 'BillingWorkerRole');
    const fetcher = statementsOf(template, 'BillingFetcherRole');

    // Act & Assess
    expect(allows(worker, 'dynamodb:PutItem', log, 'e#invoices#2026120506#0')).toBe(true);
    expect(allows(worker, 'dynamodb:UpdateItem', log, 'b#invoices')).toBe(true);
    expect(allows(worker, 'dynamodb:PutItem', log, 'e#orders#2026120506#0')).toBe(false);
    expect(allows(worker, 'dynamodb:UpdateItem', log, 'b#orders')).toBe(false);
    expect(allows(worker, 'dynamodb:PutItem', log, 't#orders')).toBe(false);
    expect(allows(fetcher, 'dynamodb:Query', log, 'e#orders#2026120506#0')).toBe(true);
    expect(allows(fetcher, 'dynamodb:Query', log, 'e#payroll#2026120506#0')).toBe(false);
    expect(allows(fetcher, 'dynamodb:PutItem', log, 't#orders')).toBe(true);
    expect(allows(fetcher, 'dynamodb:PutItem', log, 'e#orders#2026120506#0')).toBe(false);
  });

  it.each([
    [
      'a pipeline named like a backfill',
      { pipelineName: 'Shipping.backfill.x' },
      /pipelineName cannot contain '.backfill.'/,
    ],
    [
      'an output stream with #',
      { outputStreams: ['a#b'] },
      /outputStreams must be stream names .*\(given "a#b"\)/,
    ],
    ['no output stream', { outputStreams: [] }, /outputStreams cannot be empty/],
    [
      'output streams of a pipeline that commits nothing',
      { outputStreams: ['x'], commitsOutputs: false },
      /outputStreams has no use/,
    ],
  ])('refuses %s at construction', (_, props, message) => {
    expect(() => pipelineStack(props)).toThrow(message);
  });
});

describe('least privilege: backfills', () => {
  it('listens on the app’s own bus, for Sluice’s backfill requests of this pipeline only', () => {
    // Prepare
    const { stack, pipeline, template } = pipelineStack();

    // Act
    const rules = Object.values(template.findResources('AWS::Events::Rule')).filter(
      (rule) => rule.Properties.EventPattern !== undefined,
    );

    // Assess
    expect(rules).toHaveLength(1);
    expect(rules[0]?.Properties.EventBusName).toEqual({ Ref: logicalId(stack, pipeline.eventBus) });
    expect(rules[0]?.Properties.EventPattern).toEqual({
      source: ['sluice'],
      'detail-type': ['Backfill Requested'],
      detail: { pipeline: ['Billing'] },
    });
    template.resourceCountIs('AWS::Events::EventBus', 1);
  });

  it('shares one bus among the stack’s pipelines', () => {
    // Prepare
    const app = new App({ context: NO_BUNDLING });
    const stack = new Stack(app, 'Test');
    const eventLog = new EventLog(stack, 'EventLog');

    // Act
    const [billing, shipping] = ['Billing', 'Shipping'].map(
      (id) => new EventPipeline(stack, id, { eventLog, stream: 'orders', entry: EXAMPLE_WORKER_ENTRY }),
    );

    // Assess
    expect(billing?.eventBus).toBe(shipping?.eventBus);
    Template.fromStack(stack).resourceCountIs('AWS::Events::EventBus', 1);
  });

  it('grantStartBackfill allows putting backfill requests on that bus, and nothing else', () => {
    // Prepare
    const { stack, pipeline } = pipelineStack();
    const operator = new iam.Role(stack, 'Operator', { assumedBy: new iam.AccountRootPrincipal() });

    // Act
    pipeline.grantStartBackfill(operator);

    // Assess
    const statements = statementsOf(Template.fromStack(stack), 'Operator');
    expect(statements).toEqual([
      {
        Action: 'events:PutEvents',
        Effect: 'Allow',
        Resource: { 'Fn::GetAtt': [logicalId(stack, pipeline.eventBus), 'Arn'] },
        Condition: {
          StringEquals: { 'events:source': 'sluice', 'events:detail-type': 'Backfill Requested' },
        },
      },
    ]);
  });
});

describe('least privilege: a customer managed key', () => {
  it('encrypts the queue, the DLQ and the state table with the given key, and grants it to the functions that use them', () => {
    // Prepare
    let key: kms.Key | undefined;
    const { stack, pipeline, template } = pipelineStack({}, (s) => {
      key = new kms.Key(s, 'DataKey', { enableKeyRotation: true });
      return { encryptionKey: key };
    });
    const keyArn = { 'Fn::GetAtt': [logicalId(stack, key as kms.Key), 'Arn'] };

    // Act
    const queues = Object.values(template.findResources('AWS::SQS::Queue'));
    const [stateTable] = Object.values(template.findResources('AWS::DynamoDB::Table')).filter(
      (table) => JSON.stringify(table).includes('TimeToLive') && table !== undefined,
    );

    // Assess
    expect(queues).toHaveLength(2);
    for (const queue of queues) expect(queue.Properties.KmsMasterKeyId).toEqual(keyArn);
    const tables = template.findResources('AWS::DynamoDB::Table');
    expect(tables[logicalId(stack, pipeline.stateTable.table)]?.Properties.SSESpecification).toEqual({
      KMSMasterKeyId: keyArn,
      SSEEnabled: true,
      SSEType: 'KMS',
    });
    expect(stateTable).toBeDefined();
    const usesKey = (rolePrefix: string, action: string) =>
      statementsOf(template, rolePrefix).some(
        (statement) =>
          actionsOf(statement).includes(action) &&
          JSON.stringify(statement.Resource) === JSON.stringify(keyArn),
      );
    expect(usesKey('BillingFetcherRole', 'kms:GenerateDataKey')).toBe(true);
    expect(usesKey('BillingWorkerRole', 'kms:Decrypt')).toBe(true);
    expect(usesKey('BillingWorkerRole', 'kms:GenerateDataKey')).toBe(true);
    expect(usesKey('BillingFailedRole', 'kms:Decrypt')).toBe(true);
    const wildcards = ['Fetcher', 'Backfill', 'Worker', 'Failed'].flatMap((name) =>
      statementsOf(template, `Billing${name}Role`)
        .flatMap(actionsOf)
        .filter((action) => action.includes('*')),
    );
    expect(wildcards).toEqual([]);
  });

  it('keeps SQS-managed encryption without a key', () => {
    // Prepare
    const { template } = pipelineStack();

    // Act
    const queues = Object.values(template.findResources('AWS::SQS::Queue'));

    // Assess
    for (const queue of queues) {
      expect(queue.Properties.SqsManagedSseEnabled).toBe(true);
      expect(queue.Properties.KmsMasterKeyId).toBeUndefined();
    }
  });
});
