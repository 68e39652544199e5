import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { SluiceError } from '../../errors';
import { EventLog } from '../../event-log/event-log';
import { FailureStore } from '../../failed/failure-store';
import { LATENCY_PROFILES, type LatencyProfile } from '../../settings/latency';
import { DEFAULT_MAX_REDELIVERY_COUNT, maxReceiveCountFor } from '../../settings/redelivery';
import { visibilityTimeoutSecondsFor } from '../../settings/visibility';
import { PipelineStore } from '../../state/pipeline-store';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../aws-clients';
import { CleanupStack } from './cleanup-stack';
import { LocalEventBus } from './event-bus';
import { fetcherSchedule, LocalFetcherRuns } from './fetcher-runs';
import { pipelineBusy, waitUntilQuiet } from './idle-wait';
import { emulatorsUnlessGiven, localClients } from './local-connection';
import { type LocalFunctions, loadFunctions } from './local-functions';
import { validateLocalPipelineOptions } from './local-pipeline-options';
import type { LocalPipeline, LocalPipelineOptions, LocalPipelineResources } from './local-pipeline-types';
import { createQueues, ensureTable } from './local-resources';
import { SqsEventSourceMapping } from './sqs-event-source';
import { WakeOnCommit } from './wake-on-commit';

type OnError = NonNullable<LocalPipelineOptions['onError']>;

/** Where a local pipeline works, and as whom. */
interface Connection {
  readonly endpoints: { readonly dynamodb?: string; readonly sqs?: string };
  readonly pids: readonly number[];
  readonly onAws: boolean;
  readonly region: string | undefined;
  readonly credentials: LocalPipelineOptions['credentials'] | undefined;
  readonly dynamodb: DynamoDBClient;
  readonly sqs: SQSClient;
}

/** What a local pipeline made before anything runs. */
interface Provisioned {
  readonly resources: LocalPipelineResources;
  readonly store: PipelineStore;
  readonly failures: FailureStore;
  readonly maxRedeliveryCount: number;
}

/**
 * Runs a pipeline on one machine with the event-source behaviour of AWS around the same code Lambda
 * runs: commits wake the fetcher through the event log table's stream (see `wakeOnCommit`), a
 * fixed-rate schedule runs it as a safety net, an SQS event source mapping drives the worker, a
 * second one drives the failed-event function from the DLQ, and an in-process bus stands in for
 * EventBridge. It creates what it needs (tables if missing, the queue with its DLQ, the pipeline
 * record), and by default starts DynamoDB Local and the SQS emulator and stops them on `stop()`.
 *
 * @throws `ValidationError` naming every bad option, before anything starts.
 *
 * @example
 * ```ts
 * const local = await startLocalPipeline({
 *   pipeline: { name: 'billing', stream: 'orders', start: 'earliest' },
 *   workerModule: { path: 'functions/billing-worker.ts' },
 *   failedHandler: async (failures) => console.error(failures),
 *   fetcherIntervalMs: 1_000,
 * });
 * await local.eventLog.commit({ stream: 'orders', type: 'order.paid', data: { orderId: 'o-1' } });
 * await local.waitForIdle();
 * await local.stop();
 * ```
 */
export async function startLocalPipeline(options: LocalPipelineOptions): Promise<LocalPipeline> {
  validateLocalPipelineOptions(options);
  const onError: OnError =
    options.onError ?? ((error, details) => console.error(`${details.function} failed`, error));
  const cleanups = new CleanupStack((error) => onError(error, { function: 'stop' }));
  try {
    const connection = await connect(options, cleanups);
    const profile = options.latency === undefined ? undefined : LATENCY_PROFILES[options.latency];
    const wakeOnCommit = options.wakeOnCommit ?? profile?.wakesOnCommit ?? !connection.onAws;
    const provisioned = await provision(options, connection, wakeOnCommit, profile);
    const functions = await loadFunctions(
      options,
      provisioned.resources,
      provisioned.failures,
      { ...connection, maxRedeliveryCount: provisioned.maxRedeliveryCount },
      cleanups,
    );
    return await run(options, connection, provisioned, functions, {
      wakeOnCommit,
      pollIntervalMs: options.fetcherPollIntervalMs ?? profile?.pollIntervalMs ?? 1_000,
      onError,
      cleanups,
    });
  } catch (error) {
    await cleanups.runAll();
    throw error;
  }
}

/** The emulators (started unless endpoints are given, none on AWS) and the clients on them. */
async function connect(options: LocalPipelineOptions, cleanups: CleanupStack): Promise<Connection> {
  const onAws = options.endpoints === 'aws';
  const { endpoints, pids } =
    options.endpoints === 'aws'
      ? { endpoints: {}, pids: [] }
      : await emulatorsUnlessGiven(options.endpoints, cleanups);
  const region = options.region ?? (onAws ? undefined : LOCAL_REGION);
  const credentials = options.credentials ?? (onAws ? undefined : LOCAL_CREDENTIALS);
  const { dynamodb, sqs } = localClients(
    { endpoints, ...(region ? { region } : {}), ...(credentials ? { credentials } : {}) },
    cleanups,
  );
  return { endpoints, pids, onAws, region, credentials, dynamodb, sqs };
}

/** The tables and queues (created if missing), the event log and stores on them, the pipeline record. */
async function provision(
  options: LocalPipelineOptions,
  { dynamodb, sqs }: Connection,
  wakeOnCommit: boolean,
  profile: LatencyProfile | undefined,
): Promise<Provisioned> {
  const eventLogTable = options.eventLogTable ?? 'sluice-events';
  const stateTable = options.stateTable ?? 'sluice-state';
  await Promise.all([
    ensureTable(dynamodb, eventLogTable, { stream: wakeOnCommit }),
    ensureTable(dynamodb, stateTable, { stream: false }),
  ]);
  const fifo = options.pipeline.fifo ?? false;
  const queueName = options.queueName ?? `sluice-${options.pipeline.name}`;
  const maxRedeliveryCount = options.maxRedeliveryCount ?? DEFAULT_MAX_REDELIVERY_COUNT;
  const queues = await createQueues(sqs, {
    name: queueName.replace(/\.fifo$/, ''),
    fifo,
    visibilityTimeoutSeconds: visibilityTimeoutSecondsFor(options.workerTimeoutSeconds ?? 30),
    // As deployed: on a FIFO queue, the messages of a batch wait out each other's attempts.
    maxReceiveCount: maxReceiveCountFor(maxRedeliveryCount, fifo ? (options.batchSize ?? 10) : 1),
  });
  const eventLog = new EventLog({
    tableName: eventLogTable,
    client: dynamodb,
    // A settle window given alone gets a commit deadline of two thirds of it.
    ...(options.settleWindowMs !== undefined
      ? { settleWindowMs: options.settleWindowMs }
      : (profile?.streamTiming ?? {})),
  });
  const store = new PipelineStore({ tableName: stateTable, client: dynamodb });
  const failures = new FailureStore({ tableName: stateTable, client: dynamodb });
  await store.putPipeline({ ...options.pipeline, queueUrl: queues.queueUrl });
  return {
    resources: {
      pipeline: options.pipeline.name,
      ...queues,
      eventLogTable,
      stateTable,
      sqs,
      dynamodb,
      eventLog,
    },
    store,
    failures,
    maxRedeliveryCount,
  };
}

/**
 * Starts the event sources, the wake-up path and the fetcher's schedule, each stop pushed onto
 * `cleanups` so that a stop undoes them in reverse; returns the running pipeline.
 */
async function run(
  options: LocalPipelineOptions,
  connection: Connection,
  { resources, store, failures }: Provisioned,
  functions: LocalFunctions,
  settings: {
    readonly wakeOnCommit: boolean;
    readonly pollIntervalMs: number;
    readonly onError: OnError;
    readonly cleanups: CleanupStack;
  },
): Promise<LocalPipeline> {
  const { onError, cleanups } = settings;
  const { eventLog, sqs } = resources;
  const region = connection.region;
  const fetcherRuns = new LocalFetcherRuns({
    store,
    eventLog,
    sqs,
    pipeline: options.pipeline.name,
    pollIntervalMs: settings.pollIntervalMs,
    timeoutMs: (options.fetcherTimeoutSeconds ?? 60) * 1000,
    untilIdle: settings.wakeOnCommit,
    onError: (error) => onError(error, { function: 'fetcher' }),
  });
  const schedule = fetcherSchedule(fetcherRuns, {
    intervalMs: options.fetcherIntervalMs ?? 60_000,
    ...(region ? { region } : {}),
    onError: (error) => onError(error, { function: 'fetcher' }),
  });
  const wake = settings.wakeOnCommit
    ? new WakeOnCommit({
        runs: fetcherRuns,
        eventLog,
        dynamodb: connection.dynamodb,
        tableName: resources.eventLogTable,
        pipeline: options.pipeline,
        batchingWindowMs: (options.wakeBatchingWindowSeconds ?? 0) * 1000,
        ...(connection.endpoints.dynamodb ? { endpoint: connection.endpoints.dynamodb } : {}),
        ...(region ? { region } : {}),
        ...(connection.credentials ? { credentials: connection.credentials } : {}),
        onError,
      })
    : undefined;
  const { workerMapping, failedMapping } = eventSources(options, resources, functions, onError);
  const bus = new LocalEventBus({
    ...(region ? { region } : {}),
    onError: (error, details) => onError(error, { function: `rule ${details.rule}` }),
  });

  await workerMapping.start();
  cleanups.push(() => workerMapping.stop());
  await failedMapping.start();
  cleanups.push(() => failedMapping.stop());
  cleanups.push(() => bus.idle());
  if (wake) {
    // Before the schedule's first run: that run reads what was committed before, the stream what follows.
    await wake.start();
    cleanups.push(() => wake.stopReading());
  }
  schedule.start();
  cleanups.push(async () => {
    fetcherRuns.beginStop();
    wake?.clearTimers();
    await schedule.stop();
    await wake?.drained();
    await fetcherRuns.finished();
  });

  return {
    eventLog,
    store,
    failures,
    bus,
    queueUrl: resources.queueUrl,
    deadLetterQueueUrl: resources.deadLetterQueueUrl,
    endpoints: connection.endpoints,
    pids: connection.pids,
    waitForIdle: ({ timeoutMs = 60_000 } = {}) =>
      waitUntilQuiet(
        () =>
          pipelineBusy({
            pipeline: options.pipeline,
            worker: workerMapping.stats(),
            failed: failedMapping.stats(),
            store,
            eventLog,
            sqs,
            queueUrl: resources.queueUrl,
            deadLetterQueueUrl: resources.deadLetterQueueUrl,
          }),
        timeoutMs,
        (busy) =>
          new SluiceError(
            `pipeline ${options.pipeline.name} was not idle after ${timeoutMs} ms: ${busy ?? 'it was idle only briefly'}`,
          ),
      ),
    stats: () => {
      const lastRun = fetcherRuns.lastRun;
      return {
        fetcher: { ...schedule.stats(), ...(lastRun ? { lastRun } : {}) },
        worker: workerMapping.stats(),
        failed: failedMapping.stats(),
        bus: bus.stats(),
        ...(wake ? { wake: wake.stats() } : {}),
      };
    },
    stop: () => cleanups.runAll(),
  };
}

/** The event source mappings: the worker's on the queue, the failed-event function's on the DLQ. */
function eventSources(
  options: LocalPipelineOptions,
  resources: LocalPipelineResources,
  functions: LocalFunctions,
  onError: OnError,
): { workerMapping: SqsEventSourceMapping; failedMapping: SqsEventSourceMapping } {
  const workerMapping = new SqsEventSourceMapping({
    sqs: resources.sqs,
    queueUrl: resources.queueUrl,
    queueArn: resources.queueArn,
    handler: functions.worker,
    functionName: 'sluice-worker',
    functionTimeoutSeconds: options.workerTimeoutSeconds ?? 30,
    ...(options.batchSize !== undefined ? { batchSize: options.batchSize } : {}),
    ...(options.maximumBatchingWindowSeconds !== undefined
      ? { maximumBatchingWindowSeconds: options.maximumBatchingWindowSeconds }
      : {}),
    ...(options.maximumConcurrency !== undefined ? { maximumConcurrency: options.maximumConcurrency } : {}),
    onError: (error) => onError(error, { function: 'worker' }),
  });
  const failedMapping = new SqsEventSourceMapping({
    sqs: resources.sqs,
    queueUrl: resources.deadLetterQueueUrl,
    queueArn: resources.deadLetterQueueArn,
    handler: functions.failedFunction,
    functionName: 'sluice-failed',
    functionTimeoutSeconds: 60,
    maximumConcurrency: 2,
    onError: (error) => onError(error, { function: 'failed-event function' }),
  });
  return { workerMapping, failedMapping };
}
