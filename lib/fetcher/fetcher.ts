import { randomUUID } from 'node:crypto';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { parseBackfillPipelineName } from '../backfill/names';
import { describe, ValidationError } from '../errors';
import type { EventSource } from '../event-log/event-source';
import { type PipelineDefinition, type ResolvedPipeline, resolvePipeline } from '../pipeline/definition';
import { withRetry } from '../retry/with-retry';
import { createSqsClient } from '../sqs/client';
import { SendMessagesError } from '../sqs/errors';
import { sendMessageBatches } from '../sqs/send-message-batches';
import { CheckpointConflictError, LeaseLostError } from '../state/errors';
import type { PipelineStore } from '../state/pipeline-store';
import { type Lease, PIPELINE_STATUS, type RunCounts, type RunRecord } from '../state/types';
import {
  comparePositions,
  formatPosition,
  type Position,
  positionAfterEvent,
  positionTimeMs,
} from '../time/position';
import { lastContiguousAcceptedEventId, type PackedMessage, packEvents } from './packing';
import { queueDepth } from './queue-depth';
import {
  emptyCounts,
  FETCHER_STEPS,
  type FetcherLogger,
  type FetcherMetrics,
  type FetcherRunSummary,
  type FetcherStep,
  type FetcherStepHook,
  PIPELINE_OUTCOME,
  type PipelineOutcome,
  type PipelineRunSummary,
  type RunNotifier,
} from './types';

/** Options of a {@link Fetcher}. */
export interface FetcherOptions {
  /** Pipelines, checkpoints, leases and runs. */
  readonly store: PipelineStore;
  /** Where events are read from: usually the `EventLog`. */
  readonly source: EventSource;
  /** @default a new SQSClient from the environment */
  readonly sqs?: SQSClient;
  /** This fetcher's name in leases and runs. @default `fetcher-<random uuid>` */
  readonly owner?: string;
  /**
   * How long a lease lasts without renewal. Every checkpoint write renews it; an idle fetcher renews
   * it when half is left. Another fetcher can take the pipeline over once it has expired.
   * @default 60000
   */
  readonly leaseDurationMs?: number;
  /** How long to wait between reads of the live edge once every pipeline has caught up. @default 1000 */
  readonly pollIntervalMs?: number;
  /** How often an idle pipeline's checkpoint follows the settled horizon. @default 30000 */
  readonly idleCheckpointIntervalMs?: number;
  /** Time left at the end of a run for the final checkpoints and lease releases. @default 3000 */
  readonly finalizeReserveMs?: number;
  /** Only these pipelines, and their backfills. @default every registered pipeline */
  readonly pipelines?: readonly string[];
  /**
   * Definitions put into the store (`putPipeline`) before the first run: a deployed fetcher registers
   * the pipelines it is deployed for. A registered pipeline keeps its checkpoint. @default none
   */
  readonly register?: readonly PipelineDefinition[];
  readonly logger?: FetcherLogger;
  readonly metrics?: FetcherMetrics;
  readonly notifier?: RunNotifier;
  /** Named crash points for tests; see {@link FetcherStepHook}. */
  readonly onStep?: FetcherStepHook;
  /** @default Date.now */
  readonly clock?: () => number;
  /** @default a setTimeout promise */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** How long one `run()` may take. */
export interface FetcherRunOptions {
  /** The epoch-ms time by which `run()` returns (a Lambda's deadline minus a margin). */
  readonly deadline?: number;
  /** Or a budget from now, in milliseconds. */
  readonly budgetMs?: number;
  /**
   * Return as soon as every pipeline has caught up with the settled horizon, rather than tailing the
   * live edge until the deadline: for backfills, scripts and tests.
   * @default false
   */
  readonly untilCaughtUp?: boolean;
  /** Work only these of the fetcher's pipelines in this run (a backfill function's own). @default all */
  readonly only?: readonly string[];
}

interface ActivePipeline {
  readonly pipeline: ResolvedPipeline;
  lease: Lease;
  run: RunRecord;
  /** How far SQS has accepted. */
  position: Position;
  /** What the stored checkpoint says. */
  written: Position;
  version: number;
  lastWriteAt: number;
  readonly stopAt?: Position;
  readonly counts: RunCounts;
  readonly startedAt: number;
  done: boolean;
  outcome: PipelineOutcome;
  stopReason?: string;
  error?: Error;
  leaseLost: boolean;
  /** Paused at bufferSize: the queue depth is read before the next page, until there is room. */
  waitingForRoom?: boolean;
}

/** A hook threw: the fetcher stopped as if its process died. */
class SimulatedCrash extends Error {}

const NOOP_LOGGER: FetcherLogger = { debug() {}, info() {}, warn() {}, error() {} };

/**
 * The pump: reads each pipeline's next events from the event log and sends them to its queue, then
 * records how far it got. Never skips an event (the checkpoint moves only past events whose messages
 * SQS accepted), never lets two fetchers work one pipeline at once (fenced leases), never floods a
 * slow worker (it pauses at `bufferSize` messages in the queue), and keeps tailing the live edge
 * until its time budget ends. One fetcher serves many pipelines, one page each in turn.
 *
 * @example
 * ```ts
 * const fetcher = new Fetcher({ store, source: eventLog, sqs });
 * const summary = await fetcher.run({ deadline: Date.now() + context.getRemainingTimeInMillis() - 5_000 });
 * ```
 */
export class Fetcher {
  readonly owner: string;
  private readonly store: PipelineStore;
  private readonly source: EventSource;
  private readonly sqs: SQSClient;
  private readonly leaseDurationMs: number;
  private readonly pollIntervalMs: number;
  private readonly idleCheckpointIntervalMs: number;
  private readonly finalizeReserveMs: number;
  private readonly only?: ReadonlySet<string>;
  private readonly register: readonly PipelineDefinition[];
  private registered = false;
  private readonly logger: FetcherLogger;
  private readonly metrics?: FetcherMetrics;
  private readonly notifier?: RunNotifier;
  private readonly onStep?: FetcherStepHook;
  private readonly clock: () => number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(options: FetcherOptions) {
    const problems = [
      checkRange('leaseDurationMs', options.leaseDurationMs, 1_000, 3_600_000),
      checkRange('pollIntervalMs', options.pollIntervalMs, 10, 60_000),
      checkRange('idleCheckpointIntervalMs', options.idleCheckpointIntervalMs, 1_000, 3_600_000),
      checkRange('finalizeReserveMs', options.finalizeReserveMs, 0, 60_000),
    ].filter((problem): problem is string => problem !== undefined);
    if (!options.store) problems.push('store is required');
    if (!options.source) problems.push('source is required');
    if (problems.length > 0)
      throw new ValidationError(`invalid Fetcher options: ${problems.join('; ')}`, options);
    this.store = options.store;
    this.source = options.source;
    this.sqs = options.sqs ?? createSqsClient();
    this.owner = options.owner ?? `fetcher-${randomUUID()}`;
    this.leaseDurationMs = options.leaseDurationMs ?? 60_000;
    this.pollIntervalMs = options.pollIntervalMs ?? 1_000;
    this.idleCheckpointIntervalMs = options.idleCheckpointIntervalMs ?? 30_000;
    this.finalizeReserveMs = options.finalizeReserveMs ?? 3_000;
    if (options.pipelines) this.only = new Set(options.pipelines);
    this.register = options.register ?? [];
    for (const definition of this.register) resolvePipeline(definition);
    this.logger = options.logger ?? NOOP_LOGGER;
    if (options.metrics) this.metrics = options.metrics;
    if (options.notifier) this.notifier = options.notifier;
    if (options.onStep) this.onStep = options.onStep;
    this.clock = options.clock ?? Date.now;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  /**
   * Works every enabled pipeline until the deadline: takes their leases, pumps their events, tails
   * the live edge, then saves checkpoints and releases the leases. Errors of one pipeline are recorded
   * in its run and summary; the others carry on.
   *
   * @example
   * ```ts
   * const { pipelines } = await fetcher.run({ budgetMs: 50_000 });
   * ```
   */
  async run(options: FetcherRunOptions = {}): Promise<FetcherRunSummary> {
    const startedAt = this.clock();
    const deadline = options.deadline ?? startedAt + (options.budgetMs ?? 50_000);
    const stopWorkingAt = deadline - this.finalizeReserveMs;
    await this.registerPipelines();
    const { pipelines, invalid } = await this.store.listPipelines();
    const inRun = (name: string) => this.isChosen(name) && (!options.only || options.only.includes(name));
    const summaries: Record<string, PipelineRunSummary> = {};
    for (const { name, error } of invalid) {
      if (!inRun(name)) continue;
      this.logger.error('pipeline definition is invalid; skipped', { pipeline: name, error: error.message });
      summaries[name] = {
        pipeline: name,
        outcome: PIPELINE_OUTCOME.failed,
        error,
        counts: emptyCounts(),
        durationMs: 0,
      };
    }

    const active: ActivePipeline[] = [];
    const chosen = pipelines.filter((pipeline) => inRun(pipeline.name));
    await Promise.all(
      chosen.map(async (pipeline) => {
        const started = await this.begin(pipeline);
        if ('lease' in started) active.push(started);
        else summaries[pipeline.name] = started;
      }),
    );

    try {
      while (active.some((item) => !item.done) && this.clock() < stopWorkingAt) {
        let progressed = false;
        for (const item of active) {
          if (item.done || this.clock() >= stopWorkingAt) continue;
          progressed = (await this.step(item, options.untilCaughtUp ?? false)) || progressed;
        }
        if (!progressed && active.some((item) => !item.done)) {
          await this.sleep(Math.max(0, Math.min(this.pollIntervalMs, stopWorkingAt - this.clock())));
        }
      }
      for (const item of active) summaries[item.pipeline.name] = await this.finish(item);
    } catch (error) {
      if (error instanceof SimulatedCrash) throw error.cause;
      throw error;
    }
    // Every pipeline this fetcher tried, including those that failed before it got a lease; not
    // the ones another fetcher holds, which that fetcher reports.
    const silent: readonly PipelineOutcome[] = [
      PIPELINE_OUTCOME.locked,
      PIPELINE_OUTCOME.disabled,
      PIPELINE_OUTCOME.alreadyCompleted,
    ];
    for (const summary of Object.values(summaries))
      if (!silent.includes(summary.outcome)) this.metrics?.recordPipelineRun(summary);
    return { pipelines: summaries, durationMs: this.clock() - startedAt };
  }

  private async begin(pipeline: ResolvedPipeline): Promise<ActivePipeline | PipelineRunSummary> {
    const skipped = (
      outcome: PipelineOutcome,
      extra: Partial<PipelineRunSummary> = {},
    ): PipelineRunSummary => ({
      pipeline: pipeline.name,
      outcome,
      counts: emptyCounts(),
      durationMs: 0,
      ...extra,
    });
    if (!pipeline.enabled) return skipped(PIPELINE_OUTCOME.disabled);
    let lease: Lease | undefined;
    try {
      lease = await this.store.acquireLease(pipeline.name, this.owner, this.leaseDurationMs);
    } catch (error) {
      this.logger.error('could not take the lease', {
        pipeline: pipeline.name,
        error: (error as Error).message,
      });
      return skipped(PIPELINE_OUTCOME.failed, { error: error as Error });
    }
    if (!lease) return skipped(PIPELINE_OUTCOME.locked);
    await this.hook(FETCHER_STEPS.afterLease, pipeline.name);
    if (lease.state.status === PIPELINE_STATUS.completed) {
      await this.store.releaseLease(lease);
      return skipped(PIPELINE_OUTCOME.alreadyCompleted, { position: formatPosition(lease.state.position) });
    }
    const run = await this.store.startRun(lease);
    const now = this.clock();
    return {
      pipeline,
      lease,
      run,
      position: lease.state.position,
      written: lease.state.position,
      version: lease.state.version,
      lastWriteAt: now,
      ...(lease.state.stopAt ? { stopAt: lease.state.stopAt } : {}),
      counts: emptyCounts(),
      startedAt: now,
      done: false,
      outcome: PIPELINE_OUTCOME.finished,
      leaseLost: false,
    };
  }

  /** One page of one pipeline. Resolves to whether it moved any events. */
  private async step(item: ActivePipeline, untilCaughtUp: boolean): Promise<boolean> {
    const { pipeline } = item;
    try {
      if (item.waitingForRoom) {
        // Paused at bufferSize: one GetQueueAttributes per poll, and no read of the log, until the
        // worker has made room; the lease is kept alive meanwhile.
        const depth = await this.retry('read the queue depth', () => queueDepth(this.sqs, pipeline.queueUrl));
        if (depth >= pipeline.bufferSize) {
          await this.keepLease(item);
          return false;
        }
        item.waitingForRoom = false;
        item.stopReason = undefined;
      }
      const page = await this.retry('read the event log', () =>
        this.source.readAfter(pipeline.stream, item.position, {
          limit: pipeline.pageSize,
          ...(pipeline.eventTypes ? { types: pipeline.eventTypes } : {}),
          ...(item.stopAt ? { until: item.stopAt } : {}),
        }),
      );
      await this.hook(FETCHER_STEPS.afterRead, pipeline.name);
      item.counts.pages += 1;
      item.counts.eventsRead += page.events.length;

      if (page.events.length > 0) {
        const depth = await this.retry('read the queue depth', () => queueDepth(this.sqs, pipeline.queueUrl));
        const room = pipeline.bufferSize - depth;
        if (room <= 0) {
          this.pauseForRoom(item, untilCaughtUp, 'backpressure: the queue holds bufferSize messages or more');
          return false;
        }
        const messages = packEvents(pipeline.name, pipeline.stream, page.events, {
          maxMessageBytes: pipeline.maxMessageBytes,
          maxEventsPerMessage: pipeline.maxEventsPerMessage,
          fifo: pipeline.fifo,
          epoch: item.lease.state.epoch,
        });
        const toSend = messages.slice(0, room);
        let acceptedIds: readonly string[];
        let sendError: SendMessagesError | undefined;
        try {
          acceptedIds = (
            await sendMessageBatches(this.sqs, pipeline.queueUrl, toSend.map(outgoing), {
              throwOnFailure: true,
            })
          ).acceptedIds;
        } catch (error) {
          if (!(error instanceof SendMessagesError)) throw error;
          sendError = error;
          acceptedIds = error.acceptedIds;
        }
        await this.hook(FETCHER_STEPS.afterSend, pipeline.name);
        const accepted = new Set(acceptedIds);
        const acceptedMessages = toSend.filter((message) => accepted.has(message.id));
        item.counts.messagesSent += acceptedMessages.length;
        item.counts.eventsSent += acceptedMessages.reduce((sum, message) => sum + message.eventIds.length, 0);
        item.counts.bytesSent += acceptedMessages.reduce(
          (sum, message) => sum + Buffer.byteLength(message.body),
          0,
        );

        if (toSend.length === messages.length && acceptedIds.length === messages.length) {
          item.position = page.position;
        } else {
          // Only past events whose messages SQS accepted, all of them and everything before them.
          const last = lastContiguousAcceptedEventId(messages, accepted);
          if (last !== undefined) item.position = positionAfterEvent(last);
        }
        if (comparePositions(item.position, item.written) > 0) await this.checkpoint(item);
        if (sendError) throw sendError;
        if (toSend.length < messages.length) {
          this.pauseForRoom(item, untilCaughtUp, 'backpressure: the queue reached bufferSize messages');
          return true;
        }
        if (!page.caughtUp) return true;
      } else {
        item.position = page.position;
      }

      if (page.caughtUp && item.stopAt && comparePositions(item.position, item.stopAt) >= 0) {
        await this.checkpoint(item, PIPELINE_STATUS.completed);
        item.outcome = PIPELINE_OUTCOME.completed;
        this.stop(item, 'reached stopAt');
        return page.events.length > 0;
      }
      if (page.caughtUp && untilCaughtUp) {
        if (comparePositions(item.position, item.written) > 0) await this.checkpoint(item);
        this.stop(item, 'caught up');
        return page.events.length > 0;
      }
      await this.keepLease(item);
      return page.events.length > 0;
    } catch (error) {
      if (error instanceof SimulatedCrash) throw error;
      this.fail(item, error as Error);
      return false;
    }
  }

  /**
   * At bufferSize: a run that must return once caught up (a backfill, a script) stops the pipeline;
   * a scheduled run pauses it and keeps polling the queue depth, so that it resumes as soon as the
   * worker has made room rather than at the next scheduled run (a minute on AWS).
   */
  private pauseForRoom(item: ActivePipeline, untilCaughtUp: boolean, reason: string): void {
    if (untilCaughtUp) {
      this.stop(item, reason);
      return;
    }
    item.waitingForRoom = true;
    item.stopReason = reason;
  }

  /** Writes a checkpoint when the lease is half gone, or when one is due on an idle pipeline. */
  private async keepLease(item: ActivePipeline): Promise<void> {
    const now = this.clock();
    const leaseHalfGone = item.lease.expiresAt - now < this.leaseDurationMs / 2;
    if (
      leaseHalfGone ||
      (now - item.lastWriteAt >= this.idleCheckpointIntervalMs &&
        comparePositions(item.position, item.written) > 0)
    ) {
      await this.checkpoint(item);
    }
  }

  private async checkpoint(
    item: ActivePipeline,
    status: (typeof PIPELINE_STATUS)[keyof typeof PIPELINE_STATUS] = PIPELINE_STATUS.running,
  ): Promise<void> {
    await this.hook(FETCHER_STEPS.beforeCheckpoint, item.pipeline.name);
    const { lease, position, version, written } = item;
    item.version = await this.retry('write the checkpoint', () =>
      this.store.writeCheckpoint(lease, {
        position,
        expectedVersion: version,
        previous: written,
        leaseDurationMs: this.leaseDurationMs,
        status,
      }),
    );
    const now = this.clock();
    item.lease = { ...item.lease, expiresAt: now + this.leaseDurationMs };
    item.written = item.position;
    item.lastWriteAt = now;
    item.counts.checkpoints += 1;
    await this.hook(FETCHER_STEPS.afterCheckpoint, item.pipeline.name);
  }

  private async finish(item: ActivePipeline): Promise<PipelineRunSummary> {
    const name = item.pipeline.name;
    if (!item.leaseLost && comparePositions(item.position, item.written) > 0) {
      try {
        await this.checkpoint(item);
      } catch (error) {
        if (error instanceof SimulatedCrash) throw error;
        this.fail(item, error as Error);
      }
    }
    await this.hook(FETCHER_STEPS.beforeRelease, name);
    if (!item.leaseLost) await this.store.releaseLease(item.lease).catch(() => undefined);
    if (!item.done && !item.waitingForRoom) item.stopReason = 'time budget ended';
    const ended = await this.store
      .endRun(item.run, {
        counts: item.counts,
        ...(item.stopReason ? { stopReason: item.stopReason } : {}),
        endPosition: item.written,
        ...(item.error ? { error: item.error } : {}),
      })
      .catch((error: unknown) => {
        this.logger.error('could not record the end of the run', {
          pipeline: name,
          error: (error as Error).message,
        });
        return undefined;
      });
    if (ended) await this.notify(ended);
    const summary: PipelineRunSummary = {
      pipeline: name,
      outcome: item.outcome,
      counts: item.counts,
      ...(item.stopReason ? { stopReason: item.stopReason } : {}),
      ...(item.error ? { error: item.error } : {}),
      lagMs: Math.max(0, this.clock() - positionTimeMs(item.written)),
      position: formatPosition(item.written),
      durationMs: this.clock() - item.startedAt,
    };
    this.logger.info('pipeline run ended', { ...summary, error: summary.error?.message });
    return summary;
  }

  private async notify(run: RunRecord): Promise<void> {
    try {
      if (run.status === 'failed') await this.notifier?.onRunFailed?.(run);
      else await this.notifier?.onRunFinished?.(run);
    } catch (error) {
      this.logger.warn('the run notifier failed', {
        pipeline: run.pipeline,
        error: (error as Error).message,
      });
    }
  }

  private stop(item: ActivePipeline, reason: string): void {
    item.done = true;
    item.stopReason = reason;
  }

  private fail(item: ActivePipeline, error: Error): void {
    item.done = true;
    item.error = error;
    item.outcome = PIPELINE_OUTCOME.failed;
    if (error instanceof LeaseLostError || error instanceof CheckpointConflictError) {
      item.leaseLost = true;
      item.stopReason = error instanceof LeaseLostError ? 'lease lost' : 'checkpoint moved by a seek';
      item.outcome = PIPELINE_OUTCOME.finished;
      item.error = undefined;
    } else {
      item.stopReason = `error: ${error.name}`;
    }
    const log = item.leaseLost ? this.logger.warn : this.logger.error;
    log.call(this.logger, 'pipeline stopped', {
      pipeline: item.pipeline.name,
      reason: item.stopReason,
      error: error.message,
    });
  }

  /**
   * Puts the `register` option's definitions into the store, once per fetcher; `run()` calls it
   * first. Call it sooner where something needs the pipelines before a run (a backfill request).
   *
   * @example
   * ```ts
   * await fetcher.registerPipelines();
   * ```
   */
  async registerPipelines(): Promise<void> {
    if (this.registered) return;
    for (const definition of this.register)
      await this.retry('register pipeline', () => this.store.putPipeline(definition));
    this.registered = true;
  }

  /** Whether the `pipelines` option takes in this pipeline: one it lists, or a backfill of one. */
  private isChosen(name: string): boolean {
    if (!this.only || this.only.has(name)) return true;
    const backfill = parseBackfillPipelineName(name);
    return backfill !== undefined && this.only.has(backfill.pipeline);
  }

  /** Retries transient AWS errors (throttling, 5xx, timeouts) with the `aws` preset. */
  private retry<T>(name: string, operation: () => Promise<T>): Promise<T> {
    return withRetry(operation, { preset: 'aws', name, sleep: this.sleep });
  }

  private async hook(step: FetcherStep, pipeline: string): Promise<void> {
    if (!this.onStep) return;
    try {
      await this.onStep(step, { pipeline });
    } catch (error) {
      throw new SimulatedCrash(`crash at ${step}`, { cause: error });
    }
  }
}

function outgoing(message: PackedMessage) {
  return {
    id: message.id,
    body: message.body,
    ...(message.groupId === undefined ? {} : { groupId: message.groupId }),
    ...(message.deduplicationId === undefined ? {} : { deduplicationId: message.deduplicationId }),
  };
}

function checkRange(name: string, value: number | undefined, min: number, max: number): string | undefined {
  if (value === undefined) return undefined;
  if (!Number.isInteger(value) || value < min || value > max)
    return `${name} must be a whole number from ${min} to ${max} (given ${describe(value)})`;
  return undefined;
}
