import {
  type BatchResultErrorEntry,
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  type Message,
  type MessageSystemAttributeName,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { RetryableError } from '../retry/errors';
import { withRetry } from '../retry/with-retry';
import { MAX_BATCH_ENTRIES } from './constants';

// Sluice's SQS calls on messages it received: receive, change visibility and delete, 10 entries a
// call, each entry's failure reported, and what SQS failed on its side retried through withRetry.
// Sends go through sendMessageBatches.

/** What every call needs: the client, the queue, and the waits between retries. */
export interface CallContext {
  readonly sqs: SQSClient;
  readonly queueUrl: string;
  /** @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
  /** The jitter of the waits between retries. @default Math.random */
  readonly random?: () => number;
}

/** One message to act on in a batch call, named by the caller's key. */
export interface BatchEntry {
  readonly key: string;
  readonly receiptHandle: string;
  /** For {@link changeVisibility}: this entry's timeout, over the one given for the call. */
  readonly visibilityTimeoutSeconds?: number;
}

/** Why SQS finally did not act on one entry of a batch call. */
export interface EntryFailure {
  readonly key: string;
  /** The SQS error code, such as `ReceiptHandleIsInvalid` or `MessageNotInflight`. */
  readonly code: string;
  readonly message: string;
  /** The error of the whole call, when the call failed rather than the entry. */
  readonly cause?: unknown;
}

/** What {@link receiveMessages} asks SQS for. */
export interface ReceiveRequest {
  /** At most 10. */
  readonly maxMessages: number;
  readonly waitTimeSeconds: number;
  /** How long the messages stay hidden. @default the queue's visibility timeout */
  readonly visibilityTimeoutSeconds?: number;
  /** The system attributes each message comes with. @default ['ApproximateReceiveCount'] */
  readonly systemAttributeNames?: readonly MessageSystemAttributeName[];
  /** Ends the receive (and its retries) at once, rejecting with the signal's reason. */
  readonly signal?: AbortSignal;
}

/**
 * Receives up to `maxMessages` messages (at most 10), with their message attributes and the system
 * attributes asked for (their receive count by default), hiding them for `visibilityTimeoutSeconds`.
 * Transient errors are retried with the `aws` preset.
 *
 * @example
 * ```ts
 * const messages = await receiveMessages({ sqs, queueUrl }, { maxMessages: 10, waitTimeSeconds: 20, visibilityTimeoutSeconds: 30, signal });
 * ```
 */
export async function receiveMessages(context: CallContext, request: ReceiveRequest): Promise<Message[]> {
  const output = await withRetry(
    ({ signal }) =>
      context.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: context.queueUrl,
          MaxNumberOfMessages: Math.min(MAX_BATCH_ENTRIES, request.maxMessages),
          WaitTimeSeconds: request.waitTimeSeconds,
          ...(request.visibilityTimeoutSeconds === undefined
            ? {}
            : { VisibilityTimeout: request.visibilityTimeoutSeconds }),
          MessageSystemAttributeNames: [...(request.systemAttributeNames ?? ['ApproximateReceiveCount'])],
          MessageAttributeNames: ['All'],
        }),
        signal === undefined ? {} : { abortSignal: signal },
      ),
    retryOptions(context, 'ReceiveMessage', request.signal),
  );
  return output.Messages ?? [];
}

/**
 * Sets the visibility timeout of messages with ChangeMessageVisibilityBatch, 10 at a time, and
 * returns the entries SQS finally refused (an empty list when all went through). An entry's own
 * `visibilityTimeoutSeconds` wins over `visibilityTimeoutSeconds`.
 *
 * @example
 * ```ts
 * const refused = await changeVisibility({ sqs, queueUrl }, [{ key: messageId, receiptHandle }], 30);
 * ```
 */
export function changeVisibility(
  context: CallContext,
  entries: readonly BatchEntry[],
  visibilityTimeoutSeconds: number,
): Promise<EntryFailure[]> {
  return inBatches(context, 'ChangeMessageVisibilityBatch', entries, async (chunk, signal) =>
    context.sqs.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: context.queueUrl,
        Entries: chunk.map((entry, index) => ({
          Id: String(index),
          ReceiptHandle: entry.receiptHandle,
          VisibilityTimeout: Math.round(entry.visibilityTimeoutSeconds ?? visibilityTimeoutSeconds),
        })),
      }),
      signal === undefined ? {} : { abortSignal: signal },
    ),
  );
}

/**
 * Deletes messages with DeleteMessageBatch, 10 at a time, and returns the entries SQS finally refused.
 *
 * @example
 * ```ts
 * const refused = await deleteMessages({ sqs, queueUrl }, [{ key: messageId, receiptHandle }]);
 * ```
 */
export function deleteMessages(
  context: CallContext,
  entries: readonly BatchEntry[],
): Promise<EntryFailure[]> {
  return inBatches(context, 'DeleteMessageBatch', entries, async (chunk, signal) =>
    context.sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: context.queueUrl,
        Entries: chunk.map((entry, index) => ({ Id: String(index), ReceiptHandle: entry.receiptHandle })),
      }),
      signal === undefined ? {} : { abortSignal: signal },
    ),
  );
}

type BatchCall = (
  chunk: readonly BatchEntry[],
  signal: AbortSignal | undefined,
) => Promise<{ Successful?: { Id?: string | undefined }[]; Failed?: BatchResultErrorEntry[] }>;

/**
 * Makes a batch call for every 10 entries. Entries SQS failed on its side (`SenderFault: false`) and
 * whole calls that failed with a transient error are tried again with the `aws` retry preset; entries
 * refused as the sender's fault, and calls that failed otherwise, are returned as failures.
 */
async function inBatches(
  context: CallContext,
  operation: string,
  entries: readonly BatchEntry[],
  call: BatchCall,
): Promise<EntryFailure[]> {
  const failures: EntryFailure[] = [];
  for (let start = 0; start < entries.length; start += MAX_BATCH_ENTRIES) {
    let pending = entries.slice(start, start + MAX_BATCH_ENTRIES);
    const lastReason = new Map<string, { code: string; message: string }>();
    try {
      await withRetry(
        async ({ signal }) => {
          const output = await call(pending, signal);
          const succeeded = new Set((output.Successful ?? []).map((entry) => entry.Id));
          const failed = new Map((output.Failed ?? []).map((entry) => [entry.Id, entry]));
          const retry: BatchEntry[] = [];
          pending.forEach((entry, index) => {
            const id = String(index);
            if (succeeded.has(id)) return;
            const refusal = failed.get(id);
            const reason = {
              code: refusal?.Code ?? 'MissingFromResponse',
              message: refusal?.Message ?? 'SQS reported neither success nor failure for this entry',
            };
            if (refusal?.SenderFault === true) failures.push({ key: entry.key, ...reason });
            else {
              lastReason.set(entry.key, reason);
              retry.push(entry);
            }
          });
          pending = retry;
          if (retry.length > 0) {
            const first = lastReason.get((retry[0] as BatchEntry).key);
            throw new RetryableError(
              `${retry.length} entr${retry.length === 1 ? 'y' : 'ies'} of ${operation} failed on SQS's side (${first?.code}: ${first?.message})`,
            );
          }
        },
        retryOptions(context, operation),
      );
    } catch (error) {
      for (const entry of pending) {
        const reason = lastReason.get(entry.key);
        failures.push(
          reason === undefined
            ? { key: entry.key, ...reasonOf(error), cause: error }
            : { key: entry.key, ...reason, cause: error },
        );
      }
    }
  }
  return failures;
}

function retryOptions(context: CallContext, operation: string, signal?: AbortSignal) {
  return {
    preset: 'aws' as const,
    name: `${operation} on ${context.queueUrl}`,
    ...(context.sleep ? { sleep: context.sleep } : {}),
    ...(context.random ? { random: context.random } : {}),
    ...(signal === undefined ? {} : { signal }),
  };
}

/** The code and message of a whole call's error. */
export function reasonOf(error: unknown): { code: string; message: string } {
  if (error instanceof Error) {
    const code = (error as { Code?: unknown }).Code;
    return { code: typeof code === 'string' ? code : error.name, message: error.message };
  }
  return { code: 'UnknownError', message: String(error) };
}
