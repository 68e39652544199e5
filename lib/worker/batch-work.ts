import { createHash } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { EventLogWriter } from '../event-log/event-log-writer';
import type { EventInput } from '../event-log/types';
import type { ErrorSummary } from '../failed/truncate';
import type { Envelope } from '../messages/envelope';
import { type BackoffPolicy, backoffDelaySeconds } from './backoff';
import type { MarkerStore, MessageMarker } from './marker-store';
import type { SqsRecord } from './sqs-record';
import type {
  BatchHandler,
  EventHandler,
  ManualHandler,
  StandardSchema,
  WorkerEvent,
  WorkerStep,
  WorkerStepHook,
} from './types';

// The state of one batch's messages as the worker runs and settles them, and the small steps that
// every part of it takes: crash points, logs, backoffs.

export interface BatchDependencies<TData> {
  readonly pipeline: string;
  readonly mode:
    | { readonly handle: EventHandler<TData> }
    | { readonly handleBatch: BatchHandler<TData> }
    | { readonly manual: ManualHandler<TData> };
  readonly schemas?: Readonly<Record<string, StandardSchema>>;
  readonly concurrency: number;
  readonly maxRedeliveryCount: number;
  readonly backoff: BackoffPolicy;
  readonly deadlineMarginMs: number;
  readonly sqs: SQSClient;
  readonly queueUrl: string;
  readonly deadLetterQueueUrl: string;
  readonly markers: MarkerStore;
  readonly dynamodb: DynamoDBClient;
  readonly eventLog?: EventLogWriter;
  readonly requestId: string;
  readonly remainingTimeMs: () => number;
  readonly clock: () => number;
  readonly random: () => number;
  readonly logger?: {
    warn(message: string, ...extra: unknown[]): void;
    error(message: string, ...extra: unknown[]): void;
  };
  /** Named crash points for tests; see {@link WorkerStepHook}. */
  readonly onStep?: WorkerStepHook;
  /** Whether a failed event's log line carries its data. @default false */
  readonly includeSensitiveData?: boolean;
}

export type EventResult =
  | { readonly kind: 'succeeded' }
  | {
      readonly kind: 'failed';
      /** What was thrown, as a well-formed name and message, whatever it was. */
      readonly error: ErrorSummary;
      readonly retryable: boolean;
      readonly retryAfterSeconds?: number;
    }
  | { readonly kind: 'unstarted' };

export interface MessageWork<TData> {
  readonly record: SqsRecord;
  readonly envelope: Envelope;
  readonly key: string;
  readonly groupId?: string;
  readonly marker?: MessageMarker;
  /** Events still to do (those the marker does not list as completed). */
  readonly events: WorkerEvent<TData>[];
  readonly results: Map<string, EventResult>;
  /** Output events by the id of the event they are committed with. */
  readonly outputs: Map<string, EventInput[]>;
}

export function lanesOf<TData>(work: readonly MessageWork<TData>[]): Map<string, MessageWork<TData>[]> {
  const lanes = new Map<string, MessageWork<TData>[]>();
  for (const message of work) {
    const lane =
      message.groupId === undefined ? `message#${message.record.messageId}` : `group#${message.groupId}`;
    lanes.set(lane, [...(lanes.get(lane) ?? []), message]);
  }
  return lanes;
}

/** The partial batch response: the records to retry, in batch order. */

export function addOutputs<TData>(
  message: MessageWork<TData>,
  eventId: string,
  events: EventInput | readonly EventInput[],
): void {
  const list = message.outputs.get(eventId) ?? [];
  list.push(...(Array.isArray(events) ? (events as EventInput[]) : [events as EventInput]));
  message.outputs.set(eventId, list);
}

/**
 * The wait before a message comes back after a failure of the infrastructure (throttling, 5xx, a
 * marker or dead-letter write that failed): the pipeline's backoff at the message's receive count,
 * so it grows with every delivery that meets the same trouble, up to `backoff.maxDelaySeconds`.
 */
export function infrastructureRetry<TData>(
  message: MessageWork<TData>,
  deps: BatchDependencies<TData>,
): { retryAfterSeconds: number } {
  return { retryAfterSeconds: infrastructureDelaySeconds(message.record, deps) };
}

export function infrastructureDelaySeconds<TData>(record: SqsRecord, deps: BatchDependencies<TData>): number {
  const receives = Number(record.attributes.ApproximateReceiveCount);
  return backoffDelaySeconds(
    Number.isInteger(receives) && receives >= 1 ? receives : 1,
    deps.backoff,
    deps.random,
  );
}

export function logFailure<TData>(
  deps: BatchDependencies<TData>,
  event: WorkerEvent<TData>,
  error: ErrorSummary,
  lastAttempt: boolean,
): void {
  // Ids, type, attempt and error only: event data may be personal or secret, and reaches the
  // logs only when the user asks for it.
  deps.logger?.warn(
    lastAttempt
      ? 'event failed for the last time; it goes to the failed handler'
      : 'event failed; it will be tried again',
    {
      pipeline: deps.pipeline,
      eventId: event.id,
      eventType: event.type,
      attempt: event.attempt,
      error: { name: error.name, message: error.message },
      ...(deps.includeSensitiveData ? { data: event.data } : {}),
    },
  );
}

export function dlqFifoFields<TData>(
  message: MessageWork<TData>,
  body: string,
): { groupId?: string; deduplicationId?: string } {
  if (!message.groupId) return {};
  return { groupId: message.groupId, deduplicationId: createHash('sha256').update(body).digest('base64url') };
}

/** Adds output events to those committed with event `eventId` of `message`. */

export async function step<TData>(
  deps: BatchDependencies<TData>,
  name: WorkerStep,
  messageIds: readonly string[],
): Promise<void> {
  if (deps.onStep) await deps.onStep(name, { pipeline: deps.pipeline, messageIds });
}

/** A concurrent delivery of the same message finished first. */
