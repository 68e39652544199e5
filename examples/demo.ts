// The demo behind `npm start`: a whole pipeline on this machine. It starts DynamoDB Local and the SQS
// emulator, loads a few thousand events spread over six hours, and runs the real fetcher, worker and
// failed-event handler under the local runtime, with a handler that fails now and then and one
// poison event that always fails. `npm start -- --json` prints the summary as one JSON line.
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SingleBar } from 'cli-progress';
import { type BatchStats, createWorker, EventLog } from '../lib';
import { eventLogTableDefinition } from '../lib/event-log/table';
import { assertJavaPresent, startEmulators, startLocalPipeline } from '../lib/local';
import { LocalEnvironmentError } from '../lib/local/errors';
import { EventIdGenerator } from '../lib/time/event-id';
import { positionTimeMs } from '../lib/time/position';
import { TIME_BUCKET_MS } from '../lib/time/time-bucket';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const EVENT_COUNT = 3_000;
const HOURS = 6;
const POISON = 1_234;
const EVENT_LOG_TABLE = 'sluice-demo-events';
const json = process.argv.includes('--json');

type Order = { n: number; amount: number };
type Totals = { retried: number; duplicatesSkipped: number; failedAttempts: number };

/** Fails about one event in 40 on its first attempt, and the poison event always. */
function failureOf(order: Order, attempt: number): string | undefined {
  if (order.n === POISON) return `order ${order.n} has an amount no ledger accepts`;
  if (attempt === 1 && (order.n * 7919) % 40 === 0) return `order ${order.n}: payment service timed out`;
  return undefined;
}

function say(line: string): void {
  if (!json) console.log(line);
}

async function main(): Promise<number> {
  say('Sluice demo: a whole pipeline on this machine\n');
  // History first: events with past ids must be in the log before a pipeline reads it, or a live
  // reader would already have passed them (docs/late-writes.md). So the demo starts the emulators
  // itself, loads six hours of events, then starts the pipeline against them.
  assertJavaPresent();
  const emulators = await startEmulators();
  const { endpoints, pids } = emulators;
  try {
    say(
      `Emulators: DynamoDB Local ${endpoints.dynamodb} (pid ${pids[0]}), SQS ${endpoints.sqs} (pid ${pids[1]})`,
    );
    const committed = await loadHistory(endpoints.dynamodb);
    say(`Committed ${committed.length} events spread over ${HOURS} hours.\n`);
    return await runPipeline(endpoints.dynamodb, endpoints.sqs, committed);
  } finally {
    await emulators.stop();
  }
}

async function runPipeline(dynamodb: string, sqs: string, committed: readonly string[]): Promise<number> {
  const delivered = new Set<string>();
  const deadLettered = new Set<string>();
  const totals: Totals = { retried: 0, duplicatesSkipped: 0, failedAttempts: 0 };
  const local = await startLocalPipeline({
    endpoints: { dynamodb, sqs },
    eventLogTable: EVENT_LOG_TABLE,
    pipeline: { name: 'demo', stream: 'orders', start: 'earliest', maxEventsPerMessage: 25 },
    workerFactory: (resources) => {
      const worker = createWorker<Order>(
        {
          pipeline: resources.pipeline,
          stateTable: resources.stateTable,
          queueUrl: resources.queueUrl,
          deadLetterQueueUrl: resources.deadLetterQueueUrl,
          sqs: resources.sqs,
          dynamodb: resources.dynamodb,
          maxRedeliveryCount: 3,
          backoff: { baseDelaySeconds: 1, maxDelaySeconds: 2 },
          handle: async (event) => {
            const failure = failureOf(event.data, event.attempt);
            if (failure) throw new Error(failure);
            delivered.add(event.id);
          },
        },
        {},
      );
      return async (event, context) => {
        const outcome = await worker.processEvent(event, context);
        add(totals, outcome.stats);
        return { batchItemFailures: outcome.batchItemFailures };
      };
    },
    failedHandler: (failures) => {
      for (const failure of failures) deadLettered.add(failure.event.id);
    },
    batchSize: 10,
    maximumConcurrency: 4,
    workerTimeoutSeconds: 10,
    maxRedeliveryCount: 3,
    fetcherIntervalMs: 1_000,
    fetcherTimeoutSeconds: 5,
    onError: (error, details) => say(`  ${details.function}: ${(error as Error).message}`),
  });
  const started = Date.now();
  const bar =
    !json && process.stdout.isTTY
      ? new SingleBar({
          format:
            'handled {value}/{total} | {rate} events/s | lag {lag} | retries {retries} | dead-lettered {dead}',
          hideCursor: true,
        })
      : undefined;
  bar?.start(committed.length, 0, { rate: 0, lag: '-', retries: 0, dead: 0 });
  const report = async () => {
    const state = await local.store.getState('demo');
    const lag = state ? `${Math.round((Date.now() - positionTimeMs(state.position)) / 1000)} s` : '-';
    const rate = Math.round(delivered.size / Math.max(0.001, (Date.now() - started) / 1000));
    const payload = { rate, lag, retries: totals.retried, dead: deadLettered.size };
    if (bar) bar.update(delivered.size + deadLettered.size, payload);
    else {
      say(
        `handled ${delivered.size + deadLettered.size}/${committed.length} | ${rate} events/s | lag ${lag} | retries ${payload.retries} | dead-lettered ${payload.dead}`,
      );
    }
  };
  const progress = setInterval(() => void report().catch(() => undefined), bar ? 250 : 2_000);
  let idle = true;
  try {
    await local.waitForIdle({ timeoutMs: 180_000 });
  } catch (error) {
    idle = false;
    say(`\nThe pipeline did not go idle: ${(error as Error).message}`);
  } finally {
    clearInterval(progress);
    bar?.update(delivered.size + deadLettered.size);
    bar?.stop();
    await local.stop();
  }

  const seconds = (Date.now() - started) / 1000;
  const lost = committed.filter((id) => !delivered.has(id) && !deadLettered.has(id)).length;
  const summary = {
    committed: committed.length,
    delivered: delivered.size,
    deadLettered: deadLettered.size,
    lost,
    duplicatesSkipped: totals.duplicatesSkipped,
    retried: totals.retried,
    failedAttempts: totals.failedAttempts,
    eventsPerSecond: Math.round(delivered.size / seconds),
    seconds: Math.round(seconds * 10) / 10,
    idle,
  };
  if (json) console.log(JSON.stringify(summary));
  say(`\nDone in ${summary.seconds} s:`);
  say(`  committed       ${summary.committed}`);
  say(`  delivered       ${summary.delivered} (each handled successfully once)`);
  say(`  dead-lettered   ${summary.deadLettered} (handed to the failed handler with its last error)`);
  say(`  lost            ${summary.lost}`);
  say(`  retried         ${summary.retried} messages (${summary.failedAttempts} failed attempts)`);
  say(
    `  duplicates      ${summary.duplicatesSkipped} events skipped as already handled (redeliveries, re-sends)`,
  );
  say(`  throughput      ${summary.eventsPerSecond} events/s end to end`);
  return lost > 0 || !idle ? 1 : 0;
}

/** Creates the event log table and commits six hours of orders, the producer's clock walking forward. */
async function loadHistory(endpoint: string): Promise<string[]> {
  const client = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  await client.send(new CreateTableCommand(eventLogTableDefinition(EVENT_LOG_TABLE)));
  let producerClock = Math.floor((Date.now() - HOURS * TIME_BUCKET_MS) / TIME_BUCKET_MS) * TIME_BUCKET_MS;
  const producer = new EventLog({
    tableName: EVENT_LOG_TABLE,
    client,
    idGenerator: new EventIdGenerator({
      now: () => (producerClock += (HOURS * TIME_BUCKET_MS) / EVENT_COUNT),
    }),
  });
  const ids: string[] = [];
  for (let start = 0; start < EVENT_COUNT; start += 100) {
    const batch = Array.from({ length: 100 }, (_, offset) => ({
      stream: 'orders',
      type: 'order.placed',
      data: { n: start + offset, amount: ((start + offset) % 97) + 0.5 },
    }));
    ids.push(...(await producer.commit(batch)));
  }
  client.destroy();
  return ids;
}

function add(totals: Totals, stats: BatchStats): void {
  totals.retried += stats.retried;
  totals.duplicatesSkipped += stats.duplicatesSkipped;
  totals.failedAttempts += stats.failed;
}

main()
  .then((code) => {
    process.exitCode = code;
  })
  .catch((error: unknown) => {
    if (error instanceof LocalEnvironmentError && error.code === 'java-missing') {
      // The demo needs Java for DynamoDB Local: say how to get it rather than fail.
      console.log(json ? JSON.stringify({ error: error.message }) : error.message);
      return;
    }
    console.error(error);
    process.exitCode = 1;
  });
