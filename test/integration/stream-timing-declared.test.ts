import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventLog as EventLogConstruct, EventPipeline } from '../../infra';
import { EXAMPLE_WORKER_ENTRY } from '../../infra/example-app';
import { ConflictError } from '../../lib/errors';
import {
  answerStreamTimingRequest,
  type StreamTimingResourceRequest,
} from '../../lib/event-log/stream-timing-resource';
import { LOW_LATENCY_STREAM_TIMING } from '../../lib/settings/latency';
import { createStreamTable, dynamodbClient } from '../support/aws';
import { eventLogFor } from '../support/fixtures';

// `latency: 'low'` stores its stream's timing at deploy, through a custom resource answered by the
// log's stream-timing function. The resource's properties are those of the synthesized template, with
// the table's name in place of its reference; CloudFormation's response URL is a local HTTP server.

process.env.CDK_VALIDATION = 'false';

/** The properties of the template's stream-timing resource, for `tableName`. */
function synthesizedProperties(tableName: string): Record<string, unknown> {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Test');
  const eventLog = new EventLogConstruct(stack, 'EventLog');
  new EventPipeline(stack, 'Billing', {
    eventLog,
    stream: 'orders',
    entry: EXAMPLE_WORKER_ENTRY,
    latency: 'low',
  });
  const resources = Object.values(Template.fromStack(stack).findResources('Custom::SluiceStreamTiming'));
  expect(resources).toHaveLength(1);
  const [resource] = resources as { Properties: Record<string, unknown> }[];
  const { ServiceToken: _token, ...properties } = resource?.Properties ?? {};
  expect(properties.TableName).toEqual({
    Ref: stack.getLogicalId(eventLog.table.node.defaultChild as never),
  });
  return { ...properties, TableName: tableName };
}

const client = dynamodbClient();
let table: Awaited<ReturnType<typeof createStreamTable>>;
let server: Server;
let responseUrl: string;
const answers: Record<string, unknown>[] = [];
beforeAll(async () => {
  table = await createStreamTable(client);
  server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      answers.push({
        method: request.method,
        contentType: request.headers['content-type'],
        ...JSON.parse(body),
      });
      response.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  responseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/answer`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await table.drop();
});

function request(
  requestType: StreamTimingResourceRequest['RequestType'],
  properties: Record<string, unknown>,
): StreamTimingResourceRequest {
  return {
    RequestType: requestType,
    ResponseURL: responseUrl,
    StackId: 'arn:aws:cloudformation:us-east-1:123456789012:stack/Test/1',
    RequestId: `request-${answers.length + 1}`,
    LogicalResourceId: 'EventLogStreamTimingorders',
    ResourceProperties: properties,
  };
}

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
    const outcome = await answerStreamTimingRequest(
      request('Create', synthesizedProperties(table.name)),
      client,
    );

    // Assess: answered, stored; a writer declaring nothing commits under it, one declaring the defaults is refused
    expect(outcome).toEqual({ status: 'SUCCESS' });
    expect(answers.at(-1)).toMatchObject({
      method: 'PUT',
      contentType: '',
      Status: 'SUCCESS',
      PhysicalResourceId: 'stream-timing-orders',
      RequestId: 'request-1',
      LogicalResourceId: 'EventLogStreamTimingorders',
    });
    expect(await storedTiming('orders')).toEqual({ settleWindowMs: 300, commitDeadlineMs: 200 });
    const log = eventLogFor(client, table.name);
    const id = await log.commit({ stream: 'orders', type: 'order.placed', data: {} });
    expect((await log.get('orders', id))?.id).toBe(id);
    const refused = await eventLogFor(client, table.name, { settleWindowMs: 1_500 })
      .commit({ stream: 'orders', type: 'order.placed', data: {} })
      .catch((error) => error);
    expect(refused).toBeInstanceOf(ConflictError);
    expect(refused).toMatchObject({ kind: 'stream-timing', stored: LOW_LATENCY_STREAM_TIMING });
  });

  it('deploys again, and is deleted, leaving the timing with the stream', async () => {
    const properties = synthesizedProperties(table.name);

    expect(await answerStreamTimingRequest(request('Update', properties), client)).toEqual({
      status: 'SUCCESS',
    });
    expect(await answerStreamTimingRequest(request('Delete', properties), client)).toEqual({
      status: 'SUCCESS',
    });
    expect(await storedTiming('orders')).toEqual({ settleWindowMs: 300, commitDeadlineMs: 200 });
  });

  it('fails the deploy, naming both timings and changing nothing, when the stream already has another', async () => {
    // Prepare: a writer commits to the stream first, storing the defaults
    await eventLogFor(client, table.name).commit({ stream: 'payments', type: 'payment.taken', data: {} });

    // Act
    const outcome = await answerStreamTimingRequest(
      request('Create', { ...synthesizedProperties(table.name), Stream: 'payments' }),
      client,
    );

    // Assess
    expect(outcome.status).toBe('FAILED');
    expect(outcome.reason).toContain("a stream's timing cannot be changed in place");
    expect(outcome.reason).toContain("stream 'payments' has settleWindowMs 1500 and commitDeadlineMs 1000");
    expect(outcome.reason).toContain('settleWindowMs 300 and commitDeadlineMs 200');
    expect(answers.at(-1)).toMatchObject({ Status: 'FAILED', Reason: outcome.reason });
    expect(await storedTiming('payments')).toEqual({ settleWindowMs: 1_500, commitDeadlineMs: 1_000 });
  });

  it('answers a malformed request with a failure naming each value, and a missing table with DynamoDB’s error', async () => {
    const malformed = await answerStreamTimingRequest(
      request('Create', {
        TableName: table.name,
        Stream: 'a#b',
        SettleWindowMs: '300',
        CommitDeadlineMs: '300',
      }),
      client,
    );
    const missing = await answerStreamTimingRequest(
      request('Create', { ...synthesizedProperties('no-such-table'), Stream: 'orders' }),
      client,
    );

    expect(malformed.reason).toBe(
      'invalid stream timing: Stream must be a stream name (given "a#b"); commitDeadlineMs (300) must be below settleWindowMs (300), leaving room for the clocks\' uncertainty',
    );
    expect(missing.status).toBe('FAILED');
    expect(answers.slice(-2).map((answer) => answer.Status)).toEqual(['FAILED', 'FAILED']);
  });
});
