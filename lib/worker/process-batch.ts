import { createHash } from 'node:crypto';
import {
  ConditionalCheckFailedException,
  type DynamoDBClient,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { ChangeMessageVisibilityBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { CommitError, SluiceError, ValidationError } from '../errors';
import type { EventLogWriter } from '../event-log/event-log-writer';
import type { EventInput } from '../event-log/types';
import { type ErrorSummary, summarizeError } from '../failed/truncate';
import {
  type Envelope,
  type EventFailure,
  failedEvent,
  parseEnvelope,
  storedEventOf,
} from '../messages/envelope';
import { packEnvelopes } from '../messages/pack';
import { NonRetryableError, RetryableError } from '../retry/errors';
import { isTransientError } from '../retry/is-transient';
import { MAX_MESSAGE_BYTES } from '../sqs/constants';
import { sendMessageBatches } from '../sqs/send-message-batches';
import { eventIdToEpochMs } from '../time/event-id';
import { type BackoffPolicy, backoffDelaySeconds } from './backoff';
import { type MarkerStore, type MessageMarker, markerKeyOf } from './marker-store';
import { planChunks } from './output-chunks';
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

type EventResult =
  | { readonly kind: 'succeeded' }
  | {
      readonly kind: 'failed';
      /** What was thrown, as a well-formed name and message, whatever it was. */
      readonly error: ErrorSummary;
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
  /** Output events by the id of the event they are committed with. */
  readonly outputs: Map<string, EventInput[]>;
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
 *   failure, goes to the dead-letter queue with its last error, whatever was thrown;
 * - a message already done (a redelivery, a fetcher re-send) is skipped;
 * - an event's output events are committed atomically with the marker that records it, in as many
 *   transactions as the message's outputs need; an event whose own outputs can never be committed
 *   goes to the dead-letter queue with the reason;
 * - a failure of the infrastructure (throttling, 5xx, a marker or dead-letter write that failed)
 *   brings the message back after the backoff at its receive count, and spends no attempt.
 *
 * See `docs/worker-outputs.md` for why.
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

  let markers: Map<string, MessageMarker>;
  try {
    markers = await deps.markers.getMany(
      deps.pipeline,
      parsed.map((item) => item.key),
    );
  } catch (error) {
    // A missing table or a denied read is a setting to fix: the batch fails, naming it.
    if (!isTransientError(error)) throw error;
    // The state table is throttled or down: nothing ran, so nothing is spent; every message comes
    // back after a growing wait instead of failing the whole batch at the queue's timeout.
    deps.logger?.error(
      'could not read the markers of the batch; its messages will come back after a backoff',
      {
        pipeline: deps.pipeline,
        error: summarizeError(error),
      },
    );
    const visibility = parsed.map(({ record }) => ({
      id: record.messageId,
      receiptHandle: record.receiptHandle,
      seconds: infrastructureDelaySeconds(record, deps),
    }));
    for (const { record } of parsed) failures.add(record.messageId);
    await changeVisibility(visibility, deps);
    return { batchItemFailures: failureList(records, failures), stats };
  }
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
      outputs: new Map(),
    });
  }

  const workIds = work.map((message) => message.record.messageId);
  await step(deps, WORKER_STEPS.afterRead, workIds);
  await runHandler(work, deps);
  await step(deps, WORKER_STEPS.afterHandler, workIds);

  const visibility: { id: string; receiptHandle: string; seconds: number }[] = [];
  const comesBack = (message: MessageWork<TData>, seconds: number) => {
    failures.add(message.record.messageId);
    visibility.push({ id: message.record.messageId, receiptHandle: message.record.receiptHandle, seconds });
  };
  // Messages of one FIFO group are settled in order; once one comes back, the later ones of its
  // group are not recorded (their outputs would land before its own) and come back too. Messages of
  // a standard queue that are done without output events are recorded together at the end.
  const recordTogether: DoneMessage<TData>[] = [];
  await Promise.all(
    [...lanesOf(work).values()].map(async (lane) => {
      let held = false;
      for (const message of lane) {
        if (held) {
          stats.retried += 1;
          for (const event of message.events)
            if ((message.results.get(event.id)?.kind ?? 'unstarted') === 'unstarted') stats.unstarted += 1;
          comesBack(message, 0);
          continue;
        }
        const settled = await settleMessage(message, deps, stats, recordTogether);
        if (settled.retryAfterSeconds === undefined) continue;
        comesBack(message, settled.retryAfterSeconds);
        held = message.groupId !== undefined;
      }
    }),
  );
  for (const { message, retryAfterSeconds } of await recordDone(recordTogether, deps, stats))
    comesBack(message, retryAfterSeconds);
  await changeVisibility(visibility, deps);
  await step(deps, WORKER_STEPS.beforeResponse, workIds);
  return { batchItemFailures: failureList(records, failures), stats };
}

/** The batch's messages by FIFO message group, in batch order; on a standard queue, one lane each. */
function lanesOf<TData>(work: readonly MessageWork<TData>[]): Map<string, MessageWork<TData>[]> {
  const lanes = new Map<string, MessageWork<TData>[]>();
  for (const message of work) {
    const lane =
      message.groupId === undefined ? `message#${message.record.messageId}` : `group#${message.groupId}`;
    lanes.set(lane, [...(lanes.get(lane) ?? []), message]);
  }
  return lanes;
}

/** The partial batch response: the records to retry, in batch order. */
function failureList(
  records: readonly SqsRecord[],
  failures: ReadonlySet<string>,
): { itemIdentifier: string }[] {
  return records
    .filter((record) => failures.has(record.messageId))
    .map((record) => ({ itemIdentifier: record.messageId }));
}

async function runHandler<TData>(work: MessageWork<TData>[], deps: BatchDependencies<TData>): Promise<void> {
  const outputsFor = new Map<string, MessageWork<TData>>();
  for (const message of work) for (const event of message.events) outputsFor.set(event.id, message);
  const context = (currentEventId?: string): HandlerContext => ({
    pipeline: deps.pipeline,
    requestId: deps.requestId,
    remainingTimeMs: deps.remainingTimeMs,
    commit(events, forEventId) {
      const eventId = forEventId ?? currentEventId ?? '';
      const owner = outputsFor.get(eventId);
      if (!owner)
        throw new ValidationError(
          `commit() needs the id of an event of this batch to commit with (given ${forEventId ?? 'none'})`,
          forEventId,
        );
      addOutputs(owner, eventId, events);
    },
  });
  const tooLate = () => deps.remainingTimeMs() < deps.deadlineMarginMs;

  // Schema failures never reach the handler, and are not retried.
  const runnable = new Map<MessageWork<TData>, WorkerEvent<TData>[]>();
  for (const message of work) {
    const ready: WorkerEvent<TData>[] = [];
    for (const event of message.events) {
      const invalid = await validate(event, deps.schemas);
      if (invalid) message.results.set(event.id, failureOf(invalid));
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
        if (returned) addOutputs(message, event.id, returned);
        message.results.set(event.id, { kind: 'succeeded' });
        return true;
      } catch (error) {
        const failure = failureOf(error);
        message.results.set(event.id, failure);
        // An event that goes to the failed handler now does not hold its group back.
        return !(failure.retryable && event.attempt < deps.maxRedeliveryCount);
      }
    };
    const isFifo = work.some((message) => message.groupId !== undefined);
    if (isFifo) {
      // One lane per message group, in batch order; a failure to be retried stops its group for
      // this batch.
      await runLimited([...lanesOf(work).values()], deps.concurrency, async (lane) => {
        let blocked = false;
        for (const message of lane) {
          for (const event of message.events) {
            // An event that failed its schema goes to the failed handler now: later events go on.
            if (message.results.has(event.id)) continue;
            if (blocked) message.results.set(event.id, { kind: 'unstarted' });
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
      for (const message of work) message.outputs.clear();
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
        error: summarizeError(options.reason ?? 'failed by the handler'),
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
        error: { name: 'Error', message: 'the handler neither acknowledged nor failed this event' },
        retryable: true,
      });
    }
  }
}

/**
 * Records what happened to a message; resolves to the visibility delay when it must come back.
 *
 * Events that succeeded are recorded with their outputs in one or more transactions ("chunks"), in
 * event order, each small enough for DynamoDB (see {@link planChunks}); every chunk also writes the
 * message's marker, conditioned on the version the previous one wrote, so the marker always lists
 * exactly the events whose outputs have landed. A crash between chunks leaves a partial marker: the
 * next delivery runs only the events it does not list, and their outputs land once.
 */
async function settleMessage<TData>(
  message: MessageWork<TData>,
  deps: BatchDependencies<TData>,
  stats: BatchStats,
  recordTogether: DoneMessage<TData>[],
): Promise<{ retryAfterSeconds?: number }> {
  const failuresSoFar: Record<string, number> = { ...(message.marker?.failures ?? {}) };
  const dead: { event: WorkerEvent<TData>; failure: EventFailure }[] = [];
  const toRecord: WorkerEvent<TData>[] = [];
  let retryAfter = 0;
  let retry = false;
  let onlyUnstarted = true;
  for (const event of message.events) {
    const result = message.results.get(event.id) ?? { kind: 'unstarted' };
    if (result.kind === 'succeeded') {
      toRecord.push(event);
    } else if (result.kind === 'unstarted') {
      stats.unstarted += 1;
      retry = true;
    } else {
      stats.failed += 1;
      failuresSoFar[event.id] = (failuresSoFar[event.id] ?? 0) + 1;
      const lastAttempt = !result.retryable || event.attempt >= deps.maxRedeliveryCount;
      logFailure(deps, event, result.error, lastAttempt);
      if (lastAttempt) {
        dead.push({ event, failure: { ...result.error, at: deps.clock() } });
        toRecord.push(event);
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

  if (dead.length > 0 && !(await deadLetter(message, dead, deps, stats)))
    return infrastructureRetry(message, deps);

  const allDone = !retry;
  const changed = toRecord.length > 0 || !onlyUnstarted;
  const chunks = planChunks(toRecord, (event) => message.outputs.get(event.id)?.length ?? 0);
  if (chunks.length === 0 && (allDone || changed)) chunks.push([]);
  const deadIds = new Set(dead.map(({ event }) => event.id));
  const [onlyChunk] = chunks;
  if (
    allDone &&
    chunks.length === 1 &&
    onlyChunk &&
    message.groupId === undefined &&
    onlyChunk.every((event) => deadIds.has(event.id) || (message.outputs.get(event.id)?.length ?? 0) === 0)
  ) {
    recordTogether.push({ message, chunk: onlyChunk, deadIds, failures: failuresSoFar });
    return {};
  }
  const completed = new Set(message.marker?.completedIds ?? []);
  let current = message.marker;
  while (chunks.length > 0) {
    const chunk = chunks.shift() as WorkerEvent<TData>[];
    const outputs = chunk.flatMap((event) =>
      deadIds.has(event.id) ? [] : (message.outputs.get(event.id) ?? []),
    );
    const marker: MessageMarker = {
      status: allDone && chunks.length === 0 ? 'done' : 'partial',
      completedIds: new Set([...completed, ...chunk.map((event) => event.id)]),
      failures: failuresSoFar,
    };
    await step(deps, WORKER_STEPS.beforeMarker, [message.record.messageId]);
    try {
      await writeMarker(message, outputs, marker, current, deps);
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
      if (outputs.length > 0 && isOutputsProblem(error)) {
        if (chunk.length > 1) {
          // Too large for one transaction after all (bytes, not items), or one event's outputs are
          // bad: halve the chunk until the culprit stands alone; the others commit.
          const half = Math.ceil(chunk.length / 2);
          chunks.unshift(chunk.slice(0, half), chunk.slice(half));
          continue;
        }
        // One event whose outputs can never be committed: it goes to the failed handler with why,
        // and is recorded without them. Retrying it would fail the same way.
        const [event] = chunk as [WorkerEvent<TData>];
        const summary = summarizeError(error);
        logFailure(deps, event, summary, true);
        const failure = { ...summary, at: deps.clock() };
        if (!(await deadLetter(message, [{ event, failure }], deps, stats)))
          return infrastructureRetry(message, deps);
        stats.failed += 1;
        deadIds.add(event.id);
        chunks.unshift([event]);
        continue;
      }
      // Throttling, a server error, a lost response, a missing table: not the events' fault. The
      // message comes back after a growing wait, and no attempt of its events is spent.
      deps.logger?.error('could not record the message as handled; it will come back after a backoff', {
        messageId: message.record.messageId,
        error: summarizeError(error),
      });
      return infrastructureRetry(message, deps);
    }
    for (const event of chunk) completed.add(event.id);
    current = { ...marker, version: (current?.version ?? 0) + 1 };
    stats.outputEvents += outputs.length;
    countSucceeded(chunk, deadIds, deps, stats);
    await step(deps, WORKER_STEPS.afterMarker, [message.record.messageId]);
  }
  if (allDone) return {};
  stats.retried += 1;
  return { retryAfterSeconds: onlyUnstarted ? 0 : retryAfter };
}

/** A message of a standard queue whose events are all handled, with no output events to commit. */
interface DoneMessage<TData> {
  readonly message: MessageWork<TData>;
  /** Its events recorded now: those that succeeded and those handed to the failed handler. */
  readonly chunk: readonly WorkerEvent<TData>[];
  readonly deadIds: ReadonlySet<string>;
  readonly failures: Record<string, number>;
}

/**
 * Records messages done without output events in one BatchWriteItem per 25 (see
 * `MarkerStore.putDone`): with one event per message, one request per message was most of the
 * worker's calls. Resolves to the messages that must come back, after the infrastructure backoff,
 * because their markers could not be written.
 */
async function recordDone<TData>(
  messages: readonly DoneMessage<TData>[],
  deps: BatchDependencies<TData>,
  stats: BatchStats,
): Promise<{ message: MessageWork<TData>; retryAfterSeconds: number }[]> {
  if (messages.length === 0) return [];
  const messageIds = messages.map(({ message }) => message.record.messageId);
  await step(deps, WORKER_STEPS.beforeMarker, messageIds);
  try {
    await deps.markers.putDone(
      deps.pipeline,
      messages.map(({ message, failures }) => ({
        key: message.key,
        failures,
        ...(message.marker ? { read: message.marker } : {}),
      })),
    );
  } catch (error) {
    // Throttling, a server error, a missing table: not the events' fault (see settleMessage).
    deps.logger?.error('could not record the messages as handled; they will come back after a backoff', {
      messageIds,
      error: summarizeError(error),
    });
    return messages.map(({ message }) => ({ message, ...infrastructureRetry(message, deps) }));
  }
  for (const { chunk, deadIds } of messages) countSucceeded(chunk, deadIds, deps, stats);
  await step(deps, WORKER_STEPS.afterMarker, messageIds);
  return [];
}

/** Counts the events of a recorded chunk that succeeded, and their latency since commit. */
function countSucceeded<TData>(
  chunk: readonly WorkerEvent<TData>[],
  deadIds: ReadonlySet<string>,
  deps: BatchDependencies<TData>,
  stats: BatchStats,
): void {
  for (const event of chunk) {
    if (deadIds.has(event.id)) continue;
    stats.succeeded += 1;
    // From the commit (the event id's time) to now: the pipeline's end-to-end latency.
    stats.latencyMsTotal += Math.max(0, deps.clock() - eventIdToEpochMs(event.id));
  }
}

/**
 * Whether a failed commit of outputs is the outputs' own fault, so that retrying cannot help: too
 * many or too large for one transaction, or refused by validation (Sluice's or DynamoDB's).
 */
function isOutputsProblem(error: unknown): boolean {
  if (error instanceof ValidationError) return true;
  if (error instanceof CommitError) {
    const cause = (error as { cause?: { name?: unknown } }).cause;
    return cause?.name === 'ValidationException' || error.reasons.includes('ValidationError');
  }
  return (error as { name?: unknown } | undefined)?.name === 'ValidationException';
}

/**
 * The wait before a message comes back after a failure of the infrastructure (throttling, 5xx, a
 * marker or dead-letter write that failed): the pipeline's backoff at the message's receive count,
 * so it grows with every delivery that meets the same trouble, up to `backoff.maxDelaySeconds`.
 */
function infrastructureRetry<TData>(
  message: MessageWork<TData>,
  deps: BatchDependencies<TData>,
): { retryAfterSeconds: number } {
  return { retryAfterSeconds: infrastructureDelaySeconds(message.record, deps) };
}

function infrastructureDelaySeconds<TData>(record: SqsRecord, deps: BatchDependencies<TData>): number {
  const receives = Number(record.attributes.ApproximateReceiveCount);
  return backoffDelaySeconds(
    Number.isInteger(receives) && receives >= 1 ? receives : 1,
    deps.backoff,
    deps.random,
  );
}

function logFailure<TData>(
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

/**
 * Sends events that failed for the last time to the dead-letter queue, with their attempts and last
 * error, in as many messages as their size needs. Before the marker: a crash in between sends them
 * again, which the failed-event handler recognises; the other order could lose them. Resolves to
 * false when SQS did not take them.
 */
async function deadLetter<TData>(
  message: MessageWork<TData>,
  dead: readonly { event: WorkerEvent<TData>; failure: EventFailure }[],
  deps: BatchDependencies<TData>,
  stats: BatchStats,
): Promise<boolean> {
  await step(deps, WORKER_STEPS.beforeDeadLetter, [message.record.messageId]);
  // A dead-letter copy keeps the message's epoch and redrive; an event whose error makes it too
  // large alone has that error cut to fit, since its data came in a message that fit.
  const bodies = packEnvelopes(
    { ...message.envelope, pipeline: deps.pipeline },
    dead.map(({ event, failure }) => failedEvent(event, event.attempt, failure)),
    { maxBodyBytes: MAX_MESSAGE_BYTES },
  ).map(({ body }) => body);
  try {
    await sendMessageBatches(
      deps.sqs,
      deps.deadLetterQueueUrl,
      bodies.map((body, index) => ({
        id: `${message.record.messageId}-${index}`,
        body,
        ...dlqFifoFields(message, body),
      })),
      { throwOnFailure: true },
    );
    stats.deadLettered += dead.length;
    return true;
  } catch (error) {
    deps.logger?.error(
      'could not move failed events to the dead-letter queue; the message will come back after a backoff',
      { messageId: message.record.messageId, error: summarizeError(error) },
    );
    return false;
  }
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

/**
 * Writes the message's marker over the one read (or written) before, with output events in the same
 * transaction when there are any: both land or neither.
 */
async function writeMarker<TData>(
  message: MessageWork<TData>,
  outputs: readonly EventInput[],
  marker: MessageMarker,
  read: MessageMarker | undefined,
  deps: BatchDependencies<TData>,
): Promise<void> {
  const markerWrite = deps.markers.markerWrite(deps.pipeline, message.key, marker, read);
  try {
    if (outputs.length > 0) {
      if (!deps.eventLog)
        throw new ValidationError(
          'the handler committed output events but the worker has no eventLog to commit them to',
          outputs.length,
        );
      await deps.eventLog.commitWith(outputs, [markerWrite]);
    } else {
      await deps.dynamodb.send(
        new PutItemCommand(markerWrite.Put as ConstructorParameters<typeof PutItemCommand>[0]),
      );
    }
  } catch (error) {
    const refusedMarker =
      error instanceof ConditionalCheckFailedException ||
      (error instanceof CommitError && error.otherWriteReasons[0] === 'ConditionalCheckFailed');
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

/** On a FIFO queue: the message's group, and a deduplication id that differs for every body. */
function dlqFifoFields<TData>(
  message: MessageWork<TData>,
  body: string,
): { groupId?: string; deduplicationId?: string } {
  if (!message.groupId) return {};
  return { groupId: message.groupId, deduplicationId: createHash('sha256').update(body).digest('base64url') };
}

/** Adds output events to those committed with event `eventId` of `message`. */
function addOutputs<TData>(
  message: MessageWork<TData>,
  eventId: string,
  events: EventInput | readonly EventInput[],
): void {
  const list = message.outputs.get(eventId) ?? [];
  list.push(...(Array.isArray(events) ? (events as EventInput[]) : [events as EventInput]));
  message.outputs.set(eventId, list);
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

/** The result of an event whose handler threw `thrown`, whatever it is: this never throws. */
function failureOf(thrown: unknown): Extract<EventResult, { kind: 'failed' }> {
  const error = summarizeError(thrown);
  if (thrown instanceof NonRetryableError) return { kind: 'failed', error, retryable: false };
  const retryAfterMs = thrown instanceof RetryableError ? thrown.retryAfterMs : undefined;
  return {
    kind: 'failed',
    error,
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
