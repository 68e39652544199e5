import { AsyncLocalStorage } from 'node:async_hooks';
import {
  type AttributeValue,
  DeleteItemCommand,
  DeleteTableCommand,
  type DynamoDBClient,
  paginateScan,
} from '@aws-sdk/client-dynamodb';
import {
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import {
  CommitError,
  CommitOutcomeUnknownError,
  createWorker,
  EventLog,
  type EventLogOptions,
  NonRetryableError,
  type PipelineDefinition,
  type Position,
  parsePosition,
  positionAfterEvent,
  type StandardSchema,
  type WorkerEvent,
} from '../lib';
import { ATTRIBUTES } from '../lib/event-log/constants';
import { handleDeadLetters } from '../lib/failed/dlq-consumer';
import { FailureStore } from '../lib/failed/failure-store';
import { type RedriveFailuresResult, redriveFailures } from '../lib/failed/redrive-failures';
import type { DeadLetterStepHook } from '../lib/failed/types';
import { Fetcher, type FetcherOptions } from '../lib/fetcher/fetcher';
import { queueDepth } from '../lib/fetcher/queue-depth';
import { type LambdaSqsEvent, SqsEventSourceMapping } from '../lib/local';
import { parseEnvelope } from '../lib/messages/envelope';
// The deployed wiring's own rules, from the one place that states them.
import { maxReceiveCountFor, VISIBILITY_TIMEOUT_FACTOR } from '../lib/settings';
import { PipelineStore } from '../lib/state/pipeline-store';
import { type FaultCounts, type FaultInjector, type FaultPlan, injectFaults } from '../lib/testing/faults';
import { EventIdGenerator } from '../lib/time/event-id';
import { comparePositions, formatPosition } from '../lib/time/position';
import type { WorkerStepHook } from '../lib/worker/types';
import { seededRandom } from '../test/support/fixtures';
import {
  createQueueWithDeadLetterQueue,
  createStreamTable,
  type QueueWithDeadLetterQueue,
  uniqueName,
} from '../test/support/resources';
import { awsClients, type ChaosEndpoints } from './environment';
import type { HandlerFailures, Observations, ObservedCheckpoint, ObservedHandOver } from './invariants';

/**
 * The time scale of the scenarios. The worker's function timeout is a user's setting (30 s by
 * default); here it is 5 s, so that a crashed batch comes back within a scenario. Everything the
 * deployed wiring derives from it is derived the same way: the queue's visibility timeout is
 * `VISIBILITY_TIMEOUT_FACTOR` times it, and the worker's deadline margin keeps its default share of it
 * (5 s of 30 s). Every other setting is the default a user gets: packing (up to 100 events per
 * message), page size, `bufferSize`, `maxRedeliveryCount`, backoff, and the queue's `maxReceiveCount`
 * from `maxReceiveCountFor`.
 */
export const CHAOS_TIMING = {
  workerTimeoutSeconds: 5,
  /** The worker's default deadline margin (5,000 ms) for its default timeout (30 s). */
  deadlineMarginShare: 5_000 / 30_000,
} as const;

/** The worker's default `maxRedeliveryCount`, which the deployed construct also uses. */
const DEFAULT_MAX_REDELIVERY_COUNT = 5;
/** The event source's batch size as deployed (and Lambda's FIFO maximum). */
const EVENT_SOURCE_BATCH_SIZE = 10;

/** What a scenario's events carry: their number, and how the handler treats them. */
export interface ChaosData {
  readonly n: number;
  readonly kind?: EventKind;
}

/** How the scenario handler treats an event. */
export const EVENT_KINDS = {
  /** Always throws: retried, then given to the failed handler. */
  poison: 'poison',
  /** Throws `NonRetryableError`: to the failed handler at once. */
  nonRetryable: 'non-retryable',
  /** Fails its schema: to the failed handler at once, the handler never runs. */
  invalid: 'invalid',
  /** Throws on its first attempt only. */
  flaky: 'flaky',
  /** Runs past the function timeout on its first attempt. */
  hang: 'hang',
} as const;
export type EventKind = (typeof EVENT_KINDS)[keyof typeof EVENT_KINDS];

/** Options of {@link ChaosPipeline.create}. */
export interface ChaosPipelineOptions {
  readonly endpoints: ChaosEndpoints;
  readonly seed: number;
  /** Names the tables and queues. */
  readonly prefix: string;
  /** Events committed before the pipeline starts, their ids spread over the past hours. @default 0 */
  readonly history?: number;
  /** @default 3 */
  readonly historyHours?: number;
  /** Marks some events for the handler to fail or stall. @default none */
  readonly kindOf?: (n: number, random: () => number) => EventKind | undefined;
  /** Gives event `n` the partition key `key-(n % partitionKeys)`; FIFO scenarios check order per key. @default none */
  readonly partitionKeys?: number;
  /** Outputs the handler returns per event (one effect and the rest parts of it). @default 1 */
  readonly outputsPerEvent?: number;
  /** The source stream's retention (DynamoDB TTL), for its producers and the fetchers. @default kept for ever */
  readonly retentionSeconds?: number;
  /** Called with each part's clients once they are made (to count or slow their requests). */
  readonly instrument?: (part: string, clients: { dynamodb: DynamoDBClient; sqs: SQSClient }) => void;
  /** Faults on every client of the pipeline (fetcher, worker, DLQ consumer, event sources); not on the checker's. */
  readonly faults?: Omit<FaultPlan, 'seed'>;
  /**
   * Pipeline settings over the defaults (only `start: 'earliest'` is set). A scenario sets one only
   * where it is about that setting, and says so in its description.
   */
  readonly pipeline?: Partial<Omit<PipelineDefinition, 'name' | 'stream' | 'queueUrl'>>;
  /** @default the worker's default (5) */
  readonly maxRedeliveryCount?: number;
  /** The worker's function timeout. @default CHAOS_TIMING.workerTimeoutSeconds */
  readonly workerTimeoutSeconds?: number;
  /** @default VISIBILITY_TIMEOUT_FACTOR × the worker's timeout, as deployed */
  readonly visibilityTimeoutSeconds?: number;
  readonly workerOnStep?: WorkerStepHook;
  readonly deadLetterOnStep?: DeadLetterStepHook;
  /** How long the failed-handler claims last. @default 10000 */
  readonly claimDurationMs?: number;
  /** @default 4 */
  readonly maximumConcurrency?: number;
}

/** Counts of the moving parts, for the report. */
export interface ChaosActivity {
  readonly fetcherRuns: number;
  readonly fetcherErrors: number;
  /** Fetcher runs that found their lease taken over (their checkpoint write refused by the fencing token). */
  readonly fetcherLeasesLost: number;
  /** Why fetcher runs stopped, counted. */
  readonly fetcherStopReasons: Readonly<Record<string, number>>;
  readonly workerInvocations: number;
  readonly workerFailedBatches: number;
  readonly workerTimeouts: number;
  readonly deadLetterInvocations: number;
  readonly duplicatesSkipped: number;
  readonly faults: FaultCounts;
}

const SCHEMAS: Readonly<Record<string, StandardSchema>> = {
  order: {
    '~standard': {
      validate: (value: unknown) =>
        (value as ChaosData | undefined)?.kind === EVENT_KINDS.invalid
          ? { issues: [{ message: 'amount must be positive', path: ['amount'] }] }
          : { value },
    },
  },
};

/**
 * One pipeline under fault injection, with real parts on the emulators: its own event and state
 * tables, a queue with a dead-letter queue, the worker behind the local runtime's SQS event source
 * mapping (Lambda's rules), the dead-letter consumer behind another, fetchers the scenario runs, and
 * a watcher of the checkpoint. The handler commits one effect per event through the worker's
 * ackCommit (with the marker, atomically) and counts its raw runs; the failed handler records every
 * hand-over. `observations()` reads back what the invariants are checked on.
 *
 * @example
 * ```ts
 * const pipeline = await ChaosPipeline.create({ endpoints, seed: 1, prefix: 'poison', history: 300 });
 * await pipeline.start();
 * const stopFetchers = pipeline.runFetcherLoop();
 * await pipeline.waitUntilSettled(await pipeline.committedIds(), 60_000);
 * await stopFetchers();
 * await pipeline.stop();
 * const counts = checkInvariants(await pipeline.observations());
 * await pipeline.drop();
 * ```
 */
export class ChaosPipeline {
  readonly name: string;
  readonly stream: string;
  readonly effectsStream: string;
  /** Where the failed handler commits one event per failure, with the failure's mark. */
  readonly failedEffectsStream: string;
  readonly options: ChaosPipelineOptions;
  readonly queue: QueueWithDeadLetterQueue;
  /** A store on a client without faults, for the checker. */
  readonly store: PipelineStore;
  /** An event log on a client without faults, for producers and the checker. */
  readonly eventLog: EventLog;
  private readonly clean: { dynamodb: DynamoDBClient; sqs: SQSClient };
  private readonly tables: { events: string; state: string };
  private readonly injectors: FaultInjector[] = [];
  /** Every failure the failed handler was called with, repeats kept (raw calls). */
  private readonly failedHandlerCalls: ObservedHandOver[] = [];
  private readonly handlerFailures = new Map<string, HandlerFailures>();
  /** The handler's failed runs of the worker invocation in progress, settled when it returns. */
  private readonly invocation = new AsyncLocalStorage<{ id: string; message: string }[]>();
  private readonly redriven = new Set<string>();
  private seeking = 0;
  private readonly seekTargets: string[] = [];
  /** The ranges fetcher runs reported expired (events they can no longer read). */
  private readonly expiredRanges: { from: Position; to: Position }[] = [];
  /** The next event number a live producer takes (the history takes the first ones). */
  private nextNumber = 0;
  private seekSettling = false;
  /** Poison events succeed once the handler is fixed (a redrive scenario). */
  private fixed = false;
  private readonly handlerSuccesses = new Map<string, number>();
  private readonly checkpoints: ObservedCheckpoint[] = [];
  private readonly attempts = new Map<string, number>();
  private mappings: SqsEventSourceMapping[] = [];
  private watching = false;
  private watcher?: Promise<void>;
  private fetcherRuns = 0;
  private fetcherErrors = 0;
  private fetcherLeasesLost = 0;
  private readonly fetcherStopReasons: Record<string, number> = {};
  private duplicatesSkipped = 0;
  private fetcherCount = 0;

  private constructor(
    options: ChaosPipelineOptions,
    clean: { dynamodb: DynamoDBClient; sqs: SQSClient },
    tables: { events: string; state: string },
    queue: QueueWithDeadLetterQueue,
  ) {
    this.options = options;
    this.clean = clean;
    this.tables = tables;
    this.queue = queue;
    this.name = uniqueName(options.prefix).replace(/[^A-Za-z0-9._-]/g, '-');
    this.stream = `${options.prefix}-in`;
    this.effectsStream = `${options.prefix}-effects`;
    this.failedEffectsStream = `${options.prefix}-failed-effects`;
    this.store = new PipelineStore({ tableName: tables.state, client: clean.dynamodb });
    this.eventLog = new EventLog({ tableName: tables.events, client: clean.dynamodb });
  }

  /** Creates the tables, the queues and the pipeline record, and commits the history. */
  static async create(options: ChaosPipelineOptions): Promise<ChaosPipeline> {
    const clean = awsClients(options.endpoints);
    const visibility =
      options.visibilityTimeoutSeconds ??
      VISIBILITY_TIMEOUT_FACTOR * (options.workerTimeoutSeconds ?? CHAOS_TIMING.workerTimeoutSeconds);
    const [events, state, queue] = await Promise.all([
      createStreamTable(clean.dynamodb, `${options.prefix}-events`),
      createStreamTable(clean.dynamodb, `${options.prefix}-state`),
      createQueueWithDeadLetterQueue(clean.sqs, {
        prefix: options.prefix,
        visibilityTimeoutSeconds: visibility,
        deadLetterVisibilityTimeoutSeconds: 3,
        maxReceiveCount: maxReceiveCountFor(
          options.maxRedeliveryCount ?? DEFAULT_MAX_REDELIVERY_COUNT,
          options.pipeline?.fifo ? EVENT_SOURCE_BATCH_SIZE : 1,
        ),
        ...(options.pipeline?.fifo ? { fifo: true } : {}),
      }),
    ]);
    const pipeline = new ChaosPipeline(options, clean, { events: events.name, state: state.name }, queue);
    await pipeline.store.putPipeline({
      name: pipeline.name,
      stream: pipeline.stream,
      queueUrl: queue.queueUrl,
      start: 'earliest',
      ...options.pipeline,
    });
    await pipeline.commitHistory(options.history ?? 0, options.historyHours ?? 3);
    return pipeline;
  }

  /** Clients for one part of the pipeline, with the scenario's faults in them. */
  clients(part: string): { dynamodb: DynamoDBClient; sqs: SQSClient } {
    const clients = awsClients(this.options.endpoints);
    this.options.instrument?.(part, clients);
    if (this.options.faults) {
      const plan = { ...this.options.faults, seed: this.options.seed };
      this.injectors.push(injectFaults(clients.dynamodb, plan, `${part}-dynamodb`));
      this.injectors.push(injectFaults(clients.sqs, plan, `${part}-sqs`));
    }
    return clients;
  }

  /** An event log on the scenario's table, for writers of the scenario's own. */
  writerLog(options: Partial<EventLogOptions> & { client: DynamoDBClient }): EventLog {
    return new EventLog({ tableName: this.tables.events, ...this.streamSettings(), ...options });
  }

  /** The next `count` events of the source stream, numbered after every event made before. */
  nextInputs(count: number): ReturnType<ChaosPipeline['input']>[] {
    return Array.from({ length: count }, () => this.input(this.nextNumber++));
  }

  /** Whether a fetcher run reported the event inside a range it could no longer read. */
  reportedExpired(id: string): boolean {
    const at = positionAfterEvent(id);
    return this.expiredRanges.some(
      (range) => comparePositions(at, range.from) > 0 && comparePositions(at, range.to) <= 0,
    );
  }

  private streamSettings(): Pick<EventLogOptions, 'streams'> {
    const retentionSeconds = this.options.retentionSeconds;
    return retentionSeconds ? { streams: { [this.stream]: { retentionSeconds } } } : {};
  }

  /** The events of the source stream: `{ stream, type, data }` for event `n`. */
  input(n: number): { stream: string; type: string; data: ChaosData; partitionKey?: string } {
    const kind = this.options.kindOf?.(n, seededRandom(this.options.seed * 7_919 + n));
    const keys = this.options.partitionKeys;
    return {
      stream: this.stream,
      type: 'order',
      data: { n, ...(kind ? { kind } : {}) },
      ...(keys ? { partitionKey: `key-${n % keys}` } : {}),
    };
  }

  /** From now on, poison events succeed: the fix a redrive follows. */
  fixHandler(): void {
    this.fixed = true;
  }

  /** Marks events as sent back by a redrive: they may have been handed over before their effect. */
  markRedriven(ids: Iterable<string>): void {
    for (const id of ids) this.redriven.add(id);
  }

  /** What the harness saw of one event (for the report of an event that did not settle). */
  describeEvent(id: string): string {
    const failures = this.handlerFailures.get(id);
    const successes = this.handlerSuccesses.get(id) ?? 0;
    const calls = this.failedHandlerCalls.filter((call) => call.id === id).length;
    return `${id}: ${successes} successful run(s), ${failures?.count ?? 0} failed (last: ${failures?.lastError ?? 'none'}), ${calls} failed-handler call(s)`;
  }

  /**
   * Where the given events are, for the report of a scenario that did not settle: each queue's
   * counts, and the visible messages that carry one of them with their receive counts. Receiving
   * moves those messages, so call it only once the scenario has stopped.
   */
  async whereAre(ids: readonly string[]): Promise<Record<string, unknown>> {
    const wanted = new Set(ids);
    const where: Record<string, unknown> = {};
    for (const [name, url] of [
      ['queue', this.queue.queueUrl],
      ['deadLetterQueue', this.queue.deadLetterQueueUrl],
    ] as const) {
      const { Attributes = {} } = await this.clean.sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: url,
          AttributeNames: [
            'ApproximateNumberOfMessages',
            'ApproximateNumberOfMessagesNotVisible',
            'ApproximateNumberOfMessagesDelayed',
          ],
        }),
      );
      const carrying: string[] = [];
      for (let round = 0; round < 5; round += 1) {
        const { Messages = [] } = await this.clean.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: url,
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: 0,
            VisibilityTimeout: 30,
            MessageSystemAttributeNames: ['ApproximateReceiveCount'],
          }),
        );
        if (Messages.length === 0) break;
        for (const message of Messages) {
          const text = readableBody(message.Body ?? '');
          const found = [...wanted].filter((id) => text.includes(id));
          if (found.length > 0)
            carrying.push(
              `${found.length} lost event(s), received ${message.Attributes?.ApproximateReceiveCount} time(s): ${message.Body?.slice(0, 200)}`,
            );
        }
      }
      where[name] = { ...Attributes, carrying };
    }
    return where;
  }

  /** Every event handed to the failed handler so far. */
  handedOverIds(): string[] {
    return [...new Set(this.failedHandlerCalls.map((call) => call.id))];
  }

  /**
   * Seeks the pipeline (on the checker's client): the checkpoint read next may stand behind the one
   * before it without counting as a regression, and events after `position` may be handled again
   * (a seek is a replay).
   */
  async seek(position: Position, reason: string): Promise<void> {
    this.seeking += 1;
    try {
      // Counted before it lands: a seek that fails after writing still replayed.
      this.seekTargets.push(formatPosition(position));
      await this.store.seek(this.name, position, { reason });
    } finally {
      this.seeking -= 1;
      this.seekSettling = true;
    }
  }

  /** Starts the worker and the dead-letter consumer behind their event sources, and the checkpoint watcher. */
  async start(): Promise<void> {
    const workerClients = this.clients('worker');
    const timeoutSeconds = this.options.workerTimeoutSeconds ?? CHAOS_TIMING.workerTimeoutSeconds;
    const worker = createWorker<ChaosData>(
      {
        pipeline: this.name,
        stateTable: this.tables.state,
        queueUrl: this.queue.queueUrl,
        deadLetterQueueUrl: this.queue.deadLetterQueueUrl,
        sqs: workerClients.sqs,
        dynamodb: workerClients.dynamodb,
        eventLog: new EventLog({ tableName: this.tables.events, client: workerClients.dynamodb }),
        ...(this.options.maxRedeliveryCount ? { maxRedeliveryCount: this.options.maxRedeliveryCount } : {}),
        deadlineMarginMs: Math.round(timeoutSeconds * 1_000 * CHAOS_TIMING.deadlineMarginShare),
        schemas: SCHEMAS,
        random: seededRandom(this.options.seed),
        ...(this.options.workerOnStep ? { onStep: this.options.workerOnStep } : {}),
        handle: (event) => this.handle(event, timeoutSeconds),
      },
      {},
    );
    const deadLetterClients = this.clients('dead-letters');
    const failures = new FailureStore({ tableName: this.tables.state, client: deadLetterClients.dynamodb });
    const mappingClients = this.clients('event-source');
    this.mappings = [
      new SqsEventSourceMapping({
        sqs: mappingClients.sqs,
        queueUrl: this.queue.queueUrl,
        queueArn: this.queue.queueArn,
        functionName: 'chaos-worker',
        functionTimeoutSeconds: timeoutSeconds,
        batchSize: EVENT_SOURCE_BATCH_SIZE,
        maximumConcurrency: this.options.maximumConcurrency ?? 4,
        pollWaitTimeSeconds: 1,
        onError: () => {},
        handler: async (event: LambdaSqsEvent, context) => {
          const failed: { id: string; message: string }[] = [];
          const outcome = await this.invocation.run(failed, () => worker.processEvent(event, context));
          // The invocation returned: the worker could record these failed runs. Under injected
          // faults a run's record can itself fail (it then spends no attempt): no lower bound there.
          for (const { id, message } of this.options.faults ? [] : failed) {
            const before = this.handlerFailures.get(id) as HandlerFailures;
            this.handlerFailures.set(id, {
              ...before,
              settled: (before.settled ?? 0) + 1,
              lastSettledError: message,
            });
          }
          this.duplicatesSkipped += outcome.stats.duplicatesSkipped;
          return { batchItemFailures: outcome.batchItemFailures };
        },
      }),
      new SqsEventSourceMapping({
        sqs: mappingClients.sqs,
        queueUrl: this.queue.deadLetterQueueUrl,
        queueArn: this.queue.deadLetterQueueArn,
        functionName: 'chaos-failed',
        functionTimeoutSeconds: 30,
        maximumConcurrency: 2,
        pollWaitTimeSeconds: 1,
        onError: () => {},
        handler: async (event: LambdaSqsEvent) => {
          const result = await handleDeadLetters<ChaosData>(event.Records, {
            pipeline: this.name,
            store: failures,
            claimDurationMs: this.options.claimDurationMs ?? 10_000,
            ...(this.options.deadLetterOnStep ? { onStep: this.options.deadLetterOnStep } : {}),
            eventLog: new EventLog({ tableName: this.tables.events, client: deadLetterClients.dynamodb }),
            // The failed handler's effect goes through context.commit, with the failure's mark.
            failedHandler: (handed, context) => {
              for (const { event, attempts, lastError } of handed) {
                this.failedHandlerCalls.push({ id: event.id, attempts, lastError: lastError.message });
                context.commit(event.id, {
                  stream: this.failedEffectsStream,
                  type: 'failed-effect',
                  data: { source: event.id },
                });
              }
            },
          });
          return { batchItemFailures: result.batchItemFailures };
        },
      }),
    ];
    await Promise.all(this.mappings.map((mapping) => mapping.start()));
    this.watching = true;
    this.watcher = this.watchCheckpoints();
  }

  /**
   * A fetcher on clients with the scenario's faults. Each gets a new owner, as a new Lambda container
   * would. Short leases and polls so a scenario moves quickly.
   */
  fetcher(overrides: Partial<Omit<FetcherOptions, 'store' | 'source' | 'sqs'>> = {}): Fetcher {
    this.fetcherCount += 1;
    const clients = this.clients(`fetcher-${this.fetcherCount}`);
    return new Fetcher({
      store: new PipelineStore({ tableName: this.tables.state, client: clients.dynamodb }),
      source: new EventLog({
        tableName: this.tables.events,
        client: clients.dynamodb,
        ...this.streamSettings(),
      }),
      sqs: clients.sqs,
      pipelines: [this.name],
      owner: `fetcher-${this.fetcherCount}`,
      leaseDurationMs: 2_000,
      pollIntervalMs: 100,
      idleCheckpointIntervalMs: 1_000,
      finalizeReserveMs: 300,
      ...overrides,
    });
  }

  /** Runs one fetcher run, counting it and any error it ended with (a crash included). */
  async runFetcher(fetcher: Fetcher, budgetMs = 2_000): Promise<void> {
    this.fetcherRuns += 1;
    try {
      const summary = await fetcher.run({ budgetMs });
      const ended = Object.values(summary.pipelines);
      if (ended.some((pipeline) => pipeline.error)) this.fetcherErrors += 1;
      if (ended.some((pipeline) => pipeline.stopReason === 'lease lost')) this.fetcherLeasesLost += 1;
      for (const { expired } of ended)
        if (expired)
          this.expiredRanges.push({ from: parsePosition(expired.from), to: parsePosition(expired.to) });
      for (const { stopReason = 'none', outcome } of ended) {
        const reason = outcome === 'locked' ? 'locked' : stopReason;
        this.fetcherStopReasons[reason] = (this.fetcherStopReasons[reason] ?? 0) + 1;
      }
    } catch {
      this.fetcherErrors += 1;
      this.fetcherStopReasons.crashed = (this.fetcherStopReasons.crashed ?? 0) + 1;
    }
  }

  /**
   * Runs fetchers one after another, as the schedule does, until the returned function is called
   * (which resolves once the run in progress has ended).
   */
  runFetcherLoop(
    make: (run: number) => Fetcher = () => this.fetcher(),
    budgetMs = 2_000,
  ): () => Promise<void> {
    let running = true;
    const loop = (async () => {
      for (let run = 0; running; run += 1) {
        await this.runFetcher(make(run), budgetMs);
        await pause(50);
      }
    })();
    return async () => {
      running = false;
      await loop;
    };
  }

  /** The ids of the source stream (of one type, when given), read back from the log. */
  async committedIds(type?: string): Promise<string[]> {
    const ids: string[] = [];
    for await (const event of this.eventLog.events(this.stream))
      if (type === undefined || event.type === type) ids.push(event.id);
    return ids;
  }

  /**
   * Deletes every item of the event table whose TTL has passed, as DynamoDB's TTL would (DynamoDB
   * Local never does). Resolves to the number of items deleted.
   */
  async expireByTtl(): Promise<number> {
    const now = Math.floor(Date.now() / 1000);
    let deleted = 0;
    for await (const page of paginateScan(
      { client: this.clean.dynamodb },
      {
        TableName: this.tables.events,
        FilterExpression: '#expiresAt < :now',
        ExpressionAttributeNames: { '#expiresAt': ATTRIBUTES.expiresAt },
        ExpressionAttributeValues: { ':now': { N: String(now) } },
      },
    )) {
      for (const item of page.Items ?? []) {
        const key: Record<string, AttributeValue> = {
          [ATTRIBUTES.partitionKey]: item[ATTRIBUTES.partitionKey] as AttributeValue,
          [ATTRIBUTES.sortKey]: item[ATTRIBUTES.sortKey] as AttributeValue,
        };
        await this.clean.dynamodb.send(new DeleteItemCommand({ TableName: this.tables.events, Key: key }));
        deleted += 1;
      }
    }
    return deleted;
  }

  /**
   * Sends every failure the failed handler accepted back to the queue from its failure record, as
   * `sluice redrive` does in the deployed wiring, and marks those events redriven.
   */
  async redriveFailures(): Promise<RedriveFailuresResult> {
    const handed = this.handedOverIds();
    const result = await redriveFailures({
      store: new FailureStore({ tableName: this.tables.state, client: this.clean.dynamodb }),
      sqs: this.clean.sqs,
      pipeline: this.name,
      queueUrl: this.queue.queueUrl,
      maxMessagesPerSecond: 100,
    });
    this.markRedriven(handed);
    return result;
  }

  /**
   * Resolves to true once every event of `ids` was handled or given to the failed handler, both queues
   * are empty and nothing runs (seen twice in a row); to false when `timeoutMs` passes first.
   */
  async waitUntilSettled(ids: readonly string[], timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    let quiet = 0;
    while (Date.now() < deadline) {
      const handed = new Set(this.handedOverIds());
      const accounted = ids.every((id) =>
        this.redriven.has(id)
          ? this.handlerSuccesses.has(id)
          : this.handlerSuccesses.has(id) || handed.has(id) || this.reportedExpired(id),
      );
      const busy = this.mappings.some((mapping) => mapping.stats().inFlight > 0);
      const empty =
        accounted &&
        !busy &&
        (await queueDepth(this.clean.sqs, this.queue.queueUrl)) === 0 &&
        (await queueDepth(this.clean.sqs, this.queue.deadLetterQueueUrl)) === 0;
      quiet = empty ? quiet + 1 : 0;
      if (quiet >= 2) return true;
      await pause(250);
    }
    return false;
  }

  /** Stops the event sources (waiting for their invocations) and the watcher. */
  async stop(): Promise<void> {
    await Promise.all(this.mappings.map((mapping) => mapping.stop()));
    this.watching = false;
    await this.watcher;
  }

  /** What the invariants are checked on, read back through clients without faults. */
  async observations(committed?: readonly string[]): Promise<Observations> {
    const effects: string[] = [];
    const parts: string[] = [];
    for await (const event of this.eventLog.events<{ source: string; part?: number }>(this.effectsStream)) {
      if (event.data.part) parts.push(`${event.data.source}#${event.data.part}`);
      else effects.push(event.data.source);
    }
    const handedOver: string[] = [];
    for await (const event of this.eventLog.events<{ source: string }>(this.failedEffectsStream))
      handedOver.push(event.data.source);
    const ids = committed ?? (await this.committedIds());
    const partitionKeys = new Map<string, string>();
    const numbers: string[] = [];
    for await (const event of this.eventLog.events<ChaosData>(this.stream)) {
      if (event.partitionKey && this.options.pipeline?.fifo) partitionKeys.set(event.id, event.partitionKey);
      if (event.type === 'order') numbers.push(String(event.data.n));
    }
    return {
      committed: ids,
      effects,
      ...(this.options.outputsPerEvent ? { outputs: { parts, perEvent: this.options.outputsPerEvent } } : {}),
      handedOver,
      failedHandlerCalls: [...this.failedHandlerCalls],
      handlerSuccesses: new Map(this.handlerSuccesses),
      handlerFailures: new Map(this.handlerFailures),
      checkpoints: [...this.checkpoints],
      ...(partitionKeys.size > 0 ? { partitionKeys } : {}),
      redriven: new Set(this.redriven),
      seekTargets: [...this.seekTargets],
      reportedExpired: new Set(ids.filter((id) => this.reportedExpired(id))),
      producerKeys: numbers,
    };
  }

  /** How many fetchers did work on the pipeline: the owners of its recorded runs. */
  async fetcherOwners(): Promise<number> {
    const runs = await this.store.listRuns(this.name, 100);
    return new Set(runs.map((run) => run.owner)).size;
  }

  /** Counts of the moving parts. */
  activity(): ChaosActivity {
    const [worker, failed] = this.mappings.map((mapping) => mapping.stats());
    const faults = this.injectors.map((injector) => injector.counts());
    return {
      fetcherRuns: this.fetcherRuns,
      fetcherErrors: this.fetcherErrors,
      fetcherLeasesLost: this.fetcherLeasesLost,
      fetcherStopReasons: { ...this.fetcherStopReasons },
      workerInvocations: worker?.invocations ?? 0,
      workerFailedBatches: worker?.failedBatches ?? 0,
      workerTimeouts: worker?.timeouts ?? 0,
      deadLetterInvocations: failed?.invocations ?? 0,
      duplicatesSkipped: this.duplicatesSkipped,
      faults: {
        requests: faults.reduce((sum, counts) => sum + counts.requests, 0),
        injected: faults.reduce((sum, counts) => sum + counts.injected, 0),
        byKind: {
          throttle: faults.reduce((sum, counts) => sum + counts.byKind.throttle, 0),
          'server-error': faults.reduce((sum, counts) => sum + counts.byKind['server-error'], 0),
          timeout: faults.reduce((sum, counts) => sum + counts.byKind.timeout, 0),
        },
        byOperation: faults.reduce<Record<string, number>>((sum, counts) => {
          for (const [operation, count] of Object.entries(counts.byOperation))
            sum[operation] = (sum[operation] ?? 0) + count;
          return sum;
        }, {}),
      },
    };
  }

  /** Deletes the tables and queues. */
  async drop(): Promise<void> {
    await Promise.allSettled([
      this.clean.dynamodb.send(new DeleteTableCommand({ TableName: this.tables.events })),
      this.clean.dynamodb.send(new DeleteTableCommand({ TableName: this.tables.state })),
      this.clean.sqs.send(new DeleteQueueCommand({ QueueUrl: this.queue.queueUrl })),
      this.clean.sqs.send(new DeleteQueueCommand({ QueueUrl: this.queue.deadLetterQueueUrl })),
    ]);
  }

  private async handle(event: WorkerEvent<ChaosData>, timeoutSeconds: number) {
    try {
      return await this.runHandler(event, timeoutSeconds);
    } catch (error) {
      const message = (error as Error).message;
      const before = this.handlerFailures.get(event.id);
      this.handlerFailures.set(event.id, {
        settled: 0,
        ...before,
        count: (before?.count ?? 0) + 1,
        lastError: message,
      });
      this.invocation.getStore()?.push({ id: event.id, message });
      throw error;
    }
  }

  private async runHandler(event: WorkerEvent<ChaosData>, timeoutSeconds: number) {
    const attempt = (this.attempts.get(event.id) ?? 0) + 1;
    this.attempts.set(event.id, attempt);
    switch (this.fixed && event.data.kind === EVENT_KINDS.poison ? undefined : event.data.kind) {
      case EVENT_KINDS.poison:
        throw new Error(`order ${event.data.n} is poison (attempt ${event.attempt})`);
      case EVENT_KINDS.nonRetryable:
        throw new NonRetryableError(`order ${event.data.n} needs a manual review`);
      case EVENT_KINDS.flaky:
        if (event.attempt === 1) throw new Error(`order ${event.data.n}: the payment service timed out`);
        break;
      case EVENT_KINDS.hang:
        if (attempt === 1) await pause(timeoutSeconds * 1_000 + 1_000);
        break;
      default:
        break;
    }
    this.handlerSuccesses.set(event.id, (this.handlerSuccesses.get(event.id) ?? 0) + 1);
    const effect = { stream: this.effectsStream, type: 'effect', data: { source: event.id } };
    const outputs = this.options.outputsPerEvent ?? 1;
    if (outputs === 1) return effect;
    return [
      effect,
      ...Array.from({ length: outputs - 1 }, (_, index) => ({
        ...effect,
        data: { source: event.id, part: index + 1 },
      })),
    ];
  }

  private async commitHistory(count: number, hours: number): Promise<void> {
    if (count === 0) return;
    const from = Date.now() - hours * 3_600_000;
    const step = Math.floor((hours * 3_600_000 - 60_000) / count);
    this.nextNumber = count;
    for (let start = 0; start < count; start += 100) {
      const inputs = Array.from({ length: Math.min(100, count - start) }, (_, offset) =>
        this.input(start + offset),
      );
      // Each attempt takes the batch's own times again: a re-commit must not push the ids of the
      // events behind it later (past the end of the history, into the future).
      await commitSurely(() => {
        let clock = from + start * step;
        return new EventLog({
          tableName: this.tables.events,
          client: this.clean.dynamodb,
          ...this.streamSettings(),
          idGenerator: new EventIdGenerator({ now: () => (clock += step) }),
        });
      }, inputs);
    }
  }

  private async watchCheckpoints(): Promise<void> {
    while (this.watching) {
      try {
        const state = await this.store.getState(this.name);
        const last = this.checkpoints.at(-1);
        if (state && (!last || last.version !== state.version)) {
          const afterSeek = this.seeking > 0 || this.seekSettling;
          this.seekSettling = false;
          this.checkpoints.push({
            version: state.version,
            position: formatPosition(state.position),
            ...(afterSeek ? { afterSeek } : {}),
          });
        }
      } catch {
        // The checker's own client has no faults; a failed read is only a missed sample.
      }
      await pause(25);
    }
  }
}

/**
 * Commits events as a careful producer does: when the outcome is unknown (a lost response, a commit
 * past its deadline), it checks each id with `get()` and commits again only the events that did not
 * land, as `CommitOutcomeUnknownError` advises; a `CommitError` wrote nothing (a commit is atomic),
 * so it commits them all again (a slow emulator can miss the deadline while indexing a bucket).
 * Resolves to how many outcomes were unknown. Given a function, it takes a new log from it for each
 * attempt (a producer whose ids must not move on between attempts).
 *
 * @example
 * ```ts
 * const unknown = await commitSurely(eventLog, [pipeline.input(1), pipeline.input(2)]);
 * ```
 */
export async function commitSurely(
  logOrFactory: EventLog | (() => EventLog),
  inputs: readonly ReturnType<ChaosPipeline['input']>[],
  attempts = 5,
): Promise<number> {
  let pending = [...inputs];
  let unknown = 0;
  for (let attempt = 1; pending.length > 0; attempt += 1) {
    const log = typeof logOrFactory === 'function' ? logOrFactory() : logOrFactory;
    try {
      await log.commit(pending);
      return unknown;
    } catch (error) {
      if (error instanceof CommitError && attempt < attempts) continue;
      if (!(error instanceof CommitOutcomeUnknownError) || attempt >= attempts) throw error;
      unknown += 1;
      const landed = await Promise.all(
        error.eventIds.map(async (id) => (await log.get(pending[0]?.stream ?? '', id)) !== undefined),
      );
      pending = pending.filter((_, index) => !landed[index]);
    }
  }
  return unknown;
}

/** Resolves after `ms` milliseconds. */
export function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A body with its events readable, compressed or not: the envelope as JSON, or the body as it is. */
function readableBody(body: string): string {
  try {
    return JSON.stringify(parseEnvelope(body));
  } catch {
    return body;
  }
}
