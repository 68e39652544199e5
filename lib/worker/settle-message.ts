import { ConditionalCheckFailedException, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { CommitError, ConflictError, SluiceError, ValidationError } from '../errors';
import type { EventInput } from '../event-log/types';
import { summarizeError } from '../failed/truncate';
import { type EventFailure, failedEvent } from '../messages/envelope';
import { packEnvelopes } from '../messages/pack';
import { MAX_MESSAGE_BYTES } from '../sqs/constants';
import { sendMessageBatches } from '../sqs/send-message-batches';
import { eventIdToEpochMs } from '../time/event-id';
import { backoffDelaySeconds } from './backoff';
import {
  type BatchDependencies,
  dlqFifoFields,
  infrastructureRetry,
  logFailure,
  type MessageWork,
  step,
} from './batch-work';
import type { MessageMarker } from './marker-store';
import { planMessageOutcome } from './message-outcome';
import { planChunks } from './output-chunks';
import { type BatchStats, WORKER_STEPS, type WorkerEvent } from './types';

/**
 * Records what happened to a message; resolves to the visibility delay when it must come back.
 *
 * Events that succeeded are recorded with their outputs in one or more transactions ("chunks"), in
 * event order, each small enough for DynamoDB (see {@link planChunks}); every chunk also writes the
 * message's marker, conditioned on the version the previous one wrote, so the marker always lists
 * exactly the events whose outputs have landed. A crash between chunks leaves a partial marker: the
 * next delivery runs only the events it does not list, and their outputs land once.
 */
export async function settleMessage<TData>(
  message: MessageWork<TData>,
  deps: BatchDependencies<TData>,
  stats: BatchStats,
  recordTogether: DoneMessage<TData>[],
): Promise<{ retryAfterSeconds?: number }> {
  const outcome = planMessageOutcome(message.events, message.results, {
    failuresBefore: message.marker?.failures ?? {},
    maxRedeliveryCount: deps.maxRedeliveryCount,
    delaySecondsFor: (attempt) => backoffDelaySeconds(attempt, deps.backoff, deps.random),
  });
  stats.unstarted += outcome.unstarted;
  stats.failed += outcome.failedNow.length;
  for (const { event, error, lastAttempt } of outcome.failedNow) logFailure(deps, event, error, lastAttempt);
  const { toRecord, allDone, failures: failuresSoFar } = outcome;
  const dead: { event: WorkerEvent<TData>; failure: EventFailure }[] = outcome.givenUp.map(
    ({ event, error }) => ({
      event,
      failure: { ...error, at: deps.clock() },
    }),
  );

  if (dead.length > 0 && !(await deadLetter(message, dead, deps, stats)))
    return infrastructureRetry(message, deps);

  const changed = toRecord.length > 0 || outcome.retriesFailures;
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
  return { retryAfterSeconds: outcome.retryAfterSeconds };
}

/** A message of a standard queue whose events are all handled, with no output events to commit. */

export interface DoneMessage<TData> {
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
export async function recordDone<TData>(
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
 * many or too large for one transaction, or refused by validation (Sluice's or DynamoDB's), or
 * declaring a stream timing the output stream does not have.
 */
function isOutputsProblem(error: unknown): boolean {
  if (error instanceof ValidationError) return true;
  if (error instanceof ConflictError && error.kind === 'stream-timing') return true;
  if (error instanceof CommitError) {
    const cause = (error as { cause?: { name?: unknown } }).cause;
    return cause?.name === 'ValidationException' || error.reasons.includes('ValidationError');
  }
  return (error as { name?: unknown } | undefined)?.name === 'ValidationException';
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
