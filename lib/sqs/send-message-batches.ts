import {
  SendMessageBatchCommand,
  type SendMessageBatchRequestEntry,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { runLimited } from '../collections/run-limited';
import { describe, ValidationError } from '../errors';
import { callFailureReason, isTransientCallError } from './call-failure';
import { type SendFailureReason, SendMessagesError } from './errors';
import { billedRequestsFor } from './message-size';
import { resolveSendOptions, type SendMessageBatchesOptions, type SendSettings } from './send-options';
import {
  classifyEntries,
  firstFinalFailure,
  planRetries,
  type SendOutcome,
  sendBackoffMs,
  splitIntoBatches,
  summarizeOutcomes,
} from './send-plan';
import type { OutgoingMessage, SendMessageBatchesResult } from './send-types';
import { validateOutgoingMessages } from './validate-outgoing';

export type { SendMessageBatchesOptions } from './send-options';
export type { OutgoingMessage, SendFailure, SendMessageBatchesResult } from './send-types';

interface Run {
  readonly sqs: SQSClient;
  readonly queueUrl: string;
  readonly messages: readonly OutgoingMessage[];
  readonly sizes: readonly number[];
  readonly settings: SendSettings;
  readonly outcomes: Map<number, SendOutcome>;
  calls: number;
  payloadBytes: number;
  billedRequests: number;
  /** The call error behind a final failure, if one was: the `cause` of a `SendMessagesError`. */
  failingCallError: unknown;
}

/**
 * Sends messages to one queue with SendMessageBatch, in order, and checks the outcome of every entry.
 *
 * - Validates everything first and sends nothing if any message or option is invalid: duplicate ids
 *   and bad `delaySeconds` throw a `ValidationError`, a message over 1 MiB a `TooLargeError` (what `message`).
 * - Splits the messages in order into calls of at most 10 entries and 1 MiB of payload, and makes the
 *   calls one after another: a call starts only once every entry of the previous one was accepted;
 *   with `callsInFlight` above 1 (messages without a `groupId` only), up to that many at once.
 * - Sends again, alone and with exponential backoff, the entries SQS failed on its side
 *   (`SenderFault: false`), and whole calls that failed with a transient error (throttling, 5xx,
 *   network). Other call errors, such as a missing queue, are not retried.
 *
 * Stop rule, for ordered delivery: once a message finally fails (sender fault, a non-transient call
 * error, or retries exhausted), no later message of the call is sent. The result lists the accepted
 * prefix (`acceptedIds`), the failures, and the ids left unsent; a caller can checkpoint up to the last
 * accepted id and send the rest again. Entries that SQS accepted in the same call after the failed one
 * cannot be taken back: they are reported in `acceptedAfterFailureIds`. Likewise, when SQS fails an
 * entry on its side but accepts later entries of the same call, the retried entry lands after them;
 * on a FIFO queue that is the one case in which order within a group can break.
 *
 * A whole call that failed on the network may have landed anyway, so its retry can enqueue messages
 * twice; on FIFO queues a `deduplicationId` (or content-based deduplication) prevents that.
 *
 * @throws `ValidationError` or `TooLargeError` (what `message`) before anything is sent; `SendMessagesError`
 * when a message was not accepted and `throwOnFailure` is set.
 *
 * @example
 * ```ts
 * const sqs = new SQSClient({});
 * const result = await sendMessageBatches(sqs, queueUrl, [
 *   { id: 'e-1', body: JSON.stringify(first), groupId: 'orders', deduplicationId: 'e-1' },
 *   { id: 'e-2', body: JSON.stringify(second), groupId: 'orders', deduplicationId: 'e-2' },
 * ]);
 * if (result.acceptedIds.length > 0) await saveCheckpoint(result.acceptedIds.at(-1));
 * if (result.failed.length > 0) console.warn('not sent', result.failed, result.unsentIds);
 * ```
 */
export async function sendMessageBatches(
  sqs: SQSClient,
  queueUrl: string,
  messages: readonly OutgoingMessage[],
  options: SendMessageBatchesOptions = {},
): Promise<SendMessageBatchesResult> {
  const settings = resolveSendOptions(options);
  if (typeof queueUrl !== 'string' || queueUrl.trim() === '')
    throw new ValidationError(`queueUrl must be a queue URL (given ${describe(queueUrl)})`, queueUrl);
  const sizes = validateOutgoingMessages(messages);
  const grouped = messages.find((message) => message.groupId !== undefined);
  if (settings.callsInFlight > 1 && grouped !== undefined)
    throw new ValidationError(
      `message ${JSON.stringify(grouped.id)} has a groupId, so its calls must land one after another: callsInFlight must be 1 (given ${settings.callsInFlight})`,
      options,
    );
  const run: Run = {
    sqs,
    queueUrl,
    messages,
    sizes,
    settings,
    outcomes: new Map(),
    calls: 0,
    payloadBytes: 0,
    billedRequests: 0,
    failingCallError: undefined,
  };

  const next = await sendBatches(run, splitIntoBatches(sizes));

  const result: SendMessageBatchesResult = {
    ...summarizeOutcomes(
      messages.map((message) => message.id),
      run.outcomes,
      next,
    ),
    calls: run.calls,
    payloadBytes: run.payloadBytes,
    billedRequests: run.billedRequests,
  };
  if (settings.throwOnFailure && (result.failed.length > 0 || result.unsentIds.length > 0)) {
    throw new SendMessagesError(
      {
        queueUrl,
        acceptedIds: result.acceptedIds,
        failed: result.failed,
        unsentIds: result.unsentIds,
        acceptedAfterFailureIds: result.acceptedAfterFailureIds,
      },
      { cause: run.failingCallError },
    );
  }
  return result;
}

/**
 * Sends the batches in order, up to `callsInFlight` at a time; once a batch ends with a final failure,
 * no further batch starts. Resolves to the index after the last message of the last batch started.
 */
async function sendBatches(run: Run, batches: readonly (readonly number[])[]): Promise<number> {
  let stopped = false;
  const started = await runLimited(
    batches,
    run.settings.callsInFlight,
    async (batch) => {
      await sendBatch(run, batch);
      if (batch.some((index) => run.outcomes.get(index)?.accepted === false)) stopped = true;
    },
    { stopWhen: () => stopped },
  );
  return started === 0 ? 0 : ((batches[started - 1] as readonly number[]).at(-1) as number) + 1;
}

/** Sends one batch until each entry is accepted or finally failed, or a final failure stops it. */
async function sendBatch(run: Run, batch: readonly number[]): Promise<void> {
  let pending = batch;
  for (let attempt = 1; pending.length > 0; attempt += 1) {
    let retryable = new Map<number, SendFailureReason>();
    let callError: unknown;
    const payloadBytes = pending.reduce((sum, index) => sum + (run.sizes[index] as number), 0);
    run.calls += 1;
    run.payloadBytes += payloadBytes;
    run.billedRequests += billedRequestsFor(payloadBytes);
    try {
      const output = await run.sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: run.queueUrl,
          Entries: pending.map((index) => toEntry(index, run.messages[index] as OutgoingMessage)),
        }),
      );
      const verdicts = classifyEntries(
        pending,
        (output.Successful ?? []).map((entry) => entry.Id),
        output.Failed ?? [],
      );
      for (const index of verdicts.accepted) run.outcomes.set(index, { accepted: true });
      for (const [index, reason] of verdicts.refused)
        run.outcomes.set(index, finalFailure(run, index, reason, attempt));
      retryable = verdicts.retryable;
    } catch (error) {
      callError = error;
      const reason = callFailureReason(error);
      if (!isTransientCallError(error)) run.failingCallError = error;
      for (const index of pending) {
        if (isTransientCallError(error)) retryable.set(index, reason);
        else run.outcomes.set(index, finalFailure(run, index, reason, attempt));
      }
    }

    const plan = planRetries(
      retryable,
      firstFinalFailure(batch, run.outcomes),
      attempt,
      run.settings.maxAttempts,
    );
    for (const [index, reason] of plan.givenUp) {
      run.outcomes.set(index, finalFailure(run, index, reason, attempt));
      if (callError !== undefined) run.failingCallError = callError;
    }
    pending = plan.retry;
    if (pending.length > 0) await run.settings.sleep(sendBackoffMs(run.settings, attempt));
  }
}

function finalFailure(run: Run, index: number, reason: SendFailureReason, attempts: number): SendOutcome {
  const message = run.messages[index] as OutgoingMessage;
  return { accepted: false, id: message.id, ...reason, attempts };
}

function toEntry(index: number, message: OutgoingMessage): SendMessageBatchRequestEntry {
  const entry: SendMessageBatchRequestEntry = { Id: String(index), MessageBody: message.body };
  if (message.attributes !== undefined) entry.MessageAttributes = { ...message.attributes };
  if (message.groupId !== undefined) entry.MessageGroupId = message.groupId;
  if (message.deduplicationId !== undefined) entry.MessageDeduplicationId = message.deduplicationId;
  if (message.delaySeconds !== undefined) entry.DelaySeconds = message.delaySeconds;
  return entry;
}
