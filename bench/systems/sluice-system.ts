import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createWorker, EventLog } from '../../lib';
import { type LocalPipelineOptions, startLocalPipeline } from '../../lib/local';
import { awsClients } from '../../lib/local/aws-clients';
import { PIPELINE_LATENCY, type PipelineLatency } from '../../lib/settings/latency';
import { eventIdToEpochMs } from '../../lib/time/event-id';
import { mergeCounts, splitEventSourceCalls } from '../cost/end-to-end';
import { RequestMeter } from '../meter/request-meter';
import { BENCH_STREAM, type BenchEventData, benchEvent } from '../support/bench-events';
import { localClientConfig } from '../support/endpoints';
import { HandledTracker } from '../support/handled-tracker';
import { produceLive } from '../support/live-producer';
import type { SystemConfig, SystemReport } from '../support/system-process';
import { waitFor } from '../support/wait-for';

/** What differs between the Sluice systems; everything else is the local runtime's default. */
export interface SluiceVariant {
  /** @default the pipeline default (100, packed up to just under 64 KB) */
  readonly maxEventsPerMessage?: number;
  /** As `EventPipeline`'s. @default 'balanced' (wake on commit, the default settle window and poll) */
  readonly latency?: PipelineLatency;
}

/**
 * Sluice as a user runs it: the real fetcher, worker and failed-event function under the local
 * runtime (a fetcher schedule and Lambda's SQS event source rules), with default settings except
 * what `variant` names. Every client of the runtime is metered from the moment the worker is built,
 * which is after the tables, queues and pipeline record are set up and before the fetcher first runs;
 * the clock starts when the set-up has ended, which is when the fetcher's first run starts.
 * The worker has clients of its own, as it would in a Lambda function of its own, metered apart, so
 * that the report splits the bill into the pump's part and the handling's part.
 *
 * @example
 * ```ts
 * runSystemProcess((config) => runSluice(config, { maxEventsPerMessage: 1 }));
 * ```
 */
export async function runSluice(
  config: SystemConfig,
  variant: SluiceVariant = {},
): Promise<Omit<SystemReport, 'peakRssBytes'>> {
  const meter = new RequestMeter();
  const workerMeter = new RequestMeter();
  const workerClients = awsClients({ endpoints: config.endpoints });
  workerMeter.attach(workerClients.sqs);
  workerMeter.attach(workerClients.dynamodb);
  const tracker = new HandledTracker({ backlog: config.events });
  const options: LocalPipelineOptions = {
    endpoints: config.endpoints,
    eventLogTable: config.eventLogTable,
    stateTable: `${config.prefix}-state`,
    queueName: `${config.prefix}-queue`,
    pipeline: {
      name: config.prefix,
      stream: BENCH_STREAM,
      start: 'earliest',
      ...(variant.maxEventsPerMessage === undefined
        ? {}
        : { maxEventsPerMessage: variant.maxEventsPerMessage }),
    },
    latency: variant.latency ?? PIPELINE_LATENCY.balanced,
    workerFactory: (resources) => {
      // These two clients are the ones the fetcher, the event source mappings and the failed-event
      // function use.
      meter.attach(resources.sqs);
      meter.attach(resources.dynamodb);
      const worker = createWorker<BenchEventData>({
        pipeline: resources.pipeline,
        stateTable: resources.stateTable,
        queueUrl: resources.queueUrl,
        deadLetterQueueUrl: resources.deadLetterQueueUrl,
        sqs: workerClients.sqs,
        dynamodb: workerClients.dynamodb,
        handle: (event) => tracker.handled(event.data.n, eventIdToEpochMs(event.id)),
      });
      return async (event, context) => ({
        batchItemFailures: (await worker.processEvent(event, context)).batchItemFailures,
      });
    },
    onError: (error, details) => console.error(`${details.function}:`, error),
  };
  const local = await startLocalPipeline(options);
  // The clock starts once the runtime is set up, as every other system's does after its own set-up:
  // the last step of the set-up starts the fetcher's first run, so nothing of the pipeline's work is
  // left out, and starting the table stream's reader (which comes after the worker is built) is.
  const startedAt = performance.now();
  const producerClient = new DynamoDBClient(localClientConfig(config.endpoints.dynamodb));
  try {
    await tracker.backlogHandled;
    // Done means acknowledged: the last invocations' marker writes and deletes are part of the work.
    await waitFor(() => {
      const worker = local.stats().worker;
      return worker.inFlight === 0 && worker.deleted >= worker.records;
    });
    const elapsedMs = performance.now() - startedAt;
    const runtimeCounts = meter.counts();
    const workerCounts = workerMeter.counts();
    const logTableUnits = meter.unitsByTable()[config.eventLogTable] ?? { readUnits: 0, writeUnits: 0 };
    const stats = local.stats();
    const lambdaInvocations = stats.fetcher.invocations + stats.worker.invocations + stats.failed.invocations;
    meter.pause();
    workerMeter.pause();
    const { pump, eventSource } = splitEventSourceCalls(runtimeCounts);

    // Live: a producer of its own commits one event at a time while the pipeline runs, under the
    // stream's stored timing.
    const producer = new EventLog({ tableName: config.eventLogTable, client: producerClient });
    const sent = await produceLive(config.live, (n) => producer.commit(benchEvent(n)));
    await tracker.liveHandled(sent, 30_000);
    const latenciesMs = tracker.latenciesMs();
    return {
      events: config.events,
      elapsedMs,
      counts: mergeCounts(runtimeCounts, workerCounts),
      lambdaInvocations,
      parts: {
        pump,
        pumpInvocations: stats.fetcher.invocations,
        handle: mergeCounts(eventSource, workerCounts),
        handleInvocations: stats.worker.invocations + stats.failed.invocations,
      },
      logTableUnits,
      latenciesMs,
      liveMissing: sent - latenciesMs.length,
      notes: [
        `fetcher runs ${stats.fetcher.invocations}, worker invocations ${stats.worker.invocations} (${stats.worker.records} messages), failed-event invocations ${stats.failed.invocations}`,
      ],
    };
  } finally {
    producerClient.destroy();
    await local.stop();
    workerClients.sqs.destroy();
    workerClients.dynamodb.destroy();
  }
}
