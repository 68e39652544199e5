import { summarizeError } from '../failed/truncate';
import { type Envelope, parseEnvelope, storedEventOf } from '../messages/envelope';
import { isTransientError } from '../retry/is-transient';
import { changeVisibility as changeVisibilityOf } from '../sqs/batch-calls';
import { sendMessageBatches } from '../sqs/send-message-batches';
import {
  type BatchDependencies,
  infrastructureDelaySeconds,
  lanesOf,
  type MessageWork,
  step,
} from './batch-work';
import { type MessageMarker, markerKeyOf } from './marker-store';
import { runHandler } from './run-handler';
import { type DoneMessage, recordDone, settleMessage } from './settle-message';
import type { SqsRecord } from './sqs-record';
import { type BatchOutcome, type BatchStats, WORKER_STEPS } from './types';

export type { BatchDependencies } from './batch-work';

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

function failureList(
  records: readonly SqsRecord[],
  failures: ReadonlySet<string>,
): { itemIdentifier: string }[] {
  return records
    .filter((record) => failures.has(record.messageId))
    .map((record) => ({ itemIdentifier: record.messageId }));
}

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

/**
 * Sets each failed message's wait before it comes back. Best effort: a message whose wait could not
 * be set returns after the queue's visibility timeout instead.
 */
async function changeVisibility<TData>(
  entries: readonly { id: string; receiptHandle: string; seconds: number }[],
  deps: BatchDependencies<TData>,
): Promise<void> {
  if (entries.length === 0) return;
  const refused = await changeVisibilityOf(
    { sqs: deps.sqs, queueUrl: deps.queueUrl, random: deps.random },
    entries.map((entry) => ({
      key: entry.id,
      receiptHandle: entry.receiptHandle,
      visibilityTimeoutSeconds: entry.seconds,
    })),
    0,
  );
  for (const failure of refused) {
    deps.logger?.warn(
      'could not set the backoff of a failed message; it returns after the queue visibility timeout',
      { messageId: failure.key, code: failure.code },
    );
  }
}
