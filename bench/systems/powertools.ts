// What a team would build with Powertools instead: a pump from the log sending one event per message
// (SendMessageBatch of ten, a checkpoint per page), Lambda's SQS event source with its defaults
// around a BatchProcessor with processPartialResponse, and Powertools Idempotency per event.
import { CreateTableCommand, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  SendMessageBatchCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { EventLog, type StoredEvent } from '../../lib';
import { eventLogTableDefinition } from '../../lib/event-log/table';
import { SqsEventSourceMapping } from '../../lib/local';
import { eventIdToEpochMs } from '../../lib/time/event-id';
import { RequestMeter } from '../meter/request-meter';
import { type BenchEventData, benchEvent } from '../support/bench-events';
import { localClientConfig } from '../support/endpoints';
import { HandledTracker } from '../support/handled-tracker';
import { produceLive } from '../support/live-producer';
import { runSystemProcess, type SystemConfig, type SystemReport } from '../support/system-process';
import { waitFor } from '../support/wait-for';
import { startLogPump } from './log-pump';
import { createPowertoolsWorker } from './powertools-worker';

const SENDS_IN_FLIGHT = 10;

async function runPowertools(config: SystemConfig): Promise<Omit<SystemReport, 'peakRssBytes'>> {
  const meter = new RequestMeter();
  const sqs = meter.attach(new SQSClient(localClientConfig(config.endpoints.sqs)));
  const dynamodb = meter.attach(new DynamoDBClient(localClientConfig(config.endpoints.dynamodb)));
  const producerClient = new DynamoDBClient(localClientConfig(config.endpoints.dynamodb));
  const stateTable = `${config.prefix}-state`;
  const idempotencyTable = `${config.prefix}-idempotency`;
  meter.pause();
  await dynamodb.send(new CreateTableCommand(eventLogTableDefinition(stateTable)));
  await dynamodb.send(
    new CreateTableCommand({
      TableName: idempotencyTable,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
    }),
  );
  const { QueueUrl: queueUrl = '' } = await sqs.send(
    new CreateQueueCommand({ QueueName: `${config.prefix}-queue`, Attributes: { VisibilityTimeout: '180' } }),
  );
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }),
  );
  meter.resume();

  const tracker = new HandledTracker({ backlog: config.events });
  const mapping = new SqsEventSourceMapping({
    sqs,
    queueUrl,
    ...(Attributes?.QueueArn ? { queueArn: Attributes.QueueArn } : {}),
    functionName: 'powertools-worker',
    handler: createPowertoolsWorker<StoredEvent<BenchEventData>>({
      tableName: idempotencyTable,
      client: dynamodb,
      handle: (event) => tracker.handled(event.data.n, eventIdToEpochMs(event.id)),
    }) as never,
    onError: (error) => console.error('worker:', error),
  });
  const startedAt = performance.now();
  await mapping.start();
  const pump = startLogPump(new EventLog({ tableName: config.eventLogTable, client: dynamodb }), {
    pageSize: 500,
    onPage: async (events, position) => {
      const batches: (typeof events)[] = [];
      for (let start = 0; start < events.length; start += 10) batches.push(events.slice(start, start + 10));
      for (let start = 0; start < batches.length; start += SENDS_IN_FLIGHT) {
        await Promise.all(
          batches.slice(start, start + SENDS_IN_FLIGHT).map((batch) =>
            sqs.send(
              new SendMessageBatchCommand({
                QueueUrl: queueUrl,
                Entries: batch.map((event, index) => ({
                  Id: String(index),
                  MessageBody: JSON.stringify(event),
                })),
              }),
            ),
          ),
        );
      }
      await dynamodb.send(
        new PutItemCommand({
          TableName: stateTable,
          Item: {
            pk: { S: `checkpoint#${config.prefix}` },
            sk: { S: '-' },
            position: { S: JSON.stringify(position) },
          },
        }),
      );
    },
    onError: (error) => console.error('pump:', error),
  });

  try {
    await tracker.backlogHandled;
    await waitFor(() => {
      const stats = mapping.stats();
      return stats.inFlight === 0 && stats.deleted >= stats.records;
    });
    const elapsedMs = performance.now() - startedAt;
    const counts = meter.counts();
    const stats = mapping.stats();
    meter.pause();
    const producer = new EventLog({ tableName: config.eventLogTable, client: producerClient });
    const sent = await produceLive(config.live, (n) => producer.commit(benchEvent(n)));
    await tracker.liveHandled(sent, 30_000);
    const latenciesMs = tracker.latenciesMs();
    return {
      events: config.events,
      elapsedMs,
      counts,
      // The pump modelled as one Lambda run, like Sluice's fetcher.
      lambdaInvocations: stats.invocations + 1,
      latenciesMs,
      liveMissing: sent - latenciesMs.length,
      notes: [
        `worker invocations ${stats.invocations} (${stats.records} messages), pump modelled as one Lambda run`,
      ],
    };
  } finally {
    await pump.stop();
    await mapping.stop();
    for (const client of [sqs, dynamodb, producerClient]) client.destroy();
  }
}

runSystemProcess(runPowertools);
