import {
  ConditionalCheckFailedException,
  type DynamoDBClient,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { ChangeMessageVisibilityBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { CommitError, SluiceError, ValidationError } from '../errors';
import type { EventLog } from '../event-log/event-log';
import type { EventInput } from '../event-log/types';
import {
  type Envelope,
  type EventFailure,
  envelopeBodyWithHead,
  parseEnvelope,
  serializeEnvelopeEvent,
  storedEventOf,
} from '../messages/envelope';
import { NonRetryableError, RetryableError } from '../retry/errors';
import { sendMessageBatches } from '../sqs/send-message-batches';
import { eventIdToEpochMs } from '../time/event-id';
import { type BackoffPolicy, backoffDelaySeconds } from './backoff';
import { type MarkerStore, type MessageMarker, markerKeyOf } from './marker-store';
import type { SqsRecord } from './sqs-record';
import {
  type BatchHandler,
  type BatchOutcome,
  type BatchStats,
  type EventHandler,
  type HandlerContext,
  type ManualContext,
  type ManualHandler,
  type StandardSchema,
  WORKER_STEPS,
  type WorkerEvent,
  type WorkerStep,
  type WorkerStepHook,
} from './types';

/** Everything `processBatch` needs: the handler, and the AWS resources around it. */
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
  readonly eventLog?: EventLog;
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

type EventResult =
  | { readonly kind: 'succeeded' }
  | {
      readonly kind: 'failed';
      readonly error: Error;
      readonly retryable: boolean;
      readonly retryAfterSeconds?: number;
    }
  | { readonly kind: 'unstarted' };

interface MessageWork<TData> {
  readonly record: SqsRecord;
  readonly envelope: Envelope;
  readonly key: string;
  readonly groupId?: string;
  readonly marker?: MessageMarker;
  /** Events still to do (those the marker does not list as completed). */
  readonly events: WorkerEvent<TData>[];
  readonly results: Map<string, EventResult>;
  readonly outputs: EventInput[];
}

/**
 * Runs one SQS batch through a handler and says which messages to retry, with Lambda's partial
 * batch response semantics:
 *
 * - a message succeeds only when every event in it succeeded (or was handed to the failed handler);
 * - a partly failed message keeps a marker of the events that succeeded, which are not run again,
 *   and comes back after a backoff;
 * - on FIFO queues, the first failure in a message group stops that group for this batch;
 * - no event starts once the Lambda's remaining time is below the margin;
 * - an event that failed `maxRedeliveryCount` times, or failed with a `NonRetryableError` or a schema
 *   failure, goes to the dead-letter queue with its last error;
 * - a message already done (a redelivery, a fetcher re-send) is skipped;
 * - output events are committed atomically with the message's marker.
 *
 * @example
 * ```ts
 * const { batchItemFailures } = await processBatch(event.Records, dependencies);
 * ```
 */
export async function processBatch<TData>(
  records: readonly SqsRecord[],
  deps: BatchDependencies<TData>,
): Promise<BatchOutcome> {
  const stats = emptyBatchStats(records.length);
  const failures = new Set<string>();
  const parsed: { record: SqsRecord; envelope: Envelope; key: string }[] = [];
  for (const record of records) {
    try {
      const envelope = parseEnvelope(record.body, record.messageId);
      parsed.push({ record, envelope, key: markerKeyOf(envelope) });
    } catch (error) {
      stats.malformed += 1;
      if (!(await moveMalformed(record, error as Error, deps))) failures.add(record.messageId);
    }
  }

  const markers = await deps.markers.getMany(
    deps.pipeline,
    parsed.map((item) => item.key),
  );
  const work: MessageWork<TData>[] = [];
  for (const { record, envelope, key } of parsed) {
    const marker = markers.get(key);
    stats.events += envelope.events.length;
    if (marker?.status === 'done') {
      stats.duplicatesSkipped += envelope.events.length;
      continue;
    }
    const groupId = record.attributes.MessageGroupId;
    const events = envelope.events
      .filter((event) => !marker?.completedIds.has(event.id))
      .map((event) => ({
        ...storedEventOf<TData>(envelope.stream, event),
        attempt: (event.attempts ?? 0) + (marker?.failures[event.id] ?? 0) + 1,
        messageId: record.messageId,
      }));
    stats.resumed += envelope.events.length - events.length;
    work.push({
      record,
      envelope,
      key,
      ...(groupId ? { groupId } : {}),
      ...(marker ? { marker } : {}),
      events,
      results: new Map(),
      outputs: [],
    });
  }

  const workIds = work.map((message) => message.record.messageId);
  await step(deps, WORKER_STEPS.afterRead, workIds);
  await runHandler(work, deps);
  await step(deps, WORKER_STEPS.afterHandler, workIds);

  const visibility: { id: string; receiptHandle: string; seconds: number }[] = [];
  await Promise.all(
    work.map(async (message) => {
      const settled = await settleMessage(message, deps, stats);
      if (settled.retryAfterSeconds !== undefined) {
        failures.add(message.record.messageId);
        visibility.push({
          id: message.record.messageId,
          receiptHandle: message.record.receiptHandle,
          seconds: settled.retryAfterSeconds,
        });
      }
    }),
  );
  await changeVisibility(visibility, deps);
  await step(deps, WORKER_STEPS.beforeResponse, workIds);
  return {
    batchItemFailures: records
      .filter((record) => failures.has(record.messageId))
      .map((record) => ({ itemIdentifier: record.messageId })),
    stats,
  };
}

async function runHandler<TData>(work: MessageWork<TData>[], deps: BatchDependencies<TData>): Promise<void> {
  const outputsFor = new Map<string, MessageWork<TData>>();
  for (const message of work) for (const event of message.events) outputsFor.set(event.id, message);
  const context = (currentEventId?: string): HandlerContext => ({
    pipeline: deps.pipeline,
    requestId: deps.requestId,
    remainingTimeMs: deps.remainingTimeMs,
    commit(events, forEventId) {
      const owner = outputsFor.get(forEventId ?? currentEventId ?? '');
      if (!owner)
        throw new ValidationError(
          `commit() needs the id of an event of this batch to commit with (given ${forEventId ?? 'none'})`,
          forEventId,
        );
      owner.outputs.push(...(Array.isArray(events) ? (events as EventInput[]) : [events as EventInput]));
    },
  });
  const tooLate = () => deps.remainingTimeMs() < deps.deadlineMarginMs;

  // Schema failures never reach the handler, and are not retried.
  const runnable = new Map<MessageWork<TData>, WorkerEvent<TData>[]>();
  for (const message of work) {
    const ready: WorkerEvent<TData>[] = [];
    for (const event of message.events) {
      const invalid = await validate(event, deps.schemas);
      if (invalid) message.results.set(event.id, { kind: 'failed', error: invalid, retryable: false });
      else ready.push(event);
    }
    runnable.set(message, ready);
  }

  if ('handle' in deps.mode) {
    const handle = deps.mode.handle;
    const runOne = async (message: MessageWork<TData>, event: WorkerEvent<TData>): Promise<boolean> => {
      if (tooLate()) {
        message.results.set(event.id, { kind: 'unstarted' });
        return false;
      }
      try {
        const returned = await handle(event, context(event.id));
        if (returned)
          message.outputs.push(
            ...(Array.isArray(returned) ? (returned as EventInput[]) : [returned as EventInput]),
          );
        message.results.set(event.id, { kind: 'succeeded' });
        return true;
      } catch (error) {
        message.results.set(event.id, failureOf(error));
        return false;
      }
    };
    const isFifo = work.some((message) => message.groupId !== undefined);
    if (isFifo) {
      // One lane per message group, in batch order; a failure stops its group for this batch.
      const lanes = new Map<string, MessageWork<TData>[]>();
      for (const message of work)
        lanes.set(message.groupId ?? '', [...(lanes.get(message.groupId ?? '') ?? []), message]);
      await runLimited([...lanes.values()], deps.concurrency, async (lane) => {
        let blocked = false;
        for (const message of lane) {
          for (const event of message.events) {
            if (message.results.has(event.id))
              blocked = true; // failed its schema: later events wait
            else if (blocked) message.results.set(event.id, { kind: 'unstarted' });
            else if (!(await runOne(message, event))) blocked = true;
          }
        }
      });
    } else {
      const jobs = work.flatMap((message) =>
        (runnable.get(message) ?? []).map((event) => ({ message, event })),
      );
      await runLimited(jobs, deps.concurrency, ({ message, event }) => runOne(message, event));
    }
    return;
  }

  const events = work.flatMap((message) => runnable.get(message) ?? []);
  const messageOf = (eventId: string) => outputsFor.get(eventId) as MessageWork<TData>;
  if (events.length === 0) return;
  if (tooLate()) {
    for (const event of events) messageOf(event.id).results.set(event.id, { kind: 'unstarted' });
    return;
  }
  if ('handleBatch' in deps.mode) {
    try {
      await deps.mode.handleBatch(events, context());
      for (const event of events) messageOf(event.id).results.set(event.id, { kind: 'succeeded' });
    } catch (error) {
      for (const event of events) messageOf(event.id).results.set(event.id, failureOf(error));
      for (const message of work) message.outputs.length = 0;
    }
    return;
  }

  const known = new Set(events.map((event) => event.id));
  const settle = (ids: string | readonly string[], result: EventResult) => {
    const list = typeof ids === 'string' ? [ids] : ids;
    const unknown = list.filter((id) => !known.has(id));
    if (unknown.length > 0)
      throw new ValidationError(`these ids are not events of this batch: ${unknown.join(', ')}`, unknown);
    for (const id of list) {
      const message = messageOf(id);
      const previous = message.results.get(id);
      if (previous && previous.kind !== result.kind) {
        throw new ValidationError(
          `event ${id} was already ${previous.kind === 'succeeded' ? 'acknowledged' : 'failed'}`,
          id,
        );
      }
      message.results.set(id, result);
    }
  };
  const manualContext: ManualContext = {
    ...context(),
    ack: (ids) => settle(ids, { kind: 'succeeded' }),
    fail: (ids, options = {}) =>
      settle(ids, {
        kind: 'failed',
        error:
          options.reason instanceof Error
            ? options.reason
            : new Error(options.reason ?? 'failed by the handler'),
        retryable: options.retryable ?? true,
        ...(options.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: options.retryAfterSeconds }),
      }),
  };
  try {
    await deps.mode.manual(events, manualContext);
  } catch (error) {
    for (const event of events)
      if (!messageOf(event.id).results.has(event.id))
        messageOf(event.id).results.set(event.id, failureOf(error));
  }
  for (const event of events) {
    const message = messageOf(event.id);
    if (!message.results.has(event.id)) {
      message.results.set(event.id, {
        kind: 'failed',
        error: new Error('the handler neither acknowledged nor failed this event'),
        retryable: true,
      });
    }
  }
}

/** Records what happened to a message; resolves to the visibility delay when it must come back. */
async function settleMessage<TData>(
  message: MessageWork<TData>,
  deps: BatchDependencies<TData>,
  stats: BatchStats,
): Promise<{ retryAfterSeconds?: number }> {
  const completed = new Set(message.marker?.completedIds ?? []);
  const failuresSoFar: Record<string, number> = { ...(message.marker?.failures ?? {}) };
  const dead: { event: WorkerEvent<TData>; failure: EventFailure }[] = [];
  let retryAfter = 0;
  let retry = false;
  let onlyUnstarted = true;
  for (const event of message.events) {
    const result = message.results.get(event.id) ?? { kind: 'unstarted' };
    if (result.kind === 'succeeded') {
      completed.add(event.id);
      stats.succeeded += 1;
      // From the commit (the event id's time) to now: the pipeline's end-to-end latency.
      stats.latencyMsTotal += Math.max(0, deps.clock() - eventIdToEpochMs(event.id));
    } else if (result.kind === 'unstarted') {
      stats.unstarted += 1;
      retry = true;
    } else {
      stats.failed += 1;
      failuresSoFar[event.id] = (failuresSoFar[event.id] ?? 0) + 1;
      const lastAttempt = !result.retryable || event.attempt >= deps.maxRedeliveryCount;
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
          error: { name: result.error.name, message: result.error.message },
          ...(deps.includeSensitiveData ? { data: event.data } : {}),
        },
      );
      if (lastAttempt) {
        dead.push({
          event,
          failure: { name: result.error.name, message: result.error.message, at: deps.clock() },
        });
        completed.add(event.id);
      } else {
        retry = true;
        onlyUnstarted = false;
        retryAfter = Math.max(
          retryAfter,
          result.retryAfterSeconds ?? backoffDelaySeconds(event.attempt, deps.backoff, deps.random),
        );
      }
    }
  }

  if (dead.length > 0) {
    await step(deps, WORKER_STEPS.beforeDeadLetter, [message.record.messageId]);
    // To the dead-letter queue before the marker: a crash in between sends them again, which the
    // failed-event handler recognises; the other order could lose them.
    const body = envelopeBodyWithHead(
      { ...message.envelope, pipeline: deps.pipeline },
      dead.map(({ event, failure }) =>
        serializeEnvelopeEvent({
          id: event.id,
          type: event.type,
          data: event.data,
          ...(event.partitionKey === undefined ? {} : { partitionKey: event.partitionKey }),
          attempts: event.attempt,
          lastError: failure,
        }),
      ),
    );
    try {
      await sendMessageBatches(
        deps.sqs,
        deps.deadLetterQueueUrl,
        [{ id: message.record.messageId, body, ...dlqFifoFields(message) }],
        { throwOnFailure: true },
      );
      stats.deadLettered += dead.length;
    } catch (error) {
      deps.logger?.error(
        'could not move failed events to the dead-letter queue; the message will come back',
        {
          messageId: message.record.messageId,
          error: (error as Error).message,
        },
      );
      return { retryAfterSeconds: 0 };
    }
  }

  const allDone = !retry;
  const marker: MessageMarker = {
    status: allDone ? 'done' : 'partial',
    completedIds: completed,
    failures: failuresSoFar,
  };
  const nothingNew = !allDone && completed.size === (message.marker?.completedIds.size ?? 0) && onlyUnstarted;
  if (!nothingNew) {
    await step(deps, WORKER_STEPS.beforeMarker, [message.record.messageId]);
    try {
      await writeMarker(message, marker, deps);
      stats.outputEvents += message.outputs.length;
    } catch (error) {
      if (error instanceof DuplicateMessageError) {
        stats.duplicatesSkipped += message.events.length;
        return {};
      }
      if (error instanceof MarkerConflictError) {
        // Another delivery recorded part of the message first: this one comes back at once and runs
        // only what that marker leaves, rather than committing the same outputs again.
        deps.logger?.warn('another delivery of this message recorded progress first; it will come back', {
          messageId: message.record.messageId,
        });
        stats.retried += 1;
        return { retryAfterSeconds: 0 };
      }
      deps.logger?.error('could not record the message as handled; it will come back', {
        messageId: message.record.messageId,
        error: (error as Error).message,
      });
      return { retryAfterSeconds: 0 };
    }
    await step(deps, WORKER_STEPS.afterMarker, [message.record.messageId]);
  }
  if (allDone) return {};
  stats.retried += 1;
  return { retryAfterSeconds: onlyUnstarted ? 0 : retryAfter };
}

/** Zeroed counts for a batch of `messages` messages. */
export function emptyBatchStats(messages = 0): BatchStats {
  return {
    messages,
    events: 0,
    succeeded: 0,
    failed: 0,
    retried: 0,
    deadLettered: 0,
    duplicatesSkipped: 0,
    resumed: 0,
    unstarted: 0,
    malformed: 0,
    outputEvents: 0,
    latencyMsTotal: 0,
  };
}

/** Runs the crash-point hook, when there is one; whatever it throws ends the batch. */
async function step<TData>(
  deps: BatchDependencies<TData>,
  name: WorkerStep,
  messageIds: readonly string[],
): Promise<void> {
  if (deps.onStep) await deps.onStep(name, { pipeline: deps.pipeline, messageIds });
}

/** A concurrent delivery of the same message finished first. */
class DuplicateMessageError extends SluiceError {}

/** A concurrent delivery of the same message recorded part of it first. */
class MarkerConflictError extends SluiceError {}

async function writeMarker<TData>(
  message: MessageWork<TData>,
  marker: MessageMarker,
  deps: BatchDependencies<TData>,
): Promise<void> {
  const markerWrite = deps.markers.markerWrite(deps.pipeline, message.key, marker, message.marker);
  try {
    if (message.outputs.length > 0) {
      if (!deps.eventLog)
        throw new ValidationError(
          'the handler committed output events but the worker has no eventLog to commit them to',
          message.outputs.length,
        );
      await deps.eventLog.commitWith(message.outputs, [markerWrite]);
    } else {
      await deps.dynamodb.send(
        new PutItemCommand(markerWrite.Put as ConstructorParameters<typeof PutItemCommand>[0]),
      );
    }
  } catch (error) {
    const refusedMarker =
      error instanceof ConditionalCheckFailedException ||
      (error instanceof CommitError &&
        /write 0 of the other writes: ConditionalCheckFailed/.test(error.message));
    if (!refusedMarker) throw error;
    const current = (await deps.markers.getMany(deps.pipeline, [message.key])).get(message.key);
    if (current?.status === 'done')
      throw new DuplicateMessageError(`message ${message.record.messageId} was already handled`, {
        cause: error,
      });
    throw new MarkerConflictError(
      `message ${message.record.messageId} was partly recorded by another delivery`,
      { cause: error },
    );
  }
}

async function moveMalformed<TData>(
  record: SqsRecord,
  error: Error,
  deps: BatchDependencies<TData>,
): Promise<boolean> {
  deps.logger?.error('a message that is not a Sluice message goes to the dead-letter queue', {
    messageId: record.messageId,
    error: error.message,
  });
  try {
    await sendMessageBatches(
      deps.sqs,
      deps.deadLetterQueueUrl,
      [
        {
          id: record.messageId,
          body: record.body.length > 0 ? record.body : '(empty body)',
          ...(record.attributes.MessageGroupId
            ? {
                groupId: record.attributes.MessageGroupId,
                deduplicationId: `malformed-${record.messageId}`.slice(0, 128),
              }
            : {}),
        },
      ],
      { throwOnFailure: true },
    );
    return true;
  } catch (moveError) {
    deps.logger?.error('could not move the malformed message; SQS will redrive it', {
      messageId: record.messageId,
      error: (moveError as Error).message,
    });
    return false;
  }
}

function dlqFifoFields<TData>(message: MessageWork<TData>): { groupId?: string; deduplicationId?: string } {
  if (!message.groupId) return {};
  return {
    groupId: message.groupId,
    deduplicationId: `${message.key}-${message.events.length}`.slice(0, 128),
  };
}

async function changeVisibility<TData>(
  entries: readonly { id: string; receiptHandle: string; seconds: number }[],
  deps: BatchDependencies<TData>,
): Promise<void> {
  for (let start = 0; start < entries.length; start += 10) {
    const chunk = entries.slice(start, start + 10);
    try {
      const output = await deps.sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: deps.queueUrl,
          Entries: chunk.map((entry, index) => ({
            Id: String(index),
            ReceiptHandle: entry.receiptHandle,
            VisibilityTimeout: Math.round(entry.seconds),
          })),
        }),
      );
      for (const failed of output.Failed ?? []) {
        deps.logger?.warn(
          'could not set the backoff of a failed message; it returns after the queue visibility timeout',
          {
            messageId: chunk[Number(failed.Id)]?.id,
            code: failed.Code,
          },
        );
      }
    } catch (error) {
      // Best effort: without it the messages return after the queue's visibility timeout.
      deps.logger?.warn('could not set the backoff of failed messages', { error: (error as Error).message });
    }
  }
}

async function validate<TData>(
  event: WorkerEvent<TData>,
  schemas: Readonly<Record<string, StandardSchema>> | undefined,
): Promise<Error | undefined> {
  const schema = schemas?.[event.type];
  if (!schema) return undefined;
  const result = await schema['~standard'].validate(event.data);
  if (!result.issues) return undefined;
  const detail = result.issues
    .map(
      (issue) =>
        `${issue.path && issue.path.length > 0 ? `${issue.path.map((part) => (typeof part === 'object' && part && 'key' in part ? String((part as { key: unknown }).key) : String(part))).join('.')}: ` : ''}${issue.message}`,
    )
    .join('; ');
  return new NonRetryableError(
    `event ${event.id} of type '${event.type}' does not match its schema: ${detail}`,
  );
}

function failureOf(error: unknown): EventResult {
  const asError = error instanceof Error ? error : new Error(String(error));
  if (error instanceof NonRetryableError) return { kind: 'failed', error: asError, retryable: false };
  const retryAfterMs = error instanceof RetryableError ? error.retryAfterMs : undefined;
  return {
    kind: 'failed',
    error: asError,
    retryable: true,
    ...(retryAfterMs === undefined
      ? {}
      : { retryAfterSeconds: Math.min(43_200, Math.ceil(retryAfterMs / 1000)) }),
  };
}

async function runLimited<T>(
  items: readonly T[],
  limit: number,
  run: (item: T) => Promise<unknown>,
): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next] as T;
      next += 1;
      await run(item);
    }
  });
  await Promise.all(lanes);
}
