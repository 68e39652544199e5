import { randomUUID } from 'node:crypto';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { CorruptEventError, describe, ValidationError } from '../errors';
import { DEFAULT_READ_MAX_BYTES } from '../event-log/constants';
import type { EventSource, PositionRange, ReadAfterPage } from '../event-log/event-source';
import type { StoredSegment } from '../event-log/segment';
import type { StoredEvent } from '../event-log/types';
import { type EnvelopeEvent, parseEnvelope, storedEventOf } from '../messages/envelope';
import { parseBackfillPipelineName } from '../pipeline/backfill-names';
import { type PipelineDefinition, type ResolvedPipeline, resolvePipeline } from '../pipeline/definition';
import { withRetry } from '../retry/with-retry';
import { FETCHER_SETTINGS } from '../settings/fetcher-settings';
import { createSqsClient } from '../sqs/client';
import { type SendFailureReason, SendMessagesError } from '../sqs/errors';
import { sendMessageBatches } from '../sqs/send-message-batches';
import { CheckpointConflictError, LeaseLostError } from '../state/errors';
import type { PipelineStore } from '../state/pipeline-store';
import { type Lease, PIPELINE_STATUS, type RunCounts, type RunRecord, type SendPlan } from '../state/types';
import { isEventId } from '../time/event-id';
import {
  comparePositions,
  formatPosition,
  isDeliveredAt,
  type Position,
  positionAfterEvent,
  positionAtTime,
  positionBeforeEvent,
  positionTimeMs,
} from '../time/position';
import { type PackedMessage, packEvents } from './packing';
import { queueDepth } from './queue-depth';
import {
  deadLetterEvent,
  deadLetterQueueOf,
  EventNotDeliverableError,
  UNREADABLE_EVENT_TYPE,
} from './refused-events';
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
  /**
   * The most stored bytes of events one page read from the log holds (a page always holds at least
   * one event): what bounds the fetcher's memory, since events may be up to 400 KB each.
   * @default 4194304 (4 MiB)
   */
  readonly maxPageBytes?: number;
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
  /**
   * Return once every pipeline has caught up with a settled horizon past the run's start (so the run
   * has read every commit made before it began, the ones that woke it among them) and read no event
   * for this long, rather than tailing the live edge until the deadline: a run woken by a commit. With it, a pipeline whose lease another fetcher holds is waited for
   * (polled until the deadline) rather than skipped, since that fetcher may be about to leave.
   * @default tail until the deadline
   */
  readonly untilIdleMs?: number;
  /**
   * With `untilIdleMs`: the newest event id the waker saw committed. The run leaves only once it has
   * read past it, wherever the writer's clock put the id. Without it, the run reads until its settled
   * horizon has passed its start by a second (how far a writer's ids may lead this machine's clock
   * when both are held to DynamoDB's, whose `Date` header counts whole seconds).
   */
  readonly readThrough?: string;
  /** Work only these of the fetcher's pipelines in this run (a backfill function's own). @default all */
  readonly only?: readonly string[];
}

/** How a run decides that a pipeline is done before its deadline. */
interface StepMode {
  readonly untilCaughtUp: boolean;
  readonly untilIdleMs?: number;
  readonly readThrough?: string;
}

/** How far past a woken run's start its horizon must be when it was not told which id to read through. */
const WRITER_ID_LEAD_MS = 1_000;

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
  /** When the run last read events of this pipeline (or began it). */
  lastMovedAt: number;
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
  /** The messages being sent past `position`, as their plan was written; none between pages. */
  pending?: PendingSend;
  /** The send plan the stored checkpoint holds, as last written or read. */
  storedPlan?: SendPlan;
  /** A plan left by an earlier fetcher, whose messages go out before anything new. */
  leftBehind?: SendPlan;
  /** The queue's dead-letter queue, once an event needed it. */
  deadLetterQueueUrl?: string;
  /** Events after `from` up to `to` had passed the stream's retention when this run read them. */
  expired?: PositionRange;
}

/** The messages of one send plan, and how far SQS has accepted them. */
interface PendingSend {
  /** As written ahead of the first send (`sent` counts from there). */
  readonly plan: SendPlan;
  readonly messages: readonly PackedMessage[];
  /** How many messages, in order, SQS has accepted. */
  next: number;
  /** Where the checkpoint may move once every message is accepted. */
  readonly end: Position;
  /** Whether the read that planned them reached the settled horizon (or `until`). */
  readonly caughtUp: boolean;
}

/** A hook threw: the fetcher stopped as if its process died. */
class SimulatedCrash extends Error {}

const { leaseDurationMs: LEASE, pollIntervalMs: POLL } = FETCHER_SETTINGS;

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
  private readonly maxPageBytes: number;
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
      checkRange('leaseDurationMs', options.leaseDurationMs, LEASE.min, LEASE.max),
      checkRange('pollIntervalMs', options.pollIntervalMs, POLL.min, POLL.max),
      checkRange('idleCheckpointIntervalMs', options.idleCheckpointIntervalMs, 1_000, 3_600_000),
      checkRange('finalizeReserveMs', options.finalizeReserveMs, 0, 60_000),
      checkRange('maxPageBytes', options.maxPageBytes, 1_024, 1_073_741_824),
    ].filter((problem): problem is string => problem !== undefined);
    if (!options.store) problems.push('store is required');
    if (!options.source) problems.push('source is required');
    if (problems.length > 0)
      throw new ValidationError(`invalid Fetcher options: ${problems.join('; ')}`, options);
    this.store = options.store;
    this.source = options.source;
    this.sqs = options.sqs ?? createSqsClient();
    this.owner = options.owner ?? `fetcher-${randomUUID()}`;
    this.leaseDurationMs = options.leaseDurationMs ?? LEASE.default;
    this.pollIntervalMs = options.pollIntervalMs ?? POLL.default;
    this.idleCheckpointIntervalMs = options.idleCheckpointIntervalMs ?? 30_000;
    this.finalizeReserveMs = options.finalizeReserveMs ?? 3_000;
    this.maxPageBytes = options.maxPageBytes ?? DEFAULT_READ_MAX_BYTES;
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
    const { untilIdleMs, readThrough } = options;
    if (untilIdleMs !== undefined && !(Number.isFinite(untilIdleMs) && untilIdleMs >= 0))
      throw new ValidationError(
        `invalid Fetcher run options: untilIdleMs must be a number of milliseconds, 0 or more (given ${describe(untilIdleMs)})`,
        options,
      );
    if (readThrough !== undefined && !isEventId(readThrough))
      throw new ValidationError(
        `invalid Fetcher run options: readThrough must be an event id (given ${describe(readThrough)})`,
        options,
      );
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
    const mode: StepMode = {
      untilCaughtUp: options.untilCaughtUp ?? false,
      ...(options.untilIdleMs === undefined ? {} : { untilIdleMs: options.untilIdleMs }),
      ...(options.readThrough === undefined ? {} : { readThrough: options.readThrough }),
    };
    // Woken runs wait for a lease another fetcher holds: it may be leaving without the newest events.
    const waitForLeases = mode.untilIdleMs !== undefined;
    let waiting: ResolvedPipeline[] = [];
    const begin = async (candidates: readonly ResolvedPipeline[]) => {
      const stillLocked: ResolvedPipeline[] = [];
      await Promise.all(
        candidates.map(async (pipeline) => {
          const started = await this.begin(pipeline);
          if ('lease' in started) {
            active.push(started);
            delete summaries[pipeline.name];
          } else {
            summaries[pipeline.name] = started;
            if (waitForLeases && started.outcome === PIPELINE_OUTCOME.locked) stillLocked.push(pipeline);
          }
        }),
      );
      waiting = stillLocked;
    };
    await begin(chosen);

    try {
      while ((waiting.length > 0 || active.some((item) => !item.done)) && this.clock() < stopWorkingAt) {
        let progressed = false;
        for (const item of active) {
          if (item.done || this.clock() >= stopWorkingAt) continue;
          progressed = (await this.step(item, mode)) || progressed;
        }
        if (waiting.length > 0) await begin(waiting);
        if (!progressed && (waiting.length > 0 || active.some((item) => !item.done))) {
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
      lastMovedAt: now,
      ...(lease.state.stopAt ? { stopAt: lease.state.stopAt } : {}),
      counts: emptyCounts(),
      startedAt: now,
      done: false,
      outcome: PIPELINE_OUTCOME.finished,
      leaseLost: false,
      // A plan of another epoch names messages a seek has since replaced; a seek clears it anyway.
      ...(lease.state.sendPlan && lease.state.sendPlan.epoch === lease.state.epoch
        ? { storedPlan: lease.state.sendPlan, leftBehind: lease.state.sendPlan }
        : {}),
    };
  }

  /**
   * One page of one pipeline. Resolves to whether it moved any events.
   *
   * Write-ahead: the messages packed from a page are named in a send plan, stored with the checkpoint
   * under the fenced lease before the first of them is sent. The checkpoint moves past the page only
   * once all of them are accepted (with the next page's plan, in the same write). A fetcher that dies
   * or loses its lease in between leaves the plan behind, and its successor sends exactly those
   * messages again (same marker keys, same FIFO deduplication ids) before anything new. At bufferSize
   * the rest of a plan waits, and is sent before the next read, so no sent event is read again.
   */
  private async step(item: ActivePipeline, mode: StepMode): Promise<boolean> {
    const { pipeline } = item;
    const { untilCaughtUp } = mode;
    try {
      let room: number | undefined;
      if (item.waitingForRoom) {
        // Paused at bufferSize: one GetQueueAttributes per poll, and no read of the log, until the
        // worker has made room; the lease is kept alive meanwhile.
        const depth = await this.retry('read the queue depth', () => queueDepth(this.sqs, pipeline.queueUrl));
        if (depth >= pipeline.bufferSize) {
          await this.keepLease(item);
          return false;
        }
        room = pipeline.bufferSize - depth;
        item.waitingForRoom = false;
        item.stopReason = undefined;
      }
      if (item.leftBehind) {
        item.pending = await this.replayPlan(item, item.leftBehind);
        item.leftBehind = undefined;
      }

      let moved = item.pending !== undefined;
      let caughtUp = false;
      if (!item.pending) {
        const page = await this.readPage(item);
        await this.hook(FETCHER_STEPS.afterRead, pipeline.name);
        item.counts.pages += 1;
        item.counts.eventsRead += page.events.length;
        if (page.expired) this.noteExpired(item, page.expired);
        caughtUp = page.caughtUp;
        moved = page.events.length > 0;
        if (page.events.length === 0) {
          item.position = page.position;
          if (!page.caughtUp) {
            // The read stopped at its bounds among events of other types: save how far it got, so that
            // a long run of them is crossed in steps that survive the end of the run.
            if (comparePositions(item.position, item.written) > 0) await this.checkpoint(item);
            return true;
          }
        } else {
          room ??= await this.room(item);
          if (room <= 0) {
            this.pauseForRoom(
              item,
              untilCaughtUp,
              'backpressure: the queue holds bufferSize messages or more',
            );
            return false;
          }
          item.pending = this.planPage(item, page);
          await this.checkpoint(item);
        }
      }

      const pending = item.pending;
      if (pending) {
        room ??= await this.room(item);
        if (room <= 0) {
          this.pauseForRoom(item, untilCaughtUp, 'backpressure: the queue holds bufferSize messages or more');
          return false;
        }
        if (!(await this.sendPending(item, pending, room))) {
          this.pauseForRoom(item, untilCaughtUp, 'backpressure: the queue reached bufferSize messages');
          return true;
        }
        item.position = pending.end;
        item.pending = undefined;
        if (!pending.caughtUp) return true;
        caughtUp = true;
      }

      if (caughtUp && item.stopAt && comparePositions(item.position, item.stopAt) >= 0) {
        await this.checkpoint(item, PIPELINE_STATUS.completed);
        item.outcome = PIPELINE_OUTCOME.completed;
        this.stop(item, 'reached stopAt');
        return moved;
      }
      if (moved) item.lastMovedAt = this.clock();
      if (caughtUp && untilCaughtUp) {
        if (this.unwritten(item)) await this.checkpoint(item);
        this.stop(item, 'caught up');
        return moved;
      }
      // Idle: caught up past what woke the run (every commit made before the wake-up has been read,
      // whatever the stream's settle window), and nothing read for untilIdleMs.
      if (
        caughtUp &&
        mode.untilIdleMs !== undefined &&
        this.clock() - item.lastMovedAt >= mode.untilIdleMs &&
        (mode.readThrough === undefined
          ? comparePositions(item.position, positionAtTime(item.startedAt + WRITER_ID_LEAD_MS)) >= 0
          : isDeliveredAt(item.position, mode.readThrough))
      ) {
        if (this.unwritten(item)) await this.checkpoint(item);
        this.stop(item, 'idle');
        return moved;
      }
      await this.keepLease(item);
      return moved;
    } catch (error) {
      if (error instanceof SimulatedCrash) throw error;
      this.fail(item, error as Error);
      return false;
    }
  }

  /** Keeps the widest expired range a run met, and says so the first time. */
  private noteExpired(item: ActivePipeline, range: PositionRange): void {
    if (!item.expired) {
      this.logger.error(
        'events expired before this pipeline read them; any that were deleted are lost to it',
        {
          pipeline: item.pipeline.name,
          from: formatPosition(range.from),
          to: formatPosition(range.to),
        },
      );
    }
    const to = item.expired && comparePositions(item.expired.to, range.to) > 0 ? item.expired.to : range.to;
    item.expired = { from: item.expired?.from ?? range.from, to };
  }

  /**
   * The next page after the pipeline's position. An item the log cannot read back (a corrupt segment)
   * would fail every read from here on: the page stops just before it, and once it is next, each of
   * its events goes to the dead-letter queue with the reason, and the read moves past it.
   */
  private async readPage(item: ActivePipeline): Promise<ReadAfterPage> {
    const { pipeline } = item;
    let until = item.stopAt;
    for (;;) {
      const bound = until;
      try {
        const page = await this.retry('read the event log', () =>
          this.source.readAfter(pipeline.stream, item.position, {
            limit: pipeline.pageSize,
            maxBytes: this.maxPageBytes,
            ...(pipeline.eventTypes ? { types: pipeline.eventTypes } : {}),
            ...(bound ? { until: bound } : {}),
          }),
        );
        return bound === item.stopAt ? page : { ...page, caughtUp: false };
      } catch (error) {
        if (!(error instanceof CorruptEventError)) throw error;
        const before = positionBeforeEvent(error.eventId);
        if (comparePositions(item.position, before) < 0) {
          until = item.stopAt && comparePositions(item.stopAt, before) < 0 ? item.stopAt : before;
          continue;
        }
        // Every event the item holds past the position goes, each with the reason; the read resumes
        // after the item's last event.
        for (const id of error.eventIds) {
          if (comparePositions(positionAfterEvent(id), item.position) <= 0) continue;
          const unreadable = { id, type: UNREADABLE_EVENT_TYPE, data: null };
          await this.deadLetter(item, unreadable, error, item.lease.state.epoch);
        }
        return { events: [], position: positionAfterEvent(error.eventIds.at(-1) as string), caughtUp: false };
      }
    }
  }

  /** Room left in the queue before bufferSize, in messages. */
  private async room(item: ActivePipeline): Promise<number> {
    const { queueUrl, bufferSize } = item.pipeline;
    return bufferSize - (await this.retry('read the queue depth', () => queueDepth(this.sqs, queueUrl)));
  }

  /** Packs a page into messages, and the plan that names them. */
  private planPage(item: ActivePipeline, page: ReadAfterPage): PendingSend {
    const { pipeline } = item;
    const packing = {
      maxEventsPerMessage: pipeline.maxEventsPerMessage,
      maxMessageBytes: pipeline.maxMessageBytes,
      fifo: pipeline.fifo,
      epoch: item.lease.state.epoch,
    };
    const messages = packEvents(pipeline.name, pipeline.stream, page.events, packing, page.segments);
    return {
      plan: {
        through: (page.events.at(-1) as StoredEvent).id,
        events: page.events.length,
        messages: messages.length,
        sent: 0,
        ...packing,
      },
      messages,
      next: 0,
      end: page.position,
      caughtUp: page.caughtUp,
    };
  }

  /**
   * The messages of a plan a fetcher left behind: the same range read again and packed the same way.
   * The log holds the same events there (it only grows past the settled horizon), so they come out
   * the same; if not, the difference is logged and what is there now is sent.
   */
  private async replayPlan(item: ActivePipeline, plan: SendPlan): Promise<PendingSend> {
    const { pipeline } = item;
    const until = positionAfterEvent(plan.through);
    const events: StoredEvent[] = [];
    const segments: StoredSegment[] = [];
    let position = item.position;
    for (;;) {
      const from = position;
      const page = await this.retry('read the event log', () =>
        this.source.readAfter(pipeline.stream, from, {
          limit: pipeline.pageSize,
          maxBytes: this.maxPageBytes,
          ...(pipeline.eventTypes ? { types: pipeline.eventTypes } : {}),
          until,
        }),
      );
      item.counts.pages += 1;
      item.counts.eventsRead += page.events.length;
      events.push(...page.events);
      segments.push(...(page.segments ?? []));
      position = page.position;
      if (page.caughtUp || comparePositions(position, until) >= 0) break;
    }
    await this.hook(FETCHER_STEPS.afterRead, pipeline.name);
    const messages = packEvents(pipeline.name, pipeline.stream, events, plan, segments);
    if (events.length !== plan.events || messages.length !== plan.messages) {
      this.logger.warn(
        'the events under a send plan changed since it was written; sending what is there now',
        {
          pipeline: pipeline.name,
          through: plan.through,
          planned: { events: plan.events, messages: plan.messages },
          found: { events: events.length, messages: messages.length },
        },
      );
    }
    return {
      plan,
      messages,
      next: Math.min(plan.sent, messages.length),
      end: comparePositions(position, until) < 0 ? position : until,
      caughtUp: false,
    };
  }

  /**
   * Sends the next messages of a plan, at most `room` of them, in order. Resolves to whether every
   * message of the plan is now accepted.
   */
  private async sendPending(item: ActivePipeline, pending: PendingSend, room: number): Promise<boolean> {
    const toSend = pending.messages.slice(pending.next, pending.next + room);
    await this.sendInOrder(item, toSend, () => {
      pending.next += 1;
    });
    return pending.next === pending.messages.length;
  }

  /**
   * Sends messages in order, calling `done` for each once it is accepted or set aside. A message SQS
   * refuses for what it holds (a sender fault: too large for the queue, characters it refuses) is sent
   * again as one message per event, and a lone event SQS refuses goes to the dead-letter queue with
   * the reason, so that one bad event neither wedges the pipeline nor holds back the others. Throws
   * on any other failure, after `done` for the messages accepted before it.
   */
  private async sendInOrder(
    item: ActivePipeline,
    messages: readonly PackedMessage[],
    done: (message: PackedMessage) => void,
  ): Promise<void> {
    const { pipeline } = item;
    let rest = messages;
    while (rest.length > 0) {
      let acceptedCount: number;
      let sendError: SendMessagesError | undefined;
      try {
        acceptedCount = (
          await sendMessageBatches(this.sqs, pipeline.queueUrl, rest.map(outgoing), { throwOnFailure: true })
        ).acceptedIds.length;
      } catch (error) {
        if (!(error instanceof SendMessagesError)) throw error;
        sendError = error;
        acceptedCount = error.acceptedIds.length;
      }
      await this.hook(FETCHER_STEPS.afterSend, pipeline.name);
      // The accepted ids are a prefix of what was sent.
      for (const message of rest.slice(0, acceptedCount)) {
        countSent(item.counts, message);
        done(message);
      }
      if (!sendError) return;
      const refused = rest[acceptedCount];
      const reason = refused === undefined ? undefined : sendError.failures[refused.id];
      if (refused === undefined || !reason?.senderFault) throw sendError;
      await this.setAside(item, refused, reason);
      done(refused);
      // Later messages of the same call that SQS accepted all the same are not sent again.
      const acceptedAfter = new Set(sendError.acceptedAfterFailureIds);
      let next = acceptedCount + 1;
      for (; next < rest.length && acceptedAfter.has((rest[next] as PackedMessage).id); next += 1) {
        const message = rest[next] as PackedMessage;
        countSent(item.counts, message);
        done(message);
      }
      rest = rest.slice(next);
    }
  }

  /** A message SQS refused for what it holds: its events one by one, or its lone event to the dead-letter queue. */
  private async setAside(
    item: ActivePipeline,
    message: PackedMessage,
    reason: SendFailureReason,
  ): Promise<void> {
    const { pipeline } = item;
    const envelope = parseEnvelope(message.body);
    if (envelope.events.length > 1) {
      const singles = packEvents(
        pipeline.name,
        pipeline.stream,
        envelope.events.map((event) => storedEventOf(envelope.stream, event)),
        {
          ...(item.pending?.plan ?? {}),
          fifo: pipeline.fifo,
          maxEventsPerMessage: 1,
          epoch: envelope.epoch ?? 0,
        },
      );
      await this.sendInOrder(item, singles, () => undefined);
      return;
    }
    const [event] = envelope.events;
    if (event === undefined) return;
    const error = new EventNotDeliverableError({
      eventId: event.id,
      queueUrl: pipeline.queueUrl,
      reason: `SQS refused it: ${reason.code}: ${reason.message}`,
    });
    await this.deadLetter(item, event, error, envelope.epoch ?? 0);
  }

  /** Puts an event that cannot travel on the pipeline's queue on its dead-letter queue. */
  private async deadLetter(
    item: ActivePipeline,
    event: EnvelopeEvent,
    error: Error,
    epoch: number,
  ): Promise<void> {
    const { pipeline } = item;
    const deadLetterQueueUrl =
      item.deadLetterQueueUrl ??
      (await this.retry('find the dead-letter queue', () => deadLetterQueueOf(this.sqs, pipeline.queueUrl)));
    item.deadLetterQueueUrl = deadLetterQueueUrl;
    await this.retry('send to the dead-letter queue', () =>
      deadLetterEvent(this.sqs, deadLetterQueueUrl, {
        pipeline: pipeline.name,
        stream: pipeline.stream,
        epoch,
        fifo: pipeline.fifo,
        event,
        error,
        at: this.clock(),
      }),
    );
    item.counts.eventsDeadLettered = (item.counts.eventsDeadLettered ?? 0) + 1;
    this.logger.error('an event cannot travel on the queue; it went to the dead-letter queue', {
      pipeline: pipeline.name,
      eventId: event.id,
      error: error.message,
    });
  }

  /** The send plan the checkpoint should hold now: the pending messages and how far they went. */
  private currentPlan(item: ActivePipeline): SendPlan | undefined {
    return item.pending ? { ...item.pending.plan, sent: item.pending.next } : undefined;
  }

  /** Whether the stored checkpoint lags what this fetcher knows: a position, or a plan's progress. */
  private unwritten(item: ActivePipeline): boolean {
    return (
      comparePositions(item.position, item.written) > 0 ||
      JSON.stringify(this.currentPlan(item)) !== JSON.stringify(item.storedPlan)
    );
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
    if (leaseHalfGone || (now - item.lastWriteAt >= this.idleCheckpointIntervalMs && this.unwritten(item))) {
      await this.checkpoint(item);
    }
  }

  private async checkpoint(
    item: ActivePipeline,
    status: (typeof PIPELINE_STATUS)[keyof typeof PIPELINE_STATUS] = PIPELINE_STATUS.running,
  ): Promise<void> {
    await this.hook(FETCHER_STEPS.beforeCheckpoint, item.pipeline.name);
    const { lease, position, version, written } = item;
    const sendPlan = this.currentPlan(item);
    item.version = await this.retry('write the checkpoint', () =>
      this.store.writeCheckpoint(lease, {
        position,
        expectedVersion: version,
        previous: written,
        leaseDurationMs: this.leaseDurationMs,
        status,
        ...(sendPlan ? { sendPlan } : {}),
      }),
    );
    item.storedPlan = sendPlan;
    const now = this.clock();
    item.lease = { ...item.lease, expiresAt: now + this.leaseDurationMs };
    item.written = item.position;
    item.lastWriteAt = now;
    item.counts.checkpoints += 1;
    await this.hook(FETCHER_STEPS.afterCheckpoint, item.pipeline.name);
  }

  private async finish(item: ActivePipeline): Promise<PipelineRunSummary> {
    const name = item.pipeline.name;
    if (!item.leaseLost && this.unwritten(item)) {
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
        ...(item.expired ? { expired: item.expired } : {}),
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
      ...(item.expired
        ? { expired: { from: formatPosition(item.expired.from), to: formatPosition(item.expired.to) } }
        : {}),
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

function countSent(counts: RunCounts, message: PackedMessage): void {
  counts.messagesSent += 1;
  counts.eventsSent += message.eventIds.length;
  counts.bytesSent += Buffer.byteLength(message.body);
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
