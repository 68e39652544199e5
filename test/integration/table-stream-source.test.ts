import {
  CreateTableCommand,
  DeleteTableCommand,
  type DynamoDBClient,
  PutItemCommand,
  UpdateTableCommand,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient, type _Record as StreamRecord } from '@aws-sdk/client-dynamodb-streams';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { MissingResourceError } from '../../lib/errors';
import { eventLogTableDefinition } from '../../lib/event-log/table';
import { pause } from '../../lib/local/runtime/pause';
import { TableStreamSource } from '../../lib/local/runtime/table-stream-source';
import { dynamodbClient, uniqueName } from '../support/aws';

const KEYS_ONLY = { StreamEnabled: true, StreamViewType: 'KEYS_ONLY' } as const;

function streamsClient(): DynamoDBStreamsClient {
  return new DynamoDBStreamsClient({
    endpoint: inject('dynamodbEndpoint'),
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
}

async function createTable(dynamodb: DynamoDBClient, tableName: string): Promise<void> {
  await dynamodb.send(
    new CreateTableCommand({ ...eventLogTableDefinition(tableName), StreamSpecification: KEYS_ONLY }),
  );
}

async function put(dynamodb: DynamoDBClient, tableName: string, sk: string): Promise<void> {
  await dynamodb.send(
    new PutItemCommand({
      TableName: tableName,
      Item: { pk: { S: 'e#orders#20261205090000#0' }, sk: { S: sk } },
    }),
  );
}

async function until(condition: () => boolean, timeoutMs = 10_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !condition()) await pause(50);
  return condition();
}

const sources: TableStreamSource[] = [];
afterEach(async () => {
  await Promise.all(sources.splice(0).map((source) => source.stop()));
});

function keysOf(records: readonly StreamRecord[]): string[] {
  return records.map((record) => record.dynamodb?.Keys?.sk?.S ?? '');
}

describe('TableStreamSource', () => {
  it('hands over the records committed after it started, not those before', async () => {
    // Prepare
    const dynamodb = dynamodbClient();
    const tableName = uniqueName('stream');
    await createTable(dynamodb, tableName);
    await put(dynamodb, tableName, 'before');
    const seen: string[] = [];
    const source = new TableStreamSource({
      dynamodb,
      streams: streamsClient(),
      tableName,
      handler: (records) => void seen.push(...keysOf(records)),
    });
    sources.push(source);
    await source.start();

    // Act
    await put(dynamodb, tableName, 'after-1');
    await put(dynamodb, tableName, 'after-2');

    // Assess
    expect(await until(() => seen.length >= 2)).toBe(true);
    expect(seen).toEqual(['after-1', 'after-2']);
  });

  it('carries on after the last record when its shard iterator expires', async () => {
    // Prepare: the streams client answers one GetRecords with an expired iterator, as after 15 minutes.
    const dynamodb = dynamodbClient();
    const tableName = uniqueName('stream');
    await createTable(dynamodb, tableName);
    const streams = streamsClient();
    let expireNext = false;
    streams.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'GetRecordsCommand' && expireNext) {
          expireNext = false;
          throw Object.assign(new Error('Iterator expired'), { name: 'ExpiredIteratorException' });
        }
        return next(args);
      },
      { step: 'initialize' },
    );
    const seen: string[] = [];
    const source = new TableStreamSource({
      dynamodb,
      streams,
      tableName,
      handler: (records) => void seen.push(...keysOf(records)),
    });
    sources.push(source);
    await source.start();
    await put(dynamodb, tableName, 'first');
    expect(await until(() => seen.length >= 1)).toBe(true);

    // Act
    expireNext = true;
    await put(dynamodb, tableName, 'second');

    // Assess: nothing read twice, nothing missed.
    expect(await until(() => seen.length >= 2)).toBe(true);
    await pause(500);
    expect(seen).toEqual(['first', 'second']);
    expect(source.stats().expiredIterators).toBe(1);
  });

  it('finds the stream again when the table goes away and comes back, as after an emulator restart', async () => {
    // Prepare
    const dynamodb = dynamodbClient();
    const tableName = uniqueName('stream');
    await createTable(dynamodb, tableName);
    const seen: string[] = [];
    const errors: unknown[] = [];
    const source = new TableStreamSource({
      dynamodb,
      streams: streamsClient(),
      tableName,
      pollIntervalMs: 50,
      shardRefreshMs: 200,
      handler: (records) => void seen.push(...keysOf(records)),
      onError: (error) => void errors.push(error),
    });
    sources.push(source);
    await source.start();

    // Act
    await dynamodb.send(new DeleteTableCommand({ TableName: tableName }));
    expect(await until(() => errors.length > 0)).toBe(true);
    await createTable(dynamodb, tableName);
    await pause(300);
    await put(dynamodb, tableName, 'reborn');

    // Assess
    expect(await until(() => seen.includes('reborn'), 15_000)).toBe(true);
    expect(source.stats().reattached).toBe(1);
  });

  it('reports a table without a stream by name, and reads the stream once the table has one', async () => {
    // Prepare
    const dynamodb = dynamodbClient();
    const tableName = uniqueName('stream');
    await dynamodb.send(new CreateTableCommand(eventLogTableDefinition(tableName)));
    const seen: string[] = [];
    const errors: unknown[] = [];
    const source = new TableStreamSource({
      dynamodb,
      streams: streamsClient(),
      tableName,
      pollIntervalMs: 100,
      handler: (records) => void seen.push(...keysOf(records)),
      onError: (error) => void errors.push(error),
    });
    sources.push(source);

    // Act
    await source.start();
    await dynamodb.send(new UpdateTableCommand({ TableName: tableName, StreamSpecification: KEYS_ONLY }));
    expect(await until(() => source.stats().shards > 0)).toBe(true);
    await put(dynamodb, tableName, 'after-stream');

    // Assess
    expect(errors[0]).toMatchObject({ constructor: MissingResourceError, resource: 'table stream' });
    expect(errors[0]).toMatchObject({ tableName });
    expect(await until(() => seen.includes('after-stream'))).toBe(true);
  });

  it('fails when given no handler or a poll interval out of range', () => {
    expect(
      () =>
        new TableStreamSource({
          dynamodb: dynamodbClient(),
          streams: streamsClient(),
          tableName: 't',
          handler: undefined as never,
          pollIntervalMs: 1,
        }),
    ).toThrow(/handler must be a function.*pollIntervalMs must be between 10 and 600000 \(given 1\)/);
  });
});
