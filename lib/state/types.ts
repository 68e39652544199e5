import type { Position } from '../time/position';
import type { SentAhead } from './sent-ahead';

/** Whether a pipeline still has work: a bounded one completes when it reaches its stopAt. */
export const PIPELINE_STATUS = { running: 'running', completed: 'completed' } as const;
export type PipelineStatus = (typeof PIPELINE_STATUS)[keyof typeof PIPELINE_STATUS];

/** A pipeline's checkpoint and lease, as stored. */
export interface PipelineState {
  readonly pipeline: string;
  /** Everything at or before it has been accepted by the queue. */
  readonly position: Position;
  /** Goes up by one with every checkpoint write and seek. */
  readonly version: number;
  /**
   * Goes up by one with every seek. Messages carry it, so that events a seek sends again are handled
   * again rather than skipped as duplicates of their first delivery.
   */
  readonly epoch: number;
  /** The fencing token of the lease that wrote the checkpoint (0 for a seek or the initial state). */
  readonly checkpointToken: number;
  readonly checkpointedAt: number;
  readonly status: PipelineStatus;
  readonly stopAt?: Position;
  readonly leaseOwner?: string;
  readonly leaseExpiresAt: number;
  /** Only ever increases: every lease acquisition takes the next one. */
  readonly leaseToken: number;
  /** Set while the holder gives the lease up: it has made its last look for events it has not read. */
  readonly leaseLeaving?: boolean;
  /** Set when the holder looks for events committed past its position before it gives the lease up. */
  readonly leaseLooksBeforeLeaving?: boolean;
  /**
   * The messages the fetcher was sending past `position` when it wrote this checkpoint, if any: a
   * successor sends exactly these again before anything new. Cleared by a seek.
   */
  readonly sendPlan?: SendPlan;
  /**
   * Events past `position` the fetcher sent before they settled, and the messages it was sending for
   * them (`docs/early-delivery.md`): a read that meets them again skips them. Cleared by a seek.
   */
  readonly sentAhead?: SentAhead;
}

/**
 * A fetcher's write-ahead record of the messages it is about to send: the events after the checkpoint
 * up to `through`, and how they were packed. Packing is a pure function of the events and these
 * settings, so a successor that reads the same range packs the very same messages (same marker keys,
 * same FIFO deduplication ids), whatever else has been committed since.
 */
export interface SendPlan {
  /** The last event of the planned range; the range starts after the checkpoint stored with the plan. */
  readonly through: string;
  /** How many events the range held. */
  readonly events: number;
  /** How many messages they were packed into. */
  readonly messages: number;
  /** How many of those messages, in send order, SQS had accepted when the plan was written. */
  readonly sent: number;
  /** The replay epoch the messages carry. */
  readonly epoch: number;
  readonly maxEventsPerMessage: number;
  readonly maxMessageBytes: number;
  readonly fifo: boolean;
}

/** A lease a fetcher holds on a pipeline, with the state it read when it took it. */
export interface Lease {
  readonly pipeline: string;
  readonly owner: string;
  readonly token: number;
  readonly expiresAt: number;
  readonly state: PipelineState;
}

/** What a fetcher run did for one pipeline. */
export interface RunCounts {
  eventsRead: number;
  eventsSent: number;
  messagesSent: number;
  bytesSent: number;
  pages: number;
  checkpoints: number;
  /** Events sent before the stream's settle window had passed them; absent when none. */
  eventsSentAhead?: number;
  /** Events that could not travel on the queue (refused by SQS, unreadable) and went to the dead-letter queue; absent when none. */
  eventsDeadLettered?: number;
}

/** The life of a run, as @systemoperator/sync records it. */
export const RUN_STATUS = { started: 'started', finished: 'finished', failed: 'failed' } as const;
export type RunStatus = (typeof RUN_STATUS)[keyof typeof RUN_STATUS];

/** A run record. */
export interface RunRecord {
  readonly pipeline: string;
  readonly runId: string;
  readonly owner: string;
  readonly leaseToken: number;
  readonly status: RunStatus;
  readonly startedAt: number;
  readonly endedAt?: number;
  readonly counts?: RunCounts;
  /** Why it stopped early (backpressure, caught up, budget, lease lost, ...). */
  readonly stopReason?: string;
  readonly error?: { readonly name: string; readonly message: string };
  readonly startPosition?: string;
  readonly endPosition?: string;
  /**
   * Where the run read events that had passed the stream's retention, which DynamoDB TTL may have
   * deleted before it read them (as positions: the events after `from`, up to `to`).
   */
  readonly expired?: { readonly from: string; readonly to: string };
}

/** A recorded move of a checkpoint. */
export interface SeekRecord {
  readonly pipeline: string;
  readonly at: number;
  readonly from: string;
  readonly to: string;
  readonly stopAt?: string;
  readonly reason?: string;
}
