// The fetcher alone, as its Lambda runs it, paging a whole backlog into a queue nobody reads: its
// peak RSS must not grow with the backlog, since it holds one page at a time.
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import { EventLog } from '../../lib';
import { eventLogTableDefinition } from '../../lib/event-log/table';
import { Fetcher } from '../../lib/fetcher/fetcher';
import { PipelineStore } from '../../lib/state/pipeline-store';
import { BENCH_STREAM } from '../support/bench-events';
import { localClientConfig } from '../support/endpoints';
import { runSystemProcess, type SystemConfig, type SystemReport } from '../support/system-process';

async function runFetcherAlone(config: SystemConfig): Promise<Omit<SystemReport, 'peakRssBytes'>> {
  const dynamodb = new DynamoDBClient(localClientConfig(config.endpoints.dynamodb));
  const sqs = new SQSClient(localClientConfig(config.endpoints.sqs));
  const stateTable = `${config.prefix}-state`;
  await dynamodb.send(new CreateTableCommand(eventLogTableDefinition(stateTable)));
  const { QueueUrl: queueUrl = '' } = await sqs.send(
    new CreateQueueCommand({ QueueName: `${config.prefix}-queue` }),
  );
  const store = new PipelineStore({ tableName: stateTable, client: dynamodb });
  // The buffer is as large as allowed, so that backpressure never pauses the run.
  await store.putPipeline({
    name: config.prefix,
    stream: BENCH_STREAM,
    queueUrl,
    start: 'earliest',
    bufferSize: 1_000_000,
  });
  const fetcher = new Fetcher({
    store,
    source: new EventLog({ tableName: config.eventLogTable, client: dynamodb }),
    sqs,
    pipelines: [config.prefix],
  });
  const startedAt = performance.now();
  const summary = await fetcher.run({ budgetMs: 900_000, untilCaughtUp: true });
  const elapsedMs = performance.now() - startedAt;
  const run = summary.pipelines[config.prefix];
  if (run?.error) throw run.error;
  if (run?.counts.eventsSent !== config.events)
    throw new Error(`the fetcher sent ${run?.counts.eventsSent} of ${config.events} events`);
  dynamodb.destroy();
  sqs.destroy();
  return {
    events: config.events,
    elapsedMs,
    counts: {},
    lambdaInvocations: 1,
    latenciesMs: [],
    liveMissing: 0,
  };
}

runSystemProcess(runFetcherAlone);
