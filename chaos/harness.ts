import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { EventLog, type EventLogOptions, type Position } from '../lib';
import { FailureStore } from '../lib/failed/failure-store';
import { type RedriveFailuresResult, redriveFailures } from '../lib/failed/redrive-failures';
import { Fetcher, type FetcherOptions, type FetcherRunOptions } from '../lib/fetcher/fetcher';
import { queueDepth } from '../lib/fetcher/queue-depth';
import type { SqsEventSourceMapping } from '../lib/local';
import { PipelineStore } from '../lib/state/pipeline-store';
import { type FaultInjector, injectFaults } from '../lib/testing/faults';
import { seededRandom } from '../test/support/fixtures';
import { type QueueWithDeadLetterQueue, uniqueName } from '../test/support/resources';
import { CheckpointWatcher } from './checkpoint-watcher';
import { awsClients } from './environment';
import type { ChaosInput } from './event-kinds';
import { chaosEventSources } from './event-sources';
import { totalFaultCounts } from './fault-totals';
import { FetcherRuns } from './fetcher-runs';
import { commitHistory } from './history';
import type { Observations, ObservedHandOver } from './invariants';
import { readEffects, readHandedOver, readSourceKeys } from './logged-effects';
import { pause } from './pause';
import type { ChaosActivity, ChaosPipelineOptions } from './pipeline-options';
import { createPipelineResources, dropPipelineResources } from './pipeline-resources';
import { whereAre } from './queue-contents';
import { ScenarioHandler } from './scenario-handler';
import { expireByTtl } from './ttl-expiry';

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
  private readonly handler: ScenarioHandler;
  private readonly redriven = new Set<string>();
  private readonly checkpointWatcher: CheckpointWatcher;
  private readonly fetcherRuns = new FetcherRuns();
  /** The next event number a live producer takes (the history takes the first ones). */
  private nextNumber = 0;
  private mappings: SqsEventSourceMapping[] = [];
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
    this.handler = new ScenarioHandler({
      effectsStream: this.effectsStream,
      outputsPerEvent: options.outputsPerEvent,
      faulty: options.faults !== undefined,
    });
    this.checkpointWatcher = new CheckpointWatcher(this.store, this.name);
  }

  /** Creates the tables, the queues and the pipeline record, and commits the history. */
  static async create(options: ChaosPipelineOptions): Promise<ChaosPipeline> {
    const clean = awsClients(options.endpoints);
    const { tables, queue } = await createPipelineResources(clean, options);
    const pipeline = new ChaosPipeline(options, clean, tables, queue);
    await pipeline.store.putPipeline({
      name: pipeline.name,
      stream: pipeline.stream,
      queueUrl: queue.queueUrl,
      start: 'earliest',
      ...options.pipeline,
    });
    pipeline.nextNumber = options.history ?? 0;
    await commitHistory({
      count: pipeline.nextNumber,
      hours: options.historyHours ?? 3,
      input: (n) => pipeline.input(n),
      logWith: (idGenerator) =>
        new EventLog({
          tableName: pipeline.tables.events,
          client: clean.dynamodb,
          ...pipeline.streamSettings(),
          idGenerator,
        }),
    });
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
  nextInputs(count: number): ChaosInput[] {
    return Array.from({ length: count }, () => this.input(this.nextNumber++));
  }

  /** Whether a fetcher run reported the event inside a range it could no longer read. */
  reportedExpired(id: string): boolean {
    return this.fetcherRuns.reportedExpired(id);
  }

  private streamSettings(): Pick<EventLogOptions, 'streams'> {
    const retentionSeconds = this.options.retentionSeconds;
    return retentionSeconds ? { streams: { [this.stream]: { retentionSeconds } } } : {};
  }

  /** The events of the source stream: `{ stream, type, data }` for event `n`. */
  input(n: number): ChaosInput {
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
    this.handler.fix();
  }

  /** Marks events as sent back by a redrive: they may have been handed over before their effect. */
  markRedriven(ids: Iterable<string>): void {
    for (const id of ids) this.redriven.add(id);
  }

  /** What the harness saw of one event (for the report of an event that did not settle). */
  describeEvent(id: string): string {
    const failures = this.handler.failures.get(id);
    const successes = this.handler.successes.get(id) ?? 0;
    const calls = this.failedHandlerCalls.filter((call) => call.id === id).length;
    return `${id}: ${successes} successful run(s), ${failures?.count ?? 0} failed (last: ${failures?.lastError ?? 'none'}), ${calls} failed-handler call(s)`;
  }

  /**
   * Where the given events are, for the report of a scenario that did not settle: each queue's
   * counts, and the visible messages that carry one of them with their receive counts. Receiving
   * moves those messages, so call it only once the scenario has stopped.
   */
  async whereAre(ids: readonly string[]): Promise<Record<string, unknown>> {
    return whereAre(this.clean.sqs, this.queue, ids);
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
    await this.checkpointWatcher.seek(position, reason);
  }

  /** Starts the worker and the dead-letter consumer behind their event sources, and the checkpoint watcher. */
  async start(): Promise<void> {
    this.mappings = chaosEventSources({
      pipeline: this.name,
      tables: this.tables,
      queue: this.queue,
      options: this.options,
      failedEffectsStream: this.failedEffectsStream,
      handler: this.handler,
      clients: (part) => this.clients(part),
      onHandOver: (call) => this.failedHandlerCalls.push(call),
      onDuplicatesSkipped: (count) => {
        this.duplicatesSkipped += count;
      },
    });
    await Promise.all(this.mappings.map((mapping) => mapping.start()));
    this.checkpointWatcher.start();
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
  async runFetcher(
    fetcher: Fetcher,
    budgetMs = 2_000,
    options: Omit<FetcherRunOptions, 'budgetMs'> = {},
  ): Promise<void> {
    await this.fetcherRuns.run(fetcher, budgetMs, options);
  }

  /**
   * Runs fetchers one after another, as the schedule does, until the returned function is called
   * (which resolves once the run in progress has ended).
   */
  runFetcherLoop(
    make: (run: number) => Fetcher = () => this.fetcher(),
    budgetMs = 2_000,
  ): () => Promise<void> {
    return this.fetcherRuns.loop(make, budgetMs);
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
    return expireByTtl(this.clean.dynamodb, this.tables.events);
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
          ? this.handler.successes.has(id)
          : this.handler.successes.has(id) || handed.has(id) || this.reportedExpired(id),
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
    await this.checkpointWatcher.stop();
  }

  /** What the invariants are checked on, read back through clients without faults. */
  async observations(committed?: readonly string[]): Promise<Observations> {
    const { effects, parts } = await readEffects(this.eventLog, this.effectsStream);
    const handedOver = await readHandedOver(this.eventLog, this.failedEffectsStream);
    const ids = committed ?? (await this.committedIds());
    const { partitionKeys, producerKeys } = await readSourceKeys(
      this.eventLog,
      this.stream,
      Boolean(this.options.pipeline?.fifo),
    );
    return {
      committed: ids,
      effects,
      ...(this.options.outputsPerEvent ? { outputs: { parts, perEvent: this.options.outputsPerEvent } } : {}),
      handedOver,
      failedHandlerCalls: [...this.failedHandlerCalls],
      handlerSuccesses: new Map(this.handler.successes),
      handlerFailures: new Map(this.handler.failures),
      checkpoints: [...this.checkpointWatcher.checkpoints],
      ...(partitionKeys.size > 0 ? { partitionKeys } : {}),
      redriven: new Set(this.redriven),
      seekTargets: [...this.checkpointWatcher.seekTargets],
      reportedExpired: new Set(ids.filter((id) => this.reportedExpired(id))),
      producerKeys,
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
    return {
      ...this.fetcherRuns.counts(),
      workerInvocations: worker?.invocations ?? 0,
      workerFailedBatches: worker?.failedBatches ?? 0,
      workerTimeouts: worker?.timeouts ?? 0,
      deadLetterInvocations: failed?.invocations ?? 0,
      duplicatesSkipped: this.duplicatesSkipped,
      faults: totalFaultCounts(this.injectors.map((injector) => injector.counts())),
    };
  }

  /** Deletes the tables and queues. */
  async drop(): Promise<void> {
    await dropPipelineResources(this.clean, { tables: this.tables, queue: this.queue });
  }
}
