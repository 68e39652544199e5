import { Logger } from '@aws-lambda-powertools/logger';
import {
  CreateTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  ResourceInUseException,
  UpdateTableCommand,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { CreateQueueCommand, GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { describe, SluiceError, ValidationError } from '../../errors';
import { EventLog } from '../../event-log/event-log';
import { eventLogTableDefinition } from '../../event-log/table';
import { createFailedEventFunction } from '../../failed/failed-event-function';
import { FailureStore } from '../../failed/failure-store';
import type { FailedHandler } from '../../failed/types';
import { Fetcher } from '../../fetcher/fetcher';
import { queueDepth } from '../../fetcher/queue-depth';
import type { FetcherRunSummary } from '../../fetcher/types';
import type { PipelineDefinition } from '../../pipeline/definition';
import {
  DEFAULT_MAX_REDELIVERY_COUNT,
  MAX_FIFO_BATCH_SIZE,
  maxReceiveCountFor,
  maxRedeliveryCountProblem,
} from '../../settings/redelivery';
import { WORKER_ENVIRONMENT } from '../../settings/variables';
import { visibilityTimeoutSecondsFor } from '../../settings/visibility';
import { PipelineStore } from '../../state/pipeline-store';
import { eventIdToEpochMs } from '../../time/event-id';
import { isDeliveredAt } from '../../time/position';
import { type WakeRoute, WOKEN_RUN_UNTIL_IDLE_MS } from '../../wake/wake-routes';
import { Waker } from '../../wake/waker';
import { awsClients, LOCAL_CREDENTIALS, LOCAL_REGION } from '../aws-clients';
import { startEmulators } from '../emulators';
import { LocalEnvironmentError } from '../errors';
import { importModule } from '../import-module';
import { LocalEventBus } from './event-bus';
import type { LambdaHandler } from './lambda-context';
import { pause } from './pause';
import { FixedRateSchedule, type ScheduleStats } from './schedule';
import { type LambdaSqsEvent, SqsEventSourceMapping, type SqsEventSourceStats } from './sqs-event-source';
import { TableStreamSource, type TableStreamSourceStats } from './table-stream-source';

/** Where the runtime finds DynamoDB and SQS. */
export type LocalEndpoints =
  /** Any endpoints, such as emulators you run yourself. */
  | { readonly dynamodb: string; readonly sqs: string }
  /** Real AWS, through the standard credential chain and region settings. */
  | 'aws';

/** A module file and the name of its export, loaded as Lambda would load it. */
export interface ModuleExport {
  /** A path (resolved from the working directory) or a `file:` URL. */
  readonly path: string;
  /** @default 'handler' */
  readonly exportName?: string;
}

/** What the runtime created, for a worker built in code. */
export interface LocalPipelineResources {
  readonly pipeline: string;
  readonly queueUrl: string;
  readonly queueArn: string;
  readonly deadLetterQueueUrl: string;
  readonly deadLetterQueueArn: string;
  readonly eventLogTable: string;
  readonly stateTable: string;
  readonly sqs: SQSClient;
  readonly dynamodb: DynamoDBClient;
  readonly eventLog: EventLog;
}

/** Options of {@link startLocalPipeline}. Give exactly one of `worker`, `workerModule` and `workerFactory`. */
export interface LocalPipelineOptions {
  /**
   * Where DynamoDB and SQS are.
   * @default DynamoDB Local and the SQS emulator, started on loopback ports and stopped by `stop()`
   */
  readonly endpoints?: LocalEndpoints;
  /** @default `AWS_REGION` for 'aws', else 'us-east-1' */
  readonly region?: string;
  /** @default the standard chain for 'aws', else dummy credentials */
  readonly credentials?: {
    readonly accessKeyId: string;
    readonly secretAccessKey: string;
    readonly sessionToken?: string;
  };
  /** Created if missing. @default 'sluice-events' */
  readonly eventLogTable?: string;
  /** Created if missing. @default 'sluice-state' */
  readonly stateTable?: string;
  /** The pipeline; its queue is created for it. */
  readonly pipeline: Omit<PipelineDefinition, 'queueUrl'>;
  /** The queue's name (and `<name>-dlq` its DLQ's). @default `sluice-<pipeline>` (`.fifo` added for FIFO) */
  readonly queueName?: string;
  /** The worker's Lambda handler, such as the `handler` export of its module. */
  readonly worker?: LambdaHandler<LambdaSqsEvent>;
  /**
   * The worker's module, imported unchanged after the `SLUICE_*` variables and the AWS endpoint
   * variables are set in `process.env` (and restored by `stop()`).
   */
  readonly workerModule?: ModuleExport;
  /** Builds the worker once the queues exist, for a worker made in code that needs their URLs. */
  readonly workerFactory?: (
    resources: LocalPipelineResources,
  ) => LambdaHandler<LambdaSqsEvent> | Promise<LambdaHandler<LambdaSqsEvent>>;
  /** The user's failed handler, run by the failed-event function on the DLQ. */
  readonly failedHandler?: FailedHandler;
  /** The failed-event function's module (a `createFailedEventFunction` handler), imported like `workerModule`. */
  readonly failedModule?: ModuleExport;
  /** @default 10 */
  readonly batchSize?: number;
  /** @default 0 */
  readonly maximumBatchingWindowSeconds?: number;
  /** @default 5 */
  readonly maximumConcurrency?: number;
  /** The worker's timeout; the queue's visibility timeout is six times it. @default 30 */
  readonly workerTimeoutSeconds?: number;
  /**
   * Attempts an event gets before it goes to the failed handler, from 1 to 99. The queue's redrive
   * sits above it as on AWS (`maxReceiveCountFor`, the same formula as the `EventPipeline` construct).
   * @default 5
   */
  readonly maxRedeliveryCount?: number;
  /** How often the fetcher runs. @default 60000 (EventBridge's `rate(1 minute)`) */
  readonly fetcherIntervalMs?: number;
  /**
   * Wake the fetcher on commit, as a deployed pipeline with `latency: 'balanced'` is woken: the event
   * log table's stream (`KEYS_ONLY`, turned on if the table has none) is read shard by shard and
   * handed to the same `Waker` the deployed waker function runs, which starts a fetcher run (or, while
   * one runs, queues the next and cuts its wait short). Every run, woken or scheduled, then leaves once
   * idle; the schedule stays as the safety net. When false, the schedule alone runs the fetcher and
   * each run tails the log until its timeout.
   * @default true, and false with `endpoints: 'aws'` (where the table's stream is the deployment's)
   */
  readonly wakeOnCommit?: boolean;
  /** The fetcher's timeout: each run works until its start plus this. @default 60 */
  readonly fetcherTimeoutSeconds?: number;
  /** How often the fetcher reads the live edge once caught up. @default 1000 */
  readonly fetcherPollIntervalMs?: number;
  /**
   * The event log's settle window; its commit deadline becomes two thirds of it.
   * @default the EventLog defaults (1500 ms, and a 1000 ms commit deadline)
   */
  readonly settleWindowMs?: number;
  /** Told of errors of the functions it runs. @default logs with console.error */
  readonly onError?: (error: unknown, details: { readonly function: string }) => void;
}

/** Counts of a running local pipeline. */
export interface LocalPipelineStats {
  readonly fetcher: ScheduleStats & { readonly lastRun?: FetcherRunSummary };
  readonly worker: SqsEventSourceStats;
  readonly failed: SqsEventSourceStats;
  readonly bus: ReturnType<LocalEventBus['stats']>;
  /** Wake-ups from the table's stream, when the pipeline wakes on commit. */
  readonly wake?: LocalWakeStats;
}

/** Counts of a local pipeline's wake-ups on commit. */
export interface LocalWakeStats {
  /** Times a commit woke the fetcher (started a run, or queued one behind a running run). */
  readonly wakeups: number;
  /** Fetcher runs that a wake-up started. */
  readonly wokenRuns: number;
  /** Batches of stream records that woke nothing, the fetcher having been woken a moment before. */
  readonly skipped: number;
  readonly stream: TableStreamSourceStats;
}

/** A running local pipeline. */
export interface LocalPipeline {
  /** An event log for producers. */
  readonly eventLog: EventLog;
  readonly store: PipelineStore;
  readonly failures: FailureStore;
  /** The in-process EventBridge bus, for backfill requests and other events. */
  readonly bus: LocalEventBus;
  readonly queueUrl: string;
  readonly deadLetterQueueUrl: string;
  readonly endpoints: { readonly dynamodb?: string; readonly sqs?: string };
  /** The PIDs of the emulators it started. */
  readonly pids: readonly number[];
  /**
   * Resolves once everything committed so far has been handled or dead-lettered: the checkpoint has
   * passed the newest event of the stream, both queues are empty and nothing runs.
   * @throws `SluiceError` naming what was still busy when `timeoutMs` (default 60000) passed.
   */
  waitForIdle(options?: { readonly timeoutMs?: number }): Promise<void>;
  stats(): LocalPipelineStats;
  /** Stops the schedule, the event sources (waiting for running invocations) and the emulators it started. */
  stop(): Promise<void>;
}

const FAR_FUTURE_MS = 10 * 365 * 86_400_000;

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
  const onError =
    options.onError ??
    ((error: unknown, details: { function: string }) => console.error(`${details.function} failed`, error));
  const cleanups: (() => Promise<void> | void)[] = [];
  const cleanUp = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) {
      try {
        await cleanup();
      } catch (error) {
        onError(error, { function: 'stop' });
      }
    }
  };

  try {
    // Emulators.
    const pids: number[] = [];
    let endpoints: { dynamodb?: string; sqs?: string } = {};
    if (options.endpoints === undefined) {
      const emulators = await startEmulators();
      cleanups.push(() => emulators.stop());
      pids.push(...emulators.pids);
      endpoints = emulators.endpoints;
    } else if (options.endpoints !== 'aws') {
      endpoints = { dynamodb: options.endpoints.dynamodb, sqs: options.endpoints.sqs };
    }
    const onAws = options.endpoints === 'aws';
    const region = options.region ?? (onAws ? undefined : LOCAL_REGION);
    const credentials: LocalPipelineOptions['credentials'] =
      options.credentials ?? (onAws ? undefined : LOCAL_CREDENTIALS);
    const { dynamodb, sqs } = awsClients({
      endpoints,
      ...(region ? { region } : {}),
      ...(credentials ? { credentials } : {}),
    });
    cleanups.push(() => {
      dynamodb.destroy();
      sqs.destroy();
    });

    // Tables, queues, the pipeline record.
    const eventLogTable = options.eventLogTable ?? 'sluice-events';
    const stateTable = options.stateTable ?? 'sluice-state';
    const wakeOnCommit = options.wakeOnCommit ?? !onAws;
    await Promise.all([
      ensureTable(dynamodb, eventLogTable, { stream: wakeOnCommit }),
      ensureTable(dynamodb, stateTable, { stream: false }),
    ]);
    const fifo = options.pipeline.fifo ?? false;
    const queueName = options.queueName ?? `sluice-${options.pipeline.name}`;
    const workerTimeoutSeconds = options.workerTimeoutSeconds ?? 30;
    const maxRedeliveryCount = options.maxRedeliveryCount ?? DEFAULT_MAX_REDELIVERY_COUNT;
    const queues = await createQueues(sqs, {
      name: queueName.replace(/\.fifo$/, ''),
      fifo,
      visibilityTimeoutSeconds: visibilityTimeoutSecondsFor(workerTimeoutSeconds),
      // As deployed: on a FIFO queue, the messages of a batch wait out each other's attempts.
      maxReceiveCount: maxReceiveCountFor(maxRedeliveryCount, fifo ? (options.batchSize ?? 10) : 1),
    });
    const eventLog = new EventLog({
      tableName: eventLogTable,
      client: dynamodb,
      // A shorter settle window needs a shorter commit deadline: two thirds of it, leaving a third for clock skew.
      ...(options.settleWindowMs !== undefined
        ? {
            settleWindowMs: options.settleWindowMs,
            commitDeadlineMs: Math.max(1, Math.floor((options.settleWindowMs * 2) / 3)),
          }
        : {}),
    });
    const store = new PipelineStore({ tableName: stateTable, client: dynamodb });
    const failures = new FailureStore({ tableName: stateTable, client: dynamodb });
    await store.putPipeline({ ...options.pipeline, queueUrl: queues.queueUrl });
    const resources: LocalPipelineResources = {
      pipeline: options.pipeline.name,
      ...queues,
      eventLogTable,
      stateTable,
      sqs,
      dynamodb,
      eventLog,
    };

    // The functions, as Lambda would load them.
    if (options.workerModule || options.failedModule) {
      const restore = setEnvironment({
        [WORKER_ENVIRONMENT.pipeline]: options.pipeline.name,
        [WORKER_ENVIRONMENT.stateTable]: stateTable,
        [WORKER_ENVIRONMENT.eventLogTable]: eventLogTable,
        [WORKER_ENVIRONMENT.deadLetterQueueUrl]: queues.deadLetterQueueUrl,
        [WORKER_ENVIRONMENT.queueUrl]: queues.queueUrl,
        [WORKER_ENVIRONMENT.maxRedeliveryCount]: String(maxRedeliveryCount),
        ...(endpoints.dynamodb ? { AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodb } : {}),
        ...(endpoints.sqs ? { AWS_ENDPOINT_URL_SQS: endpoints.sqs } : {}),
        ...(region ? { AWS_REGION: region } : {}),
        ...(credentials
          ? {
              AWS_ACCESS_KEY_ID: credentials.accessKeyId,
              AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
              AWS_SESSION_TOKEN: credentials.sessionToken,
            }
          : {}),
      });
      cleanups.push(restore);
    }
    const worker =
      options.worker ??
      (options.workerFactory
        ? await options.workerFactory(resources)
        : await importHandler<LambdaSqsEvent>(options.workerModule as ModuleExport, 'workerModule'));
    const failedFunction = options.failedModule
      ? await importHandler<LambdaSqsEvent>(options.failedModule, 'failedModule')
      : (createFailedEventFunction({
          pipeline: options.pipeline.name,
          store: failures,
          // `context.commit` commits the failed handler's events to the pipeline's event log.
          eventLog,
          logger: new Logger({ serviceName: 'sluice-failed', logLevel: 'WARN' }),
          failedHandler:
            options.failedHandler ??
            ((events) => {
              for (const failure of events)
                console.error(
                  `${failure.pipeline}: event ${failure.event.id} failed ${failure.attempts} time(s): ${failure.lastError.message}`,
                );
            }),
        }) as unknown as LambdaHandler<LambdaSqsEvent>);

    // The fetcher on its schedule.
    const fetcherTimeoutMs = (options.fetcherTimeoutSeconds ?? 60) * 1000;
    let stopping = false;
    // The fetcher's waits (its polls of the live edge, its backoffs), which a stop or a wake-up cuts short.
    const sleepers = new Set<() => void>();
    const sleep = (ms: number) =>
      new Promise<void>((resolve) => {
        if (stopping || ms <= 0) return resolve();
        const timer = setTimeout(done, ms);
        function done() {
          clearTimeout(timer);
          sleepers.delete(done);
          resolve();
        }
        sleepers.add(done);
      });
    const cutSleepsShort = () => {
      for (const done of [...sleepers]) done();
    };
    const fetcher = new Fetcher({
      store,
      source: eventLog,
      sqs,
      pipelines: [options.pipeline.name],
      owner: `local-fetcher-${options.pipeline.name}`,
      pollIntervalMs: options.fetcherPollIntervalMs ?? 1_000,
      idleCheckpointIntervalMs: 1_000,
      finalizeReserveMs: Math.min(3_000, Math.floor(fetcherTimeoutMs / 4)),
      // A stop ends a running fetch at once, as its deadline would: it saves its checkpoint and lease.
      clock: () => Date.now() + (stopping ? FAR_FUTURE_MS : 0),
      sleep,
    });
    let lastRun: FetcherRunSummary | undefined;
    // One run at a time, as a fetcher with a reserved concurrency of 1: woken and scheduled runs queue.
    let runs: Promise<void> = Promise.resolve();
    const runFetcher = (deadline: () => number, readThrough?: string): Promise<void> => {
      const run = runs.then(async () => {
        const summary = await fetcher.run({
          deadline: deadline(),
          ...(wakeOnCommit ? { untilIdleMs: WOKEN_RUN_UNTIL_IDLE_MS } : {}),
          ...(readThrough ? { readThrough } : {}),
        });
        lastRun = summary;
        const failed = Object.values(summary.pipelines).find((pipeline) => pipeline.error);
        if (failed?.error) throw failed.error;
      });
      runs = run.catch(() => undefined);
      return run;
    };
    const schedule = new FixedRateSchedule({
      functionName: 'sluice-fetcher',
      intervalMs: options.fetcherIntervalMs ?? 60_000,
      functionTimeoutSeconds: Math.ceil(fetcherTimeoutMs / 1000),
      ...(region ? { region } : {}),
      runOnStart: true,
      onError: (error) => onError(error, { function: 'fetcher' }),
      handler: (_event, context) => runFetcher(() => Date.now() + context.getRemainingTimeInMillis()),
    });

    // Wake-ups on commit: the table's stream, through the deployed waker's logic, into woken runs.
    const wakeCounts = { wakeups: 0, wokenRuns: 0, skipped: 0 };
    let pendingWake: { readThrough?: string } | undefined;
    let draining: Promise<void> | undefined;
    const settleTimers = new Set<NodeJS.Timeout>();
    const drainWakes = async () => {
      while (pendingWake && !stopping) {
        const { readThrough } = pendingWake;
        pendingWake = undefined;
        wakeCounts.wokenRuns += 1;
        try {
          await runFetcher(() => Date.now() + fetcherTimeoutMs, readThrough);
        } catch (error) {
          onError(error, { function: 'fetcher' });
        }
      }
      draining = undefined;
    };
    const wakeFetcher = async (_route: WakeRoute, readThrough?: string): Promise<void> => {
      wakeCounts.wakeups += 1;
      const through = [pendingWake?.readThrough, readThrough]
        .filter((id) => id !== undefined)
        .sort()
        .at(-1);
      pendingWake = through === undefined ? {} : { readThrough: through };
      // A running run reads again now, and again once the newest event has settled, instead of at its next poll.
      cutSleepsShort();
      if (readThrough !== undefined) {
        const settlesInMs = eventIdToEpochMs(readThrough) + eventLog.settleWindowMs - Date.now();
        for (const delayMs of [settlesInMs + 20, settlesInMs + 250]) {
          const timer = setTimeout(
            () => {
              settleTimers.delete(timer);
              cutSleepsShort();
            },
            Math.max(0, delayMs),
          );
          settleTimers.add(timer);
        }
      }
      draining ??= drainWakes();
    };
    const waker = new Waker({
      routes: [
        {
          stream: options.pipeline.stream,
          pipeline: options.pipeline.name,
          target: 'sluice-fetcher',
          untilIdleMs: WOKEN_RUN_UNTIL_IDLE_MS,
        },
      ],
      wake: wakeFetcher,
    });
    const streams = wakeOnCommit
      ? new DynamoDBStreamsClient({
          ...(region ? { region } : {}),
          ...(credentials ? { credentials: { ...credentials } } : {}),
          ...(endpoints.dynamodb ? { endpoint: endpoints.dynamodb } : {}),
        })
      : undefined;
    const tableStream = streams
      ? new TableStreamSource({
          dynamodb,
          streams,
          tableName: eventLogTable,
          handler: async (records) => {
            const outcome = await waker.onRecords(records);
            wakeCounts.skipped += outcome.skipped.length;
            for (const { error } of outcome.failed) onError(error, { function: 'waker' });
          },
          onError: (error) => onError(error, { function: 'table stream reader' }),
        })
      : undefined;

    // The event sources.
    const workerMapping = new SqsEventSourceMapping({
      sqs,
      queueUrl: queues.queueUrl,
      queueArn: queues.queueArn,
      handler: worker,
      functionName: 'sluice-worker',
      functionTimeoutSeconds: workerTimeoutSeconds,
      ...(options.batchSize !== undefined ? { batchSize: options.batchSize } : {}),
      ...(options.maximumBatchingWindowSeconds !== undefined
        ? { maximumBatchingWindowSeconds: options.maximumBatchingWindowSeconds }
        : {}),
      ...(options.maximumConcurrency !== undefined ? { maximumConcurrency: options.maximumConcurrency } : {}),
      onError: (error) => onError(error, { function: 'worker' }),
    });
    const failedMapping = new SqsEventSourceMapping({
      sqs,
      queueUrl: queues.deadLetterQueueUrl,
      queueArn: queues.deadLetterQueueArn,
      handler: failedFunction,
      functionName: 'sluice-failed',
      functionTimeoutSeconds: 60,
      maximumConcurrency: 2,
      onError: (error) => onError(error, { function: 'failed-event function' }),
    });
    const bus = new LocalEventBus({
      ...(region ? { region } : {}),
      onError: (error, details) => onError(error, { function: `rule ${details.rule}` }),
    });

    await workerMapping.start();
    cleanups.push(() => workerMapping.stop());
    await failedMapping.start();
    cleanups.push(() => failedMapping.stop());
    cleanups.push(() => bus.idle());
    if (tableStream && streams) {
      // Before the schedule's first run: that run reads what was committed before, the stream what follows.
      await tableStream.start();
      cleanups.push(async () => {
        await tableStream.stop();
        streams.destroy();
      });
    }
    schedule.start();
    cleanups.push(async () => {
      stopping = true;
      for (const timer of settleTimers) clearTimeout(timer);
      cutSleepsShort();
      await schedule.stop();
      await draining;
      await runs;
    });

    const isIdle = async (): Promise<string | undefined> => {
      const busy: string[] = [];
      const workerStats = workerMapping.stats();
      const failedStats = failedMapping.stats();
      if (workerStats.inFlight > 0) busy.push(`${workerStats.inFlight} worker invocation(s) running`);
      if (failedStats.inFlight > 0)
        busy.push(`${failedStats.inFlight} failed-function invocation(s) running`);
      const [state, newest, queueCount, deadCount] = await Promise.all([
        store.getState(options.pipeline.name),
        eventLog.revrange(options.pipeline.stream, {
          limit: 1,
          ...(options.pipeline.eventTypes ? { types: options.pipeline.eventTypes } : {}),
        }),
        queueDepth(sqs, queues.queueUrl),
        queueDepth(sqs, queues.deadLetterQueueUrl),
      ]);
      const latest = newest.events[0];
      if (latest && (!state || !isDeliveredAt(state.position, latest.id)))
        busy.push(`the checkpoint has not passed event ${latest.id}`);
      if (queueCount > 0) busy.push(`${queueCount} message(s) in the queue`);
      if (deadCount > 0) busy.push(`${deadCount} message(s) in the DLQ`);
      return busy.length > 0 ? busy.join(', ') : undefined;
    };

    let stopped: Promise<void> | undefined;
    return {
      eventLog,
      store,
      failures,
      bus,
      queueUrl: queues.queueUrl,
      deadLetterQueueUrl: queues.deadLetterQueueUrl,
      endpoints,
      pids,
      async waitForIdle(waitOptions = {}) {
        const timeoutMs = waitOptions.timeoutMs ?? 60_000;
        const deadline = Date.now() + timeoutMs;
        let quietChecks = 0;
        let busy: string | undefined = 'not checked';
        while (Date.now() < deadline) {
          busy = await isIdle();
          // Twice in a row: a message between a receive and its invocation shows in neither count for a moment.
          quietChecks = busy === undefined ? quietChecks + 1 : 0;
          if (quietChecks >= 2) return;
          await pause(200);
        }
        throw new SluiceError(
          `pipeline ${options.pipeline.name} was not idle after ${timeoutMs} ms: ${busy ?? 'it was idle only briefly'}`,
        );
      },
      stats() {
        return {
          fetcher: { ...schedule.stats(), ...(lastRun ? { lastRun } : {}) },
          worker: workerMapping.stats(),
          failed: failedMapping.stats(),
          bus: bus.stats(),
          ...(tableStream ? { wake: { ...wakeCounts, stream: tableStream.stats() } } : {}),
        };
      },
      stop() {
        stopped ??= cleanUp();
        return stopped;
      },
    };
  } catch (error) {
    await cleanUp();
    throw error;
  }
}

/**
 * Checks the options of {@link startLocalPipeline} and throws a `ValidationError` naming every problem.
 * The event source settings are checked again, by AWS's rules, when the mappings are built.
 *
 * @example
 * ```ts
 * validateLocalPipelineOptions({ pipeline: { name: 'billing', stream: 'orders' }, worker: handler });
 * ```
 */
export function validateLocalPipelineOptions(options: LocalPipelineOptions): void {
  if (typeof options !== 'object' || options === null)
    throw new ValidationError(`options must be an object (given ${describe(options)})`, options);
  const problems: string[] = [];
  const workers = (['worker', 'workerModule', 'workerFactory'] as const).filter(
    (key) => options[key] !== undefined,
  );
  if (workers.length !== 1)
    problems.push(
      `give exactly one of worker, workerModule and workerFactory (given ${workers.length === 0 ? 'none' : workers.join(', ')})`,
    );
  if (options.failedHandler !== undefined && options.failedModule !== undefined)
    problems.push('give failedHandler or failedModule, not both');
  for (const key of ['workerModule', 'failedModule'] as const) {
    const module = options[key];
    if (module !== undefined && (typeof module?.path !== 'string' || module.path.length === 0))
      problems.push(`${key}.path must be a file path (given ${describe(module?.path)})`);
  }
  if (typeof options.pipeline?.name !== 'string' || typeof options.pipeline?.stream !== 'string')
    problems.push(`pipeline must have a name and a stream (given ${describe(options.pipeline)})`);
  if ('queueUrl' in (options.pipeline ?? {}))
    problems.push('pipeline.queueUrl is set by the local runtime: leave it out');
  const endpoints = options.endpoints;
  if (
    endpoints !== undefined &&
    endpoints !== 'aws' &&
    (typeof endpoints?.dynamodb !== 'string' || typeof endpoints?.sqs !== 'string')
  )
    problems.push(`endpoints must be 'aws' or { dynamodb, sqs } URLs (given ${describe(endpoints)})`);
  const whole = (name: string, value: unknown, min: number, max: number) => {
    if (
      value !== undefined &&
      (!Number.isInteger(value) || (value as number) < min || (value as number) > max)
    )
      problems.push(`${name} must be between ${min} and ${max} (given ${describe(value)})`);
  };
  whole('workerTimeoutSeconds', options.workerTimeoutSeconds, 1, 900);
  const redeliveryProblem = maxRedeliveryCountProblem('maxRedeliveryCount', options.maxRedeliveryCount);
  if (redeliveryProblem) problems.push(redeliveryProblem);
  if (options.pipeline?.fifo === true) whole('batchSize', options.batchSize, 1, MAX_FIFO_BATCH_SIZE);
  whole('fetcherIntervalMs', options.fetcherIntervalMs, 10, 86_400_000);
  whole('fetcherTimeoutSeconds', options.fetcherTimeoutSeconds, 1, 900);
  whole('fetcherPollIntervalMs', options.fetcherPollIntervalMs, 10, 60_000);
  if (options.wakeOnCommit !== undefined && typeof options.wakeOnCommit !== 'boolean')
    problems.push(`wakeOnCommit must be true or false (given ${describe(options.wakeOnCommit)})`);
  if (problems.length > 0)
    throw new ValidationError(`invalid local pipeline options: ${problems.join('; ')}`, options);
}

/** The stream a local event log table has when its commits wake the fetcher: keys are enough, as deployed. */
const KEYS_ONLY_STREAM = { StreamEnabled: true, StreamViewType: 'KEYS_ONLY' } as const;

async function ensureTable(
  client: DynamoDBClient,
  tableName: string,
  settings: { readonly stream: boolean },
): Promise<void> {
  try {
    await client.send(
      new CreateTableCommand({
        ...eventLogTableDefinition(tableName),
        ...(settings.stream ? { StreamSpecification: KEYS_ONLY_STREAM } : {}),
      }),
    );
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
  }
  let streamAsked = false;
  for (let attempt = 0; attempt < 600; attempt += 1) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    if (Table?.TableStatus === 'ACTIVE') {
      if (!settings.stream || Table.StreamSpecification?.StreamEnabled) return;
      // A table made before wake-ups (or by something else): give it the stream.
      if (!streamAsked) {
        streamAsked = true;
        await client.send(
          new UpdateTableCommand({ TableName: tableName, StreamSpecification: KEYS_ONLY_STREAM }),
        );
        continue;
      }
    }
    await pause(500);
  }
  throw new SluiceError(`table ${tableName} did not become ACTIVE within five minutes`);
}

async function createQueues(
  sqs: SQSClient,
  settings: { name: string; fifo: boolean; visibilityTimeoutSeconds: number; maxReceiveCount: number },
): Promise<
  Omit<LocalPipelineResources, 'pipeline' | 'eventLogTable' | 'stateTable' | 'sqs' | 'dynamodb' | 'eventLog'>
> {
  const suffix = settings.fifo ? '.fifo' : '';
  const fifoAttributes: Record<string, string> = settings.fifo ? { FifoQueue: 'true' } : {};
  const dead = await sqs.send(
    new CreateQueueCommand({ QueueName: `${settings.name}-dlq${suffix}`, Attributes: fifoAttributes }),
  );
  const deadLetterQueueUrl = dead.QueueUrl as string;
  const deadLetterQueueArn = await queueArn(sqs, deadLetterQueueUrl);
  const queue = await sqs.send(
    new CreateQueueCommand({
      QueueName: `${settings.name}${suffix}`,
      Attributes: {
        ...fifoAttributes,
        VisibilityTimeout: String(settings.visibilityTimeoutSeconds),
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: deadLetterQueueArn,
          maxReceiveCount: settings.maxReceiveCount,
        }),
      },
    }),
  );
  const queueUrl = queue.QueueUrl as string;
  return { queueUrl, queueArn: await queueArn(sqs, queueUrl), deadLetterQueueUrl, deadLetterQueueArn };
}

async function queueArn(sqs: SQSClient, queueUrl: string): Promise<string> {
  const output = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }),
  );
  const arn = output.Attributes?.QueueArn;
  if (!arn) throw new SluiceError(`the queue ${queueUrl} reported no QueueArn`);
  return arn;
}

async function importHandler<TEvent>(module: ModuleExport, option: string): Promise<LambdaHandler<TEvent>> {
  const exportName = module.exportName ?? 'handler';
  let loaded: Record<string, unknown>;
  try {
    loaded = await importModule(module.path, `${option} ${module.path}`);
  } catch (error) {
    if (error instanceof LocalEnvironmentError && error.code === 'peer-dependency-missing') throw error;
    throw new SluiceError(`${option}: could not import ${module.path}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const handler = loaded[exportName];
  if (typeof handler !== 'function')
    throw new ValidationError(
      `${option}: ${module.path} exports no function named ${exportName} (given ${describe(typeof handler)})`,
      module,
    );
  return handler as LambdaHandler<TEvent>;
}

/** Sets variables in `process.env`; the returned function puts the earlier values back. */
function setEnvironment(variables: Readonly<Record<string, string | undefined>>): () => void {
  const previous = new Map<string, string | undefined>();
  for (const [name, value] of Object.entries(variables)) {
    previous.set(name, process.env[name]);
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  return () => {
    for (const [name, value] of previous) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
}
