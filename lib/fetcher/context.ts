import type { SQSClient } from '@aws-sdk/client-sqs';
import type { EventSource, PositionRange, ReadAfterPage } from '../event-log/event-source';
import type { ResolvedPipeline } from '../pipeline/definition';
import { withRetry } from '../retry/with-retry';
import type { PipelineStore } from '../state/pipeline-store';
import type { AheadPlan, SentAhead } from '../state/sent-ahead';
import type { Lease, RunCounts, RunRecord, SendPlan } from '../state/types';
import type { Position } from '../time/position';
import type { PackedMessage } from './packing';
import type { FetcherLogger, FetcherStep, FetcherStepHook, PipelineOutcome, RunNotifier } from './types';

// What the fetcher's modules share: the settings and clients of one `Fetcher`, and the state of each
// pipeline it works in a run.

/** A fetcher's settings and clients, resolved from its options, as its modules use them. */
export interface FetcherContext {
  readonly owner: string;
  readonly store: PipelineStore;
  readonly source: EventSource;
  readonly sqs: SQSClient;
  readonly leaseDurationMs: number;
  readonly idleCheckpointIntervalMs: number;
  readonly maxPageBytes: number;
  readonly logger: FetcherLogger;
  readonly notifier?: RunNotifier;
  readonly onStep?: FetcherStepHook;
  /** Starts another run for a pipeline this run leaves with events still to read (see `FetcherOptions.handOff`). */
  readonly handOff?: (pipeline: string, readThrough: string) => Promise<void>;
  readonly clock: () => number;
  readonly sleep: (ms: number) => Promise<void>;
}

/** A pipeline whose lease this fetcher holds in the current run. */
export interface ActivePipeline {
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
  /**
   * An event committed past the position that the run found when about to leave: it stays until it
   * has read through it.
   */
  readThrough?: string;
  /**
   * Whether the run looks for events committed past the position before it gives the lease up, and
   * hands them over when it must end (a run that leaves once idle; its lease says so).
   */
  readonly looksBeforeLeaving: boolean;
  /** The lease was given up during the run (on leaving once idle), so the end of the run does not. */
  released?: boolean;
  /** The id another run was started to read through, as the run ended with events still to read. */
  handedOff?: string;
  /** Events after `from` up to `to` had passed the stream's retention when this run read them. */
  expired?: PositionRange;
  /** Events sent ahead of the settled horizon past `position`, with the plan being sent, if any. */
  sentAhead?: SentAhead;
  /** The record the stored checkpoint holds, as `serializeSentAhead` wrote it, or `undefined`. */
  storedSentAhead?: string;
  /** The messages being sent ahead, as their plan was written. */
  aheadPending?: PendingAhead;
  /** A plan ahead left by an earlier fetcher: its messages go out again before anything new. */
  aheadLeftBehind?: boolean;
}

/** The messages of a plan ahead of the settled horizon. */
export interface PendingAhead {
  readonly plan: AheadPlan;
  readonly messages: readonly PackedMessage[];
}

/** The messages of one send plan, and how far SQS has accepted them. */
export interface PendingSend {
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
export class SimulatedCrash extends Error {}

/** Retries transient AWS errors (throttling, 5xx, timeouts) with the `aws` preset. */
export function retry<T>(context: FetcherContext, name: string, operation: () => Promise<T>): Promise<T> {
  return withRetry(operation, { preset: 'aws', name, sleep: context.sleep });
}

/** Calls the `onStep` hook, if any; a hook that throws stops the fetcher as a crash would. */
export async function hook(context: FetcherContext, step: FetcherStep, pipeline: string): Promise<void> {
  if (!context.onStep) return;
  try {
    await context.onStep(step, { pipeline });
  } catch (error) {
    throw new SimulatedCrash(`crash at ${step}`, { cause: error });
  }
}

/**
 * One read of the pipeline's events after `from`, with its page size, byte bound and types, retried
 * on transient errors.
 */
export function readEvents(
  context: FetcherContext,
  item: ActivePipeline,
  from: Position,
  bounds: { readonly until?: Position; readonly ahead?: number } = {},
): Promise<ReadAfterPage> {
  const { pipeline } = item;
  return retry(context, 'read the event log', () =>
    context.source.readAfter(pipeline.stream, from, {
      limit: pipeline.pageSize,
      maxBytes: context.maxPageBytes,
      ...(pipeline.eventTypes ? { types: pipeline.eventTypes } : {}),
      ...bounds,
    }),
  );
}
