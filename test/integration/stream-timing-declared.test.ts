import {
  ConditionalCheckFailedException,
  GetItemCommand,
  PutItemCommand,
  type PutItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventLog as EventLogConstruct, EventPipeline } from '../../infra';
import { EXAMPLE_WORKER_ENTRY } from '../../infra/example-app';
import { ConflictError } from '../../lib/errors';
import { storeStreamTimingRequest } from '../../lib/event-log/stream-timing';
import { LOW_LATENCY_STREAM_TIMING } from '../../lib/settings/latency';
import { createStreamTable, dynamodbClient } from '../support/aws';
import { eventLogFor } from '../support/fixtures';

// `latency: 'low'` stores its stream's timing at deploy, through a custom resource that calls
// DynamoDB's PutItem. The call here is the one in the synthesized template, sent to DynamoDB Local
// with the table's name in place of its reference.

process.env.CDK_VALIDATION = 'false';

/** The PutItem the template's `Custom::AWS` resource sends on create, for `tableName`. */
function synthesizedTimingCall(tableName: string): PutItemCommandInput {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Test');
  const eventLog = new EventLogConstruct(stack, 'EventLog');
  new EventPipeline(stack, 'Billing', {
    eventLog,
    stream: 'orders',
    entry: EXAMPLE_WORKER_ENTRY,
    latency: 'low',
  });
  const resources = Object.values(Template.fromStack(stack).findResources('Custom::AWS'));
  expect(resources).toHaveLength(1);
  const join = resources[0]?.Properties.Create['Fn::Join'] as [string, (string | { Ref: string })[]];
  const tableRef = stack.getLogicalId(eventLog.table.node.defaultChild as never);
  const text = join[1]
    .map((part) => {
      if (typeof part === 'string') return part;
      expect(part).toEqual({ Ref: tableRef });
      return tableName;
    })
    .join(join[0]);
  const call = JSON.parse(text) as { service: string; action: string; parameters: PutItemCommandInput };
  expect(call).toMatchObject({ service: 'DynamoDB', action: 'PutItem' });
  return call.parameters;
}

const client = dynamodbClient();
let table: Awaited<ReturnType<typeof createStreamTable>>;
beforeAll(async () => {
  table = await createStreamTable(client);
});
afterAll(() => table.drop());

async function storedTiming(stream: string) {
  const { Item } = await client.send(
    new GetItemCommand({
      TableName: table.name,
      Key: { pk: { S: `t#${stream}` }, sk: { S: 'timing' } },
      ConsistentRead: true,
    }),
  );
  return (
    Item && {
      settleWindowMs: Number(Item.settleWindowMs?.N),
      commitDeadlineMs: Number(Item.commitDeadlineMs?.N),
    }
  );
}

describe("a stream's timing stored at deploy (latency: 'low')", () => {
  it('is stored before the first commit, and every writer that declares nothing then uses it', async () => {
    // Act: the deploy
    await client.send(new PutItemCommand(synthesizedTimingCall(table.name)));

    // Assess: stored; a writer declaring nothing commits under it, one declaring the defaults is refused
    expect(await storedTiming('orders')).toEqual({ settleWindowMs: 300, commitDeadlineMs: 200 });
    const log = eventLogFor(client, table.name);
    const id = await log.commit({ stream: 'orders', type: 'order.placed', data: {} });
    expect((await log.get('orders', id))?.id).toBe(id);
    const declaring = eventLogFor(client, table.name, { settleWindowMs: 1_500 });
    const refused = await declaring
      .commit({ stream: 'orders', type: 'order.placed', data: {} })
      .catch((error) => error);
    expect(refused).toBeInstanceOf(ConflictError);
    expect(refused).toMatchObject({
      kind: 'stream-timing',
      stream: 'orders',
      stored: LOW_LATENCY_STREAM_TIMING,
      declared: { settleWindowMs: 1_500 },
    });
  });

  it('deploys again unchanged when the stream already has the same timing', async () => {
    await client.send(new PutItemCommand(synthesizedTimingCall(table.name)));
    await client.send(new PutItemCommand(synthesizedTimingCall(table.name)));

    expect(await storedTiming('orders')).toEqual({ settleWindowMs: 300, commitDeadlineMs: 200 });
  });

  it('fails the deploy, changing nothing, when the stream already has another timing', async () => {
    // Prepare: a writer commits to the stream first, storing the defaults
    await eventLogFor(client, table.name).commit({ stream: 'payments', type: 'payment.taken', data: {} });
    expect(await storedTiming('payments')).toEqual({ settleWindowMs: 1_500, commitDeadlineMs: 1_000 });

    // Act
    const failure = await client
      .send(new PutItemCommand(storeStreamTimingRequest(table.name, 'payments', LOW_LATENCY_STREAM_TIMING)))
      .catch((error) => error);

    // Assess
    expect(failure).toBeInstanceOf(ConditionalCheckFailedException);
    expect(await storedTiming('payments')).toEqual({ settleWindowMs: 1_500, commitDeadlineMs: 1_000 });
  });
});
