import { randomUUID } from 'node:crypto';
import type { TransactWriteItem } from '@aws-sdk/client-dynamodb';
import { describe, LeaseLostError, ValidationError } from '../errors';
import type { EventLog } from '../event-log/event-log';
import { NAME_PATTERN, NAME_RULE } from '../event-log/names';
import type { EventInput } from '../event-log/types';
import {
  type Envelope,
  type EnvelopeEvent,
  MalformedMessageError,
  parseEnvelope,
} from '../messages/envelope';
import { withRetry } from '../retry/with-retry';
import { wholeMillisecondsProblem } from '../validation/whole-milliseconds';
import { type MarkerStore, type MessageMarker, markerKeyOf } from '../worker/marker-store';
import { CLAIM_DURATION_RANGE, DEFAULT_CLAIM_DURATION_MS } from './constants';
import { deadLetterFailure } from './dead-letter-failure';
import type { FailureStore } from './failure-store';
import type { Claim, FailedEventLogger, SqsRecordLike } from './records';
import { DEAD_LETTER_STEPS, type DeadLetterStepHook, type FailedEvent, type FailedHandler } from './types';

/** Options of {@link handleDeadLetters}. Unknown keys are rejected. */
export interface HandleDeadLettersOptions<TData = unknown> {
  /** The pipeline whose dead-letter queue this is: its claims and records are kept under this name. */
  readonly pipeline: string;
  /** The user's handler, called once per batch with every event not handed over before. */
  readonly failedHandler: FailedHandler<TData>;
  /** Where claims and failure records are kept. */
  readonly store: FailureStore;
  /** @default a random UUID (the Lambda request id, on Lambda) */
  readonly requestId?: string;
  /** @default no logging */
  readonly logger?: FailedEventLogger;
  /**
   * How long an event stays claimed while the failed handler runs, in milliseconds (1000 to 3600000).
   * Make it longer than the handler can take: a claim that expires mid-call lets another consumer hand
   * the event over too. On Lambda, the remaining time of the invocation plus a margin.
   * @default 900000 (15 minutes, the longest a Lambda function runs)
   */
  readonly claimDurationMs?: number;
  /** @default Date.now */
  readonly clock?: () => number;
  /** Named crash points for tests; see {@link DeadLetterStepHook}. @default none */
  readonly onStep?: DeadLetterStepHook;
  /** Where `context.commit` commits, with each failure's mark. @default none: `context.commit` throws */
  readonly eventLog?: EventLog;
  /**
   * The worker's idempotency markers, read to leave out the events of a message SQS moved to the DLQ
   * that had already succeeded. @default `store.markerStore()`, on the same state table
   */
  readonly markers?: MarkerStore;
}

/**
 * What {@link handleDeadLetters} did: the SQS partial-batch response (`batchItemFailures`, the messages
 * SQS must deliver again), and counts of events.
 */
export interface DeadLetterBatchResult {
  /** Messages to deliver again: their events were not all handed over or recorded. */
  readonly batchItemFailures: { itemIdentifier: string }[];
  /** Events the failed handler accepted in this call. */
  readonly handled: number;
  /** Events skipped because they had been handed over before (a message delivered again). */
  readonly skippedAsDuplicates: number;
  /** Events held by another consumer at the moment; their messages are delivered again. */
  readonly claimedElsewhere: number;
  /** Messages whose body is not a Sluice envelope: recorded, logged, and not delivered again. */
  readonly malformed: number;
  /**
   * Events left out because the worker had completed them: SQS moved a message that had partly
   * succeeded, and its marker lists them. They had their effect, so they are not failures.
   */
  readonly completedBefore: number;
}

const OPTION_KEYS: ReadonlySet<string> = new Set([
  'pipeline',
  'failedHandler',
  'store',
  'requestId',
  'logger',
  'claimDurationMs',
  'clock',
  'onStep',
  'eventLog',
  'markers',
] satisfies (keyof HandleDeadLettersOptions)[]);

/** How many store calls run at once. */
const CONCURRENCY = 8;

const NOOP_LOGGER: FailedEventLogger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
};

/** One distinct event of the batch, and the messages that carry it. */
interface BatchEvent {
  readonly failure: FailedEvent;
  /** The first message of the batch that carries it. */
  readonly dlqMessageId: string;
  readonly messageIds: string[];
}

/** An event this call holds the claim of, with its failure time as the claim fixed it. */
interface ClaimedEvent extends BatchEvent {
  readonly claim: Claim;
}

/** What one call of {@link handleDeadLetters} works with and counts. */
interface Batch {
  readonly pipeline: string;
  readonly store: FailureStore;
  readonly logger: FailedEventLogger;
  /** Messages to report in `batchItemFailures`. */
  readonly retry: Set<string>;
  skippedAsDuplicates: number;
  claimedElsewhere: number;
  malformed: number;
  completedBefore: number;
}

/**
 * Handles a batch of messages from a pipeline's dead-letter queue, for a Lambda function with
 * `ReportBatchItemFailures` on: each event that kept failing reaches the failed handler exactly once,
 * with its last error, however often its message is delivered.
 *
 * 1. Each body is parsed. One that is not a Sluice envelope is recorded (`recordMalformed`), logged
 *    at error level and counted; once recorded, its message is done.
 * 2. An event without a `lastError` came in a message SQS moved there (the worker never reported on
 *    it): the worker's marker of that message is read, and the events it completed are left out, so
 *    an event whose effect landed is never handed over too.
 * 3. Each event is claimed in the store (once per life: a redriven event that fails again is claimed
 *    anew under its redrive's identity). An event handled before is skipped; one held by another
 *    consumer makes its message come back later. Claimed events get a `pending` failure record.
 * 4. The failed handler is called once, with every claimed event of the batch.
 * 5. If it returns, each event is marked handled (its record turns `handled`) and its messages are
 *    done. If it throws, the claims are released and their messages reported in `batchItemFailures`,
 *    so SQS delivers them again and the events are handed over then.
 *
 * A message is done (left out of `batchItemFailures`, so SQS deletes it) only when every one of its
 * events was handed over now or before; nothing is dropped silently.
 *
 * @throws `ValidationError` naming every bad option, before anything is read or written.
 *
 * @example
 * ```ts
 * const store = new FailureStore({ tableName: process.env.SLUICE_STATE_TABLE! });
 * export const handler = async (event: { Records: SqsRecordLike[] }) => {
 *   const { batchItemFailures } = await handleDeadLetters(event.Records, {
 *     pipeline: 'billing',
 *     store,
 *     failedHandler: async (failures) => {
 *       for (const { event, lastError } of failures) await alertOps(`${event.id}: ${lastError.message}`);
 *     },
 *   });
 *   return { batchItemFailures };
 * };
 * ```
 */
export async function handleDeadLetters<TData = unknown>(
  records: readonly SqsRecordLike[],
  options: HandleDeadLettersOptions<TData>,
): Promise<DeadLetterBatchResult> {
  checkOptions(records, options);
  const batch: Batch = {
    pipeline: options.pipeline,
    store: options.store,
    logger: options.logger ?? NOOP_LOGGER,
    retry: new Set(),
    skippedAsDuplicates: 0,
    claimedElsewhere: 0,
    malformed: 0,
    completedBefore: 0,
  };
  const { envelopes, malformed } = parseRecords(batch, records);
  await recordMalformed(batch, malformed);
  const events = await failedEvents(
    batch,
    envelopes,
    options.markers ?? options.store.markerStore(),
    (options.clock ?? Date.now)(),
  );
  const claimed = await claimEvents(batch, events, options.claimDurationMs ?? DEFAULT_CLAIM_DURATION_MS);
  const handled = await handOver(
    batch,
    claimed,
    options.failedHandler,
    options.requestId ?? randomUUID(),
    options.onStep,
    options.eventLog,
  );
  return {
    batchItemFailures: records
      .filter((record, index) => batch.retry.has(record.messageId) && firstIndexOf(records, record) === index)
      .map((record) => ({ itemIdentifier: record.messageId })),
    handled,
    skippedAsDuplicates: batch.skippedAsDuplicates,
    claimedElsewhere: batch.claimedElsewhere,
    malformed: batch.malformed,
    completedBefore: batch.completedBefore,
  };
}

/** Splits the records into envelopes and the bodies that are not envelopes. */
function parseRecords(
  batch: Batch,
  records: readonly SqsRecordLike[],
): {
  envelopes: { record: SqsRecordLike; envelope: Envelope }[];
  malformed: { record: SqsRecordLike; error: MalformedMessageError }[];
} {
  const envelopes: { record: SqsRecordLike; envelope: Envelope }[] = [];
  const malformed: { record: SqsRecordLike; error: MalformedMessageError }[] = [];
  for (const record of records) {
    let envelope: Envelope;
    try {
      envelope = parseEnvelope(record.body, record.messageId);
    } catch (error) {
      if (!(error instanceof MalformedMessageError)) throw error;
      malformed.push({ record, error });
      continue;
    }
    if (envelope.pipeline !== batch.pipeline) {
      batch.logger.warn('dead-letter message carries events of another pipeline; handled as this one', {
        pipeline: batch.pipeline,
        envelopePipeline: envelope.pipeline,
        messageId: record.messageId,
      });
    }
    envelopes.push({ record, envelope });
  }
  return { envelopes, malformed };
}

/**
 * The distinct failed events of the batch. An event with a `lastError` was put in the DLQ by a worker
 * that gave up on it. One without came in a message SQS moved there by the queue's redrive policy: that
 * message may have partly succeeded, so the worker's marker of it is read, and the events it lists as
 * completed (succeeded, or dead-lettered with their error in a message of their own) are left out.
 * A message whose marker cannot be read comes again.
 */
async function failedEvents(
  batch: Batch,
  envelopes: readonly { record: SqsRecordLike; envelope: Envelope }[],
  markers: MarkerStore,
  now: number,
): Promise<BatchEvent[]> {
  const moved = envelopes.filter(({ envelope }) => envelope.events.some((event) => !event.lastError));
  let found = new Map<string, MessageMarker>();
  let unread = false;
  if (moved.length > 0) {
    try {
      found = await markers.getMany(
        batch.pipeline,
        moved.map(({ envelope }) => markerKeyOf(envelope)),
      );
    } catch (error) {
      unread = true;
      batch.logger.error('could not read the markers of messages SQS moved; they will come again', {
        pipeline: batch.pipeline,
        error: errorSummary(error),
      });
    }
  }
  const events = new Map<string, BatchEvent>();
  for (const { record, envelope } of envelopes) {
    const movedBySqs = envelope.events.some((event) => !event.lastError);
    if (movedBySqs && unread) {
      batch.retry.add(record.messageId);
      continue;
    }
    const marker = movedBySqs ? found.get(markerKeyOf(envelope)) : undefined;
    for (const event of envelope.events) {
      const completed =
        event.lastError === undefined &&
        marker !== undefined &&
        (marker.status === 'done' || marker.completedIds.has(event.id));
      if (completed) batch.completedBefore += 1;
      else addEvent(events, record, envelope, event, batch.pipeline, now);
    }
  }
  return [...events.values()];
}

/** Records each malformed message; one that cannot be recorded stays in the queue. */
async function recordMalformed(
  batch: Batch,
  malformed: readonly { record: SqsRecordLike; error: MalformedMessageError }[],
): Promise<void> {
  const { pipeline, logger } = batch;
  await forEach(malformed, async ({ record, error }) => {
    try {
      const recorded = await batch.store.recordMalformed({
        pipeline,
        messageId: record.messageId,
        body: record.body,
        error: { name: error.name, message: error.message },
        ...receivedAt(record),
      });
      batch.malformed += 1;
      logger.error('dead-letter message is not a Sluice envelope: recorded, and removed from the queue', {
        pipeline,
        messageId: record.messageId,
        error: error.message,
        bodyBytes: recorded.bodyBytes,
      });
    } catch (storeError) {
      batch.retry.add(record.messageId);
      logger.error(
        'dead-letter message is not a Sluice envelope, and could not be recorded: kept in the queue',
        { pipeline, messageId: record.messageId, error: error.message, storeError: errorSummary(storeError) },
      );
    }
  });
}

/**
 * Claims each event and writes its pending record; resolves to the events claimed. An event handled
 * before is skipped; the messages of one held elsewhere, or that could not be claimed, come again.
 */
async function claimEvents(
  batch: Batch,
  events: readonly BatchEvent[],
  claimDurationMs: number,
): Promise<ClaimedEvent[]> {
  const { pipeline, store, logger } = batch;
  const claimed = new Map<BatchEvent, ClaimedEvent>();
  await forEach(events, async (entry) => {
    const eventId = entry.failure.event.id;
    try {
      const result = await store.claim(pipeline, eventId, claimDurationMs, {
        failedAt: entry.failure.failedAt,
        ...(entry.failure.redrive === undefined ? {} : { redrive: entry.failure.redrive }),
      });
      if (result.status === 'handled') {
        batch.skippedAsDuplicates += 1;
        return;
      }
      if (result.status === 'busy') {
        batch.claimedElsewhere += 1;
        for (const id of entry.messageIds) batch.retry.add(id);
        logger.info('failed event is being handed over by another consumer; its message will come again', {
          pipeline,
          eventId,
          claimExpiresAt: result.claimExpiresAt,
        });
        return;
      }
      // The first claim of the event fixed its failure time: the record keeps one key.
      const failure = { ...entry.failure, failedAt: result.claim.failedAt };
      try {
        await store.recordFailure(failure, { dlqMessageId: entry.dlqMessageId });
      } catch (error) {
        await store.release(result.claim).catch(() => false);
        throw error;
      }
      claimed.set(entry, { ...entry, failure, claim: result.claim });
    } catch (error) {
      for (const id of entry.messageIds) batch.retry.add(id);
      logger.error('could not claim or record a failed event; its message will come again', {
        pipeline,
        eventId,
        error: errorSummary(error),
      });
    }
  });
  // In batch order, whatever order the claims finished in.
  return events.flatMap((entry) => claimed.get(entry) ?? []);
}

/**
 * Calls the failed handler once with every claimed event, then marks each handled; resolves to the
 * number handed over. If the handler throws, the claims are released and their messages come again.
 */
async function handOver<TData>(
  batch: Batch,
  claimed: readonly ClaimedEvent[],
  failedHandler: FailedHandler<TData>,
  requestId: string,
  onStep: DeadLetterStepHook | undefined,
  eventLog: EventLog | undefined,
): Promise<number> {
  if (claimed.length === 0) return 0;
  const { pipeline, store, logger } = batch;
  const failures = claimed.map((entry) => entry.failure) as FailedEvent<TData>[];
  const eventIds = failures.map((failure) => failure.event.id);
  await onStep?.(DEAD_LETTER_STEPS.afterClaim, { pipeline, eventIds });
  const outputs = new Map<string, EventInput[]>();
  const handedOver = new Set(eventIds);
  const commit = (eventId: string, events: EventInput | readonly EventInput[]): void => {
    if (!handedOver.has(eventId))
      throw new ValidationError(
        `context.commit: ${describe(eventId)} is not the id of a failure handed over in this call`,
        eventId,
      );
    if (!eventLog)
      throw new ValidationError(
        'context.commit needs an event log: set SLUICE_EVENT_LOG_TABLE, or pass eventLog',
        eventId,
      );
    const list = outputs.get(eventId) ?? [];
    list.push(...(Array.isArray(events) ? events : [events as EventInput]));
    outputs.set(eventId, list);
  };
  try {
    await failedHandler(failures, { pipeline, requestId, commit });
  } catch (error) {
    logger.error('the failed handler threw; its events will be handed over again', {
      pipeline,
      eventIds: claimed.map((entry) => entry.failure.event.id),
      error: errorSummary(error),
    });
    for (const entry of claimed) for (const id of entry.messageIds) batch.retry.add(id);
    await forEach(claimed, async (entry) => {
      await store.release(entry.claim).catch((releaseError: unknown) => {
        logger.warn('could not release a claim; the event waits for it to expire', {
          pipeline,
          eventId: entry.failure.event.id,
          error: errorSummary(releaseError),
        });
      });
    });
    return 0;
  }
  await onStep?.(DEAD_LETTER_STEPS.afterFailedHandler, { pipeline, eventIds });
  let handled = 0;
  await forEach(claimed, async (entry) => {
    const committed = outputs.get(entry.failure.event.id) ?? [];
    const marked = await markHandled(
      store,
      entry,
      logger,
      committed.length > 0 && eventLog ? (writes) => eventLog.commitWith(committed, writes) : undefined,
    );
    if (marked === 'retry') for (const id of entry.messageIds) batch.retry.add(id);
    else handled += 1;
  });
  return handled;
}

function addEvent(
  events: Map<string, BatchEvent>,
  record: SqsRecordLike,
  envelope: Envelope,
  event: EnvelopeEvent,
  pipeline: string,
  now: number,
): void {
  // An event is failed once per life: its first delivery, and each redrive that sent it back.
  const identity = `${event.id}#${envelope.redrive ?? ''}`;
  const known = events.get(identity);
  if (known) {
    // The same event twice in one batch (a message delivered twice, or packed twice): one hand-over.
    if (!known.messageIds.includes(record.messageId)) known.messageIds.push(record.messageId);
    return;
  }
  events.set(identity, {
    failure: deadLetterFailure({
      pipeline,
      stream: envelope.stream,
      event,
      ...(envelope.redrive === undefined ? {} : { redrive: envelope.redrive }),
      ...(record.attributes === undefined ? {} : { attributes: record.attributes }),
      now,
    }),
    dlqMessageId: record.messageId,
    messageIds: [record.messageId],
  });
}

/**
 * Marks one handed-over event handled, with what the handler committed for it when there is any.
 * Without commits, its message is done whatever happens here: the handler has the event, and
 * delivering it again could only hand it over twice. With commits that failed to land, it must come
 * again, or what the handler committed would be lost.
 */
async function markHandled(
  store: FailureStore,
  entry: ClaimedEvent,
  logger: FailedEventLogger,
  transact: ((writes: TransactWriteItem[]) => Promise<unknown>) | undefined,
): Promise<'done' | 'retry'> {
  const eventId = entry.failure.event.id;
  try {
    await withRetry(
      () =>
        store.markHandled(entry.claim, entry.failure, {
          dlqMessageId: entry.dlqMessageId,
          ...(transact ? { transact } : {}),
        }),
      { preset: 'aws', name: 'mark failed event handled' },
    );
    return 'done';
  } catch (error) {
    if (error instanceof LeaseLostError && error.lease === 'failed-event claim') {
      logger.warn('claim lost while the failed handler ran: the event may have been handed over twice', {
        pipeline: entry.failure.pipeline,
        eventId,
        error: error.message,
      });
      return 'done';
    }
    if (transact) {
      // What the handler committed did not land with the mark: the event must be handed over again.
      logger.error('handed over, but its commit and mark failed: it will be handed over again', {
        pipeline: entry.failure.pipeline,
        eventId,
        error: errorSummary(error),
      });
      return 'retry';
    }
    logger.error('handed over, but could not be marked handled: its record stays pending', {
      pipeline: entry.failure.pipeline,
      eventId,
      error: errorSummary(error),
    });
    return 'done';
  }
}

function receivedAt(record: SqsRecordLike): { receivedAt?: number } {
  const sent = record.attributes?.SentTimestamp;
  return sent !== undefined && /^[0-9]{1,16}$/.test(sent) ? { receivedAt: Number(sent) } : {};
}

function firstIndexOf(records: readonly SqsRecordLike[], record: SqsRecordLike): number {
  return records.findIndex((other) => other.messageId === record.messageId);
}

function errorSummary(error: unknown): { name: string; message: string } {
  return error instanceof Error
    ? { name: error.name, message: error.message }
    : { name: 'Error', message: describe(error) };
}

/** Runs `work` on every item, at most {@link CONCURRENCY} at a time. */
async function forEach<T>(items: readonly T[], work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next] as T;
      next += 1;
      await work(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, items.length) }, worker));
}

function checkOptions(records: readonly SqsRecordLike[], options: HandleDeadLettersOptions<never>): void {
  const problems: string[] = [];
  if (!Array.isArray(records))
    problems.push(`records must be an array of SQS records (given ${describe(records)})`);
  if (typeof options !== 'object' || options === null) {
    throw new ValidationError(`options must be an object (given ${describe(options)})`, options);
  }
  const unknown = Object.keys(options).filter((key) => !OPTION_KEYS.has(key));
  if (unknown.length > 0) {
    problems.push(`unknown option(s) ${unknown.join(', ')}; known: ${[...OPTION_KEYS].join(', ')}`);
  }
  if (typeof options.pipeline !== 'string' || !NAME_PATTERN.test(options.pipeline)) {
    problems.push(`pipeline name ${describe(options.pipeline)} is invalid: ${NAME_RULE}`);
  }
  if (typeof options.failedHandler !== 'function') {
    problems.push(`failedHandler must be a function (given ${describe(options.failedHandler)})`);
  }
  if (typeof options.store?.claim !== 'function') {
    problems.push(`store must be a FailureStore (given ${describe(options.store)})`);
  }
  const duration = options.claimDurationMs;
  const durationProblem =
    duration === undefined
      ? undefined
      : wholeMillisecondsProblem('claimDurationMs', duration, CLAIM_DURATION_RANGE);
  if (durationProblem) problems.push(durationProblem);
  if (options.clock !== undefined && typeof options.clock !== 'function') {
    problems.push(`clock must be a function returning epoch milliseconds (given ${describe(options.clock)})`);
  }
  if (options.markers !== undefined && typeof options.markers?.getMany !== 'function') {
    problems.push(`markers must be a MarkerStore (given ${describe(options.markers)})`);
  }
  if (options.onStep !== undefined && typeof options.onStep !== 'function') {
    problems.push(`onStep must be a function (given ${describe(options.onStep)})`);
  }
  if (options.requestId !== undefined && typeof options.requestId !== 'string') {
    problems.push(`requestId must be a string (given ${describe(options.requestId)})`);
  }
  if (Array.isArray(records)) {
    records.forEach((record, index) => {
      if (typeof record?.messageId !== 'string' || typeof record?.body !== 'string') {
        problems.push(`records[${index}] must have a string messageId and body (given ${describe(record)})`);
      }
    });
  }
  if (problems.length > 0)
    throw new ValidationError(`invalid dead-letter batch: ${problems.join('; ')}`, options);
}
