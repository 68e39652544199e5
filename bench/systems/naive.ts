// The naive pipeline: one SQS message per event, SendMessage, ReceiveMessage and DeleteMessage one
// at a time, and a checkpoint write after every event sent.
import { CreateTableCommand, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { EventLog, type StoredEvent } from '../../lib';
import { eventLogTableDefinition } from '../../lib/event-log/table';
import { eventIdToEpochMs } from '../../lib/time/event-id';
import { RequestMeter } from '../meter/request-meter';
import { type BenchEventData, benchEvent } from '../support/bench-events';
import { localClientConfig } from '../support/endpoints';
import { HandledTracker } from '../support/handled-tracker';
import { produceLive } from '../support/live-producer';
import { runSystemProcess, type SystemConfig, type SystemReport } from '../support/system-process';
import { waitFor } from '../support/wait-for';
import { startLogPump } from './log-pump';

async function runNaive(config: SystemConfig): Promise<Omit<SystemReport, 'peakRssBytes'>> {
  const meter = new RequestMeter();
  const sqs = meter.attach(new SQSClient(localClientConfig(config.endpoints.sqs)));
  const dynamodb = meter.attach(new DynamoDBClient(localClientConfig(config.endpoints.dynamodb)));
  const producerClient = new DynamoDBClient(localClientConfig(config.endpoints.dynamodb));
  const checkpointTable = `${config.prefix}-state`;
  meter.pause();
  await dynamodb.send(new CreateTableCommand(eventLogTableDefinition(checkpointTable)));
  const { QueueUrl: queueUrl } = await sqs.send(
    new CreateQueueCommand({ QueueName: `${config.prefix}-queue`, Attributes: { VisibilityTimeout: '180' } }),
  );
  meter.resume();

  const tracker = new HandledTracker({ backlog: config.events });
  const startedAt = performance.now();
  const pump = startLogPump(new EventLog({ tableName: config.eventLogTable, client: dynamodb }), {
    pageSize: 100,
    onPage: async (events) => {
      for (const event of events) {
        await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(event) }));
        await dynamodb.send(
          new PutItemCommand({
            TableName: checkpointTable,
            Item: { pk: { S: `checkpoint#${config.prefix}` }, sk: { S: '-' }, eventId: { S: event.id } },
          }),
        );
      }
    },
    onError: (error) => console.error('pump:', error),
  });

  let received = 0;
  let deleted = 0;
  let consuming = true;
  const stopConsuming = new AbortController();
  const consumer = (async () => {
    while (consuming) {
      try {
        const { Messages = [] } = await sqs.send(
          new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 1, WaitTimeSeconds: 20 }),
          { abortSignal: stopConsuming.signal },
        );
        for (const message of Messages) {
          received += 1;
          const event = JSON.parse(message.Body ?? '{}') as StoredEvent<BenchEventData>;
          tracker.handled(event.data.n, eventIdToEpochMs(event.id));
          await sqs.send(
            new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }),
          );
          deleted += 1;
        }
      } catch (error) {
        if (consuming) console.error('consumer:', error);
      }
    }
  })();

  try {
    await tracker.backlogHandled;
    await waitFor(() => deleted >= received);
    const elapsedMs = performance.now() - startedAt;
    const counts = meter.counts();
    // Modelled on Lambda: the consumer as a function with a batch size of one, the pump as one run.
    const lambdaInvocations = received + 1;
    meter.pause();
    const producer = new EventLog({ tableName: config.eventLogTable, client: producerClient });
    const sent = await produceLive(config.live, (n) => producer.commit(benchEvent(n)));
    await tracker.liveHandled(sent, 30_000);
    const latenciesMs = tracker.latenciesMs();
    return {
      events: config.events,
      elapsedMs,
      counts,
      lambdaInvocations,
      latenciesMs,
      liveMissing: sent - latenciesMs.length,
      notes: ['Lambda invocations modelled as one per message (batch size 1) plus one pump run'],
    };
  } finally {
    consuming = false;
    stopConsuming.abort();
    await Promise.all([pump.stop(), consumer]);
    for (const client of [sqs, dynamodb, producerClient]) client.destroy();
  }
}

runSystemProcess(runNaive);
