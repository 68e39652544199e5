import type { PipelineStatus } from '../state/types';
import type { Position } from '../time/position';

/**
 * A request to backfill a pipeline, as the detail of a "Backfill Requested" event. `from` and `to`
 * are each an ISO 8601 time with a zone (`2024-05-01T00:00:00Z`) or a position
 * (`yyyyMMddHH0000[/eventId]`): the backfill delivers the events after `from`, up to and including
 * those at `to`'s bound.
 */
export interface BackfillRequest {
  readonly pipeline: string;
  readonly from: string;
  readonly to: string;
  /** Names the backfill; a repeated request with the same id changes nothing. @default a random 8-character id */
  readonly backfillId?: string;
}

/** A registered backfill. */
export interface RegisteredBackfill {
  /** The pipeline it backfills. */
  readonly pipeline: string;
  readonly backfillId: string;
  /** The backfill's own pipeline record: `<pipeline>.backfill.<backfillId>`. */
  readonly backfillPipeline: string;
  readonly from: Position;
  readonly stopAt: Position;
  /** False when the request repeated one already registered. */
  readonly created: boolean;
}

/** How far a backfill has got. */
export interface BackfillProgress {
  readonly backfillPipeline: string;
  readonly pipeline: string;
  readonly backfillId: string;
  readonly status: PipelineStatus;
  readonly from: Position;
  readonly position: Position;
  readonly stopAt: Position;
  /** From 0 to 1: the time covered between `from` and `stopAt`, 1 once completed. */
  readonly fraction: number;
  /** Events of the range the backfill delivers (its stream and event types), when counted. */
  readonly eventsTotal?: number;
  /** Events its fetcher runs have sent so far, from the run records. */
  readonly eventsSent: number;
  /** Fetcher runs of the backfill started in the last 15 minutes that have not ended: their events are not in `eventsSent` yet. */
  readonly runsInProgress: number;
  /** When the first fetcher run on it started, in epoch milliseconds. */
  readonly startedAt?: number;
  /** Milliseconds left at the rate so far, when it can be told. */
  readonly etaMs?: number;
}

/** The detail of a "Backfill Completed" event. */
export interface BackfillCompletedDetail {
  readonly [field: string]: unknown;
  readonly pipeline: string;
  readonly backfillId: string;
  readonly backfillPipeline: string;
  /** Positions, `yyyyMMddHH0000[/eventId]`. */
  readonly from: string;
  readonly to: string;
  readonly eventsSent: number;
}

/** One event to put on a bus: the shape `LocalEventBus.putEvents` takes. */
export interface BackfillBusEntry {
  readonly source: string;
  readonly detailType: string;
  readonly detail: Readonly<Record<string, unknown>>;
}

/**
 * Puts events on a bus: `LocalEventBus.putEvents` locally, or an adapter over EventBridge's
 * `PutEvents` on AWS. It should throw when an entry was refused, so that the event is tried again.
 */
export type PutBackfillEvents = (entries: readonly BackfillBusEntry[]) => Promise<unknown>;
