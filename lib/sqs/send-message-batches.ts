import {
  type MessageAttributeValue,
  SendMessageBatchCommand,
  type SendMessageBatchRequestEntry,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { describe, TooLargeError, ValidationError } from '../errors';
import {
  MAX_BATCH_ENTRIES,
  MAX_BATCH_PAYLOAD_BYTES,
  MAX_DELAY_SECONDS,
  MAX_MESSAGE_ATTRIBUTES,
  MAX_MESSAGE_BYTES,
  PERMANENT_ERROR_CODES,
  SEND_DEFAULTS,
  SEND_OPTION_LIMITS,
  TRANSIENT_ERROR_CODES,
} from './constants';
import { type SendFailureReason, SendMessagesError } from './errors';
import { billedRequestsFor, messagePayloadBytes } from './message-size';

/** One message to send. */
export interface OutgoingMessage {
  /**
   * The caller's id for the message, unique within one call (for example the id of the first event it
   * carries). Any string: it is never sent to SQS, which gets the entry's position instead.
   */
  readonly id: string;
  /** The message body: at least one character, of the characters SQS allows. */
  readonly body: string;
  /** Message attributes; their names, data types and values count towards the size limits. */
  readonly attributes?: Readonly<Record<string, MessageAttributeValue>>;
  /** `MessageGroupId`: required on FIFO queues. @default none */
  readonly groupId?: string;
  /**
   * `MessageDeduplicationId` (FIFO queues). Set it, or turn on content-based deduplication, so that a
   * call retried after a network error cannot enqueue a message twice. @default none
   */
  readonly deduplicationId?: string;
  /** `DelaySeconds`, 0 to 900 (standard queues only). @default the queue's delay */
  readonly delaySeconds?: number;
}

/** A message that SQS finally did not accept. */
export interface SendFailure extends SendFailureReason {
  /** The caller's id of the message. */
  readonly id: string;
  /** How many times it was sent. */
  readonly attempts: number;
}

/** What one `sendMessageBatches()` call did. Every input message is in exactly one of the id lists. */
export interface SendMessageBatchesResult {
  /**
   * Ids SQS accepted, in input order. Always a prefix of the input: everything before the first
   * failure, so a caller may move its checkpoint past exactly these.
   */
  acceptedIds: string[];
  /** Messages that were sent and finally refused (sender fault, or retries exhausted), in input order. */
  failed: SendFailure[];
  /** Ids never sent because an earlier message failed (the stop rule). */
  unsentIds: string[];
  /**
   * Ids SQS accepted in the same call as, but after, the first failed message. They are not in
   * `acceptedIds`; sending again from the checkpoint sends them twice.
   */
  acceptedAfterFailureIds: string[];
  /** SendMessageBatch calls made, retries and failed calls included. */
  calls: number;
  /** Payload bytes (bodies plus message attributes) of all calls made, retries included. */
  payloadBytes: number;
  /** Requests SQS bills for those calls: one per started 64 KiB of each call's payload. */
  billedRequests: number;
}

/** Options of {@link sendMessageBatches}. */
export interface SendMessageBatchesOptions {
  /**
   * The most times one message is sent when SQS reports a server-side failure for it, or the whole
   * call fails with a transient error (throttling, 5xx, network). From 1 to 100. These retries come on
   * top of the SDK client's own retry strategy, which still applies inside each call.
   * @default 5
   */
  readonly maxAttempts?: number;
  /** Delay before the first retry; it doubles with every further retry, up to `maxDelayMs`. 0 to 60000. @default 100 */
  readonly initialDelayMs?: number;
  /**
   * The longest delay between two attempts; at least `initialDelayMs`, at most 300000.
   * @default 2000, or `initialDelayMs` when that is longer
   */
  readonly maxDelayMs?: number;
  /** Waits between attempts; replace it in tests. @default a `setTimeout` promise */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Throw a `SendMessagesError` instead of returning failures. @default false */
  readonly throwOnFailure?: boolean;
}

const OPTION_KEYS: readonly string[] = [
  'maxAttempts',
  'initialDelayMs',
  'maxDelayMs',
  'sleep',
  'throwOnFailure',
] satisfies (keyof SendMessageBatchesOptions)[];

/** Printable ASCII, 1 to 128 characters: SQS's rule for message group and deduplication ids. */
const FIFO_ID_PATTERN = /^[\x21-\x7e]{1,128}$/;
const TRANSIENT = new Set<string>(TRANSIENT_ERROR_CODES);
const PERMANENT = new Set<string>(PERMANENT_ERROR_CODES);

interface Settings {
  readonly maxAttempts: number;
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
  readonly sleep: (ms: number) => Promise<void>;
  readonly throwOnFailure: boolean;
}

type Outcome = { readonly accepted: true } | ({ readonly accepted: false } & SendFailure);

interface Run {
  readonly sqs: SQSClient;
  readonly queueUrl: string;
  readonly messages: readonly OutgoingMessage[];
  readonly sizes: readonly number[];
  readonly settings: Settings;
  readonly outcomes: Map<number, Outcome>;
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
 *   calls one after another: a call starts only once every entry of the previous one was accepted.
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
  const settings = resolveOptions(options);
  if (typeof queueUrl !== 'string' || queueUrl.trim() === '')
    throw new ValidationError(`queueUrl must be a queue URL (given ${describe(queueUrl)})`, queueUrl);
  const sizes = validateMessages(messages);
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

  let next = 0;
  for (const batch of splitIntoBatches(sizes)) {
    await sendBatch(run, batch);
    next = batch.at(-1)! + 1;
    if (batch.some((index) => run.outcomes.get(index)?.accepted === false)) break;
  }

  const result = summarize(run, next);
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

/** Sends one batch until each entry is accepted or finally failed, or a final failure stops it. */
async function sendBatch(run: Run, batch: readonly number[]): Promise<void> {
  let pending = batch;
  for (let attempt = 1; pending.length > 0; attempt += 1) {
    const retryable = new Map<number, SendFailureReason>();
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
      const succeeded = new Set((output.Successful ?? []).map((entry) => entry.Id));
      const failed = new Map((output.Failed ?? []).map((entry) => [entry.Id, entry]));
      for (const index of pending) {
        const entryId = String(index);
        if (succeeded.has(entryId)) {
          run.outcomes.set(index, { accepted: true });
          continue;
        }
        const entry = failed.get(entryId);
        const reason: SendFailureReason = entry
          ? {
              code: entry.Code ?? 'Unknown',
              message: entry.Message ?? 'no message given',
              senderFault: entry.SenderFault === true,
            }
          : {
              // Never seen from SQS; treated as a server-side failure, so the entry is sent again.
              code: 'MissingFromResponse',
              message: 'SQS reported neither success nor failure for this entry',
              senderFault: false,
            };
        if (reason.senderFault) run.outcomes.set(index, finalFailure(run, index, reason, attempt));
        else retryable.set(index, reason);
      }
    } catch (error) {
      callError = error;
      const reason = callFailureReason(error);
      if (!isTransientError(error)) run.failingCallError = error;
      for (const index of pending) {
        if (isTransientError(error)) retryable.set(index, reason);
        else run.outcomes.set(index, finalFailure(run, index, reason, attempt));
      }
    }

    const firstFinal = Math.min(
      ...batch.filter((index) => run.outcomes.get(index)?.accepted === false),
      Number.POSITIVE_INFINITY,
    );
    // Only entries before the first final failure are sent again: a later one would break the stop rule.
    const retry: number[] = [];
    for (const [index, reason] of retryable) {
      if (index < firstFinal && attempt < run.settings.maxAttempts) retry.push(index);
      else {
        const exhausted = attempt >= run.settings.maxAttempts && index < firstFinal;
        const message = exhausted
          ? `${reason.message} (gave up after ${attempt} attempt(s))`
          : reason.message;
        run.outcomes.set(index, finalFailure(run, index, { ...reason, message }, attempt));
        if (callError !== undefined) run.failingCallError = callError;
      }
    }
    pending = retry.sort((a, b) => a - b);
    if (pending.length > 0) await run.settings.sleep(backoffMs(run.settings, attempt));
  }
}

function finalFailure(run: Run, index: number, reason: SendFailureReason, attempts: number): Outcome {
  const message = run.messages[index] as OutgoingMessage;
  return { accepted: false, id: message.id, ...reason, attempts };
}

function summarize(run: Run, sentUpTo: number): SendMessageBatchesResult {
  const result: SendMessageBatchesResult = {
    acceptedIds: [],
    failed: [],
    unsentIds: [],
    acceptedAfterFailureIds: [],
    calls: run.calls,
    payloadBytes: run.payloadBytes,
    billedRequests: run.billedRequests,
  };
  let failedBefore = false;
  for (let index = 0; index < run.messages.length; index += 1) {
    const id = (run.messages[index] as OutgoingMessage).id;
    const outcome = run.outcomes.get(index);
    if (index >= sentUpTo || outcome === undefined) result.unsentIds.push(id);
    else if (outcome.accepted) (failedBefore ? result.acceptedAfterFailureIds : result.acceptedIds).push(id);
    else {
      failedBefore = true;
      result.failed.push({
        id: outcome.id,
        code: outcome.code,
        message: outcome.message,
        senderFault: outcome.senderFault,
        attempts: outcome.attempts,
      });
    }
  }
  return result;
}

function toEntry(index: number, message: OutgoingMessage): SendMessageBatchRequestEntry {
  const entry: SendMessageBatchRequestEntry = { Id: String(index), MessageBody: message.body };
  if (message.attributes !== undefined) entry.MessageAttributes = { ...message.attributes };
  if (message.groupId !== undefined) entry.MessageGroupId = message.groupId;
  if (message.deduplicationId !== undefined) entry.MessageDeduplicationId = message.deduplicationId;
  if (message.delaySeconds !== undefined) entry.DelaySeconds = message.delaySeconds;
  return entry;
}

/** Splits message indexes, in order, into groups of at most 10 entries and 1 MiB of payload. */
function splitIntoBatches(sizes: readonly number[]): number[][] {
  const batches: number[][] = [];
  let current: number[] = [];
  let currentBytes = 0;
  sizes.forEach((size, index) => {
    if (
      current.length > 0 &&
      (current.length >= MAX_BATCH_ENTRIES || currentBytes + size > MAX_BATCH_PAYLOAD_BYTES)
    ) {
      batches.push(current);
      current = [];
      currentBytes = 0;
    }
    current.push(index);
    currentBytes += size;
  });
  if (current.length > 0) batches.push(current);
  return batches;
}

function backoffMs(settings: Settings, attempt: number): number {
  return Math.min(settings.maxDelayMs, settings.initialDelayMs * 2 ** (attempt - 1));
}

interface ErrorShape {
  name?: unknown;
  code?: unknown;
  Code?: unknown;
  message?: unknown;
  $fault?: unknown;
  $retryable?: unknown;
  $metadata?: { httpStatusCode?: unknown };
}

function errorCodes(error: unknown): string[] {
  if (typeof error !== 'object' || error === null) return [];
  const shape = error as ErrorShape;
  return [shape.name, shape.code, shape.Code].filter((code): code is string => typeof code === 'string');
}

/**
 * Whether a failed SendMessageBatch call is worth sending again: throttling, a server-side fault or a
 * network error, and not an error that no retry can fix (a missing queue, an invalid parameter).
 */
function isTransientError(error: unknown): boolean {
  const codes = errorCodes(error);
  if (codes.some((code) => PERMANENT.has(code))) return false;
  if (codes.some((code) => TRANSIENT.has(code))) return true;
  if (typeof error !== 'object' || error === null) return false;
  const shape = error as ErrorShape;
  if (shape.$fault === 'server' || shape.$retryable) return true;
  const status = shape.$metadata?.httpStatusCode;
  return typeof status === 'number' && (status >= 500 || status === 429);
}

function callFailureReason(error: unknown): SendFailureReason {
  const shape = (typeof error === 'object' && error !== null ? error : {}) as ErrorShape;
  const code = errorCodes(error).find((candidate) => candidate !== 'Error');
  return {
    code: code ?? 'UnknownError',
    message: typeof shape.message === 'string' && shape.message !== '' ? shape.message : String(error),
    senderFault: shape.$fault === 'client',
  };
}

function resolveOptions(options: SendMessageBatchesOptions): Settings {
  if (typeof options !== 'object' || options === null || Array.isArray(options))
    throw new ValidationError(
      `sendMessageBatches options must be an object (given ${describe(options)})`,
      options,
    );
  const problems: string[] = [];
  for (const key of Object.keys(options)) {
    if (!OPTION_KEYS.includes(key))
      problems.push(`unknown option ${JSON.stringify(key)} (known: ${OPTION_KEYS.join(', ')})`);
  }
  const initialDelayMs = options.initialDelayMs ?? SEND_DEFAULTS.initialDelayMs;
  const numbers = {
    maxAttempts: options.maxAttempts ?? SEND_DEFAULTS.maxAttempts,
    initialDelayMs,
    // Left out, the cap never undercuts a longer initial delay.
    maxDelayMs:
      options.maxDelayMs ??
      (Number.isInteger(initialDelayMs)
        ? Math.max(SEND_DEFAULTS.maxDelayMs, initialDelayMs)
        : SEND_DEFAULTS.maxDelayMs),
  };
  for (const key of ['maxAttempts', 'initialDelayMs', 'maxDelayMs'] as const) {
    const { min, max } = SEND_OPTION_LIMITS[key];
    const value = numbers[key];
    if (!Number.isInteger(value) || value < min || value > max)
      problems.push(`${key} must be a whole number from ${min} to ${max} (given ${describe(options[key])})`);
  }
  if (
    options.maxDelayMs !== undefined &&
    Number.isInteger(numbers.initialDelayMs) &&
    numbers.maxDelayMs < numbers.initialDelayMs
  )
    problems.push(
      `maxDelayMs (${numbers.maxDelayMs}) must be at least initialDelayMs (${numbers.initialDelayMs})`,
    );
  if (options.sleep !== undefined && typeof options.sleep !== 'function')
    problems.push(`sleep must be a function (given ${describe(options.sleep)})`);
  if (options.throwOnFailure !== undefined && typeof options.throwOnFailure !== 'boolean')
    problems.push(`throwOnFailure must be true or false (given ${describe(options.throwOnFailure)})`);
  if (problems.length > 0)
    throw new ValidationError(`invalid sendMessageBatches options: ${problems.join('; ')}`, options);
  return {
    ...numbers,
    sleep: options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms))),
    throwOnFailure: options.throwOnFailure ?? SEND_DEFAULTS.throwOnFailure,
  };
}

/** Checks every message before anything is sent, and returns each message's payload size. */
function validateMessages(messages: readonly OutgoingMessage[]): number[] {
  if (!Array.isArray(messages))
    throw new ValidationError(`messages must be an array (given ${describe(messages)})`, messages);
  const seen = new Set<string>();
  return messages.map((message, index) => {
    const at = `message ${index}`;
    if (typeof message !== 'object' || message === null)
      throw new ValidationError(`${at} must be an object (given ${describe(message)})`, message);
    if (typeof message.id !== 'string' || message.id === '')
      throw new ValidationError(`${at} needs a non-empty string id (given ${describe(message.id)})`, message);
    if (seen.has(message.id))
      throw new ValidationError(
        `message id ${JSON.stringify(message.id)} appears more than once (again at position ${index}); ids must be unique within one call`,
        message.id,
      );
    seen.add(message.id);
    const named = `message ${JSON.stringify(message.id)}`;
    if (typeof message.body !== 'string' || message.body === '')
      throw new ValidationError(
        `${named} needs a non-empty string body (given ${describe(message.body)})`,
        message,
      );
    if (message.delaySeconds !== undefined) {
      const delay = message.delaySeconds;
      if (!Number.isInteger(delay) || delay < 0 || delay > MAX_DELAY_SECONDS)
        throw new ValidationError(
          `${named}: delaySeconds must be a whole number from 0 to ${MAX_DELAY_SECONDS} (given ${describe(delay)})`,
          delay,
        );
    }
    for (const key of ['groupId', 'deduplicationId'] as const) {
      const value = message[key];
      if (value !== undefined && (typeof value !== 'string' || !FIFO_ID_PATTERN.test(value)))
        throw new ValidationError(
          `${named}: ${key} must be 1 to 128 printable ASCII characters without spaces (given ${describe(value)})`,
          value,
        );
    }
    if (message.attributes !== undefined) {
      const attributes = message.attributes;
      if (typeof attributes !== 'object' || attributes === null || Array.isArray(attributes))
        throw new ValidationError(
          `${named}: attributes must be an object (given ${describe(attributes)})`,
          attributes,
        );
      const names = Object.keys(attributes);
      if (names.length > MAX_MESSAGE_ATTRIBUTES)
        throw new ValidationError(
          `${named} has ${names.length} message attributes; SQS allows at most ${MAX_MESSAGE_ATTRIBUTES}`,
          names,
        );
      for (const name of names) {
        if (typeof attributes[name]?.DataType !== 'string' || attributes[name]?.DataType === '')
          throw new ValidationError(
            `${named}: message attribute ${JSON.stringify(name)} needs a DataType (given ${describe(attributes[name])})`,
            attributes[name],
          );
      }
    }
    const size = messagePayloadBytes(message);
    if (size > MAX_MESSAGE_BYTES)
      throw new TooLargeError({
        what: 'message',
        messageId: message.id,
        sizeBytes: size,
        limitBytes: MAX_MESSAGE_BYTES,
      });
    return size;
  });
}
