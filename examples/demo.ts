// The demo behind `npm start`: runs the event log on DynamoDB Local, commits a few thousand events
// spread over several hours, and reads them back the ways a pipeline does. Needs nothing but Java.
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  EventIdGenerator,
  EventLog,
  eventLogTableDefinition,
  type Position,
  positionAtTime,
  TIME_BUCKET_MS,
} from '../lib';
import { JavaMissingError, startDynamoDbLocal } from '../lib/local';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const EVENT_COUNT = 3_000;
const HOURS = 6;
const STREAM = 'orders';
const TYPES = ['order.placed', 'order.paid', 'order.shipped'];

async function main(): Promise<void> {
  console.log('Sluice demo: the time-bucketed event log on DynamoDB Local\n');
  const dynamodbLocal = await startDynamoDbLocal();
  try {
    const client = new DynamoDBClient({
      endpoint: dynamodbLocal.endpoint,
      region: 'local',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    await client.send(new CreateTableCommand(eventLogTableDefinition('sluice-demo-events')));
    console.log(`DynamoDB Local is up on ${dynamodbLocal.endpoint} (pid ${dynamodbLocal.pid})`);

    // The producer's clock starts six hours ago and walks forward, so the events fill six hourly buckets.
    const startMs = Math.floor((Date.now() - HOURS * TIME_BUCKET_MS) / TIME_BUCKET_MS) * TIME_BUCKET_MS;
    let producerClock = startMs;
    const step = (HOURS * TIME_BUCKET_MS) / EVENT_COUNT;
    const log = new EventLog({
      tableName: 'sluice-demo-events',
      client,
      streams: { [STREAM]: { writeShards: 4, retentionSeconds: 7 * 24 * 3600 } },
      idGenerator: new EventIdGenerator({ now: () => (producerClock += step) }),
    });

    const started = performance.now();
    for (let index = 0; index < EVENT_COUNT; index += 100) {
      await log.commit(
        Array.from({ length: 100 }, (_, offset) => ({
          stream: STREAM,
          type: TYPES[(index + offset) % TYPES.length] as string,
          data: { orderId: `o-${index + offset}`, amount: ((index + offset) % 97) + 0.5 },
          partitionKey: `customer-${(index + offset) % 23}`,
        })),
      );
    }
    const commitSeconds = (performance.now() - started) / 1000;
    console.log(
      `Committed ${EVENT_COUNT} events in atomic batches of 100: ${commitSeconds.toFixed(2)} s, ${Math.round(EVENT_COUNT / commitSeconds)} events/s`,
    );

    const buckets = await log.listTimeBuckets(STREAM);
    console.log(`Time buckets of '${STREAM}': ${buckets.join(', ')}`);
    for (const type of TYPES) console.log(`  ${type}: ${await log.count(STREAM, { types: [type] })} events`);

    const halfway = new Date(startMs + (HOURS / 2) * TIME_BUCKET_MS + 30 * 60_000);
    const { events: firstAfterHalfway } = await log.range(STREAM, { from: halfway, limit: 3 });
    console.log(`\nFirst events from ${halfway.toISOString()}:`);
    for (const event of firstAfterHalfway)
      console.log(`  ${event.id}  ${event.time.toISOString()}  ${event.type}`);

    // A consumer reads after its position, page by page, as the fetcher will.
    let position: Position = positionAtTime(startMs);
    let delivered = 0;
    let pages = 0;
    const readStarted = performance.now();
    for (;;) {
      const page = await log.readAfter(STREAM, position, { limit: 500 });
      delivered += page.events.length;
      pages += 1;
      position = page.position;
      if (page.caughtUp) break;
    }
    const readSeconds = (performance.now() - readStarted) / 1000;
    console.log(
      `\nA consumer read ${delivered} events after its position in ${pages} pages: ${readSeconds.toFixed(2)} s, ${Math.round(delivered / readSeconds)} events/s`,
    );
    console.log(`It now stands at ${position.timeBucket}/${position.eventId}, the settled horizon.`);
    console.log(
      delivered === EVENT_COUNT
        ? '\nEvery committed event was read back once. Done.'
        : '\nSome events were not read back!',
    );
    client.destroy();
    if (delivered !== EVENT_COUNT) process.exitCode = 1;
  } finally {
    await dynamodbLocal.stop();
  }
}

main().catch((error: unknown) => {
  if (error instanceof JavaMissingError) {
    // The demo needs Java for DynamoDB Local; say how to get it rather than fail.
    console.log(error.message);
    return;
  }
  console.error(error);
  process.exitCode = 1;
});
