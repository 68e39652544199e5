import type { Message, SQSClient } from '@aws-sdk/client-sqs';
import { describe } from '../errors';
import {
  type Envelope,
  type EnvelopeEvent,
  envelopeBody,
  failedEvent,
  MalformedMessageError,
  parseEnvelope,
} from '../messages/envelope';
import { changeVisibility, deleteMessages, receiveMessages } from '../sqs/batch-calls';
import { MAX_BATCH_ENTRIES, MAX_VISIBILITY_TIMEOUT_SECONDS } from '../sqs/constants';
import { SendMessagesError } from '../sqs/errors';
import { type OutgoingMessage, sendMessageBatches } from '../sqs/send-message-batches';
import { RedriveError, type RedriveProgress } from './errors';
import { matchesRedriveFilter } from './redrive-filter';
import { redriveDeduplicationId, redriveIdentity } from './redrive-identity';
import {
  checkRedriveBase,
  checkWhole,
  finishRedriveCheck,
  REDRIVE_RATE,
  type RedriveBaseOptions,
  type RedrivePacer,
  redrivePacer,
  startRedriveCheck,
} from './redrive-pacing';

/**
 * Options of {@link redriveDeadLetters}. Unknown keys are rejected. In a dry run no message is sent or
 * deleted, and every message read is made visible again when the run ends.
 */
export interface RedriveOptions extends RedriveBaseOptions {
  /** The dead-letter queue to read. */
  readonly deadLetterQueueUrl: string;
  /** The most DLQ messages to examine. @default every message in the queue */
  readonly maxMessages?: number;
  /**
   * How long the messages read stay hidden from other consumers during the run, in seconds (1 to 43200).
   * Messages not deleted are made visible again when the run ends, or when this runs out.
   * @default 300
   */
  readonly visibilityTimeoutSeconds?: number;
  /** How long a receive waits for messages, in seconds (0 to 20); an empty receive ends the run. @default 1 */
  readonly waitTimeSeconds?: number;
}

/** What a redrive did (or, in a dry run, would do). */
export interface RedriveResult extends RedriveProgress {
  /** DLQ messages whose body is not a Sluice envelope: left where they are. */
  readonly malformed: number;
  readonly dryRun: boolean;
}

const OPTION_KEYS: ReadonlySet<string> = new Set([
  'sqs',
  'deadLetterQueueUrl',
  'queueUrl',
  'filter',
  'dryRun',
  'maxMessagesPerSecond',
  'maxMessages',
  'visibilityTimeoutSeconds',
  'waitTimeSeconds',
  'sleep',
  'clock',
] satisfies (keyof RedriveOptions)[]);

const DEFAULTS = {
  maxMessagesPerSecond: REDRIVE_RATE.default,
  visibilityTimeoutSeconds: 300,
  waitTimeSeconds: 1,
} as const;

/** A DLQ message with events to move: where each of its events goes. */
interface Plan {
  readonly message: Message;
  readonly messageId: string;
  readonly envelope: Envelope;
  readonly matching: readonly EnvelopeEvent[];
  readonly rest: readonly EnvelopeEvent[];
}

interface Run {
  readonly options: RedriveOptions;
  readonly pacer: RedrivePacer;
  /** Messages read and not deleted: made visible again at the end. Latest receipt handle by id. */
  readonly held: Map<string, string>;
  /** Hashes of the bodies this run put back in the DLQ, so that reading them again does not count. */
  readonly resent: Set<string>;
  /**
   * The redrive identities this run stamped on the messages it sent back: an event that fails again
   * during the run comes back to the DLQ with one of them, and is not moved a second time.
   */
  readonly issued: Set<string>;
  examined: number;
  moved: number;
  kept: number;
  messagesDeleted: number;
  malformed: number;
}

/**
 * Sends dead events back to their pipeline's queue, for a fresh start: each event that matches the
 * filter goes back with `attempts` 0 and no `lastError`, in a message stamped with a redrive identity
 * (derived from the DLQ message's id) that makes the worker run it again rather than skip it as a
 * duplicate of its first delivery; the others stay in the dead-letter queue with their attempts and
 * errors. Events that fail again during the run, and come back to the DLQ, are not moved again.
 *
 * This reads the dead-letter queue itself: use it when nothing else consumes that queue. In the
 * standard wiring the failed-event function empties it, and {@link redriveFailures} sends events back
 * from their failure records instead.
 *
 * For each DLQ message with matching events: one message with those events goes to the main queue;
 * if the message also held other events, one message with them goes back to the DLQ; then, and only
 * once both were accepted, the original is deleted. A message with no matching event, or whose body
 * is not a Sluice envelope, is left as it is. So nothing is lost if a send fails: the original stays
 * in the DLQ, and the run stops with a `RedriveError` (at worst, events that reached the main queue
 * before the failure are moved a second time by the next run, which the worker's idempotency absorbs).
 *
 * Messages are read until the DLQ has no more (or `maxMessages`); messages read and not deleted stay
 * hidden until the run ends, then are made visible again at once. On a FIFO DLQ, a message left in
 * place hides the messages behind it in its group until the run ends.
 *
 * @throws `ValidationError` naming every bad option; `RedriveError` when a queue refused a message.
 *
 * @example
 * ```ts
 * const preview = await redriveDeadLetters({ sqs, deadLetterQueueUrl, queueUrl, filter: { errorName: 'TimeoutError' }, dryRun: true });
 * console.log(`${preview.moved} events would go back`);
 * const result = await redriveDeadLetters({ sqs, deadLetterQueueUrl, queueUrl, filter: { errorName: 'TimeoutError' }, maxMessagesPerSecond: 50 });
 * ```
 */
export async function redriveDeadLetters(options: RedriveOptions): Promise<RedriveResult> {
  checkOptions(options);
  const run: Run = {
    options,
    pacer: redrivePacer(
      options.maxMessagesPerSecond ?? DEFAULTS.maxMessagesPerSecond,
      options.clock ?? Date.now,
      options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms))),
    ),
    held: new Map(),
    resent: new Set(),
    issued: new Set(),
    examined: 0,
    moved: 0,
    kept: 0,
    messagesDeleted: 0,
    malformed: 0,
  };
  const dryRun = options.dryRun === true;
  try {
    while (options.maxMessages === undefined || run.examined < options.maxMessages) {
      const messages = await receive(run);
      const fresh = messages.filter((message) => !run.held.has(message.MessageId as string));
      for (const message of messages)
        run.held.set(message.MessageId as string, message.ReceiptHandle as string);
      // Nothing new: the queue is drained, or hidden messages came back after their visibility timeout.
      if (fresh.length === 0) break;
      const plans: Plan[] = [];
      for (const message of fresh) {
        const plan = examine(run, message, dryRun);
        if (plan) plans.push(plan);
      }
      await movePlans(run, plans);
    }
  } finally {
    await makeVisible(run);
  }
  return { ...progress(run), malformed: run.malformed, dryRun };
}

async function receive(run: Run): Promise<Message[]> {
  const { options } = run;
  const wanted =
    options.maxMessages === undefined
      ? MAX_BATCH_ENTRIES
      : Math.min(MAX_BATCH_ENTRIES, options.maxMessages - run.examined);
  const messages = await receiveMessages(
    { sqs: options.sqs, queueUrl: options.deadLetterQueueUrl },
    {
      maxMessages: wanted,
      visibilityTimeoutSeconds: options.visibilityTimeoutSeconds ?? DEFAULTS.visibilityTimeoutSeconds,
      waitTimeSeconds: options.waitTimeSeconds ?? DEFAULTS.waitTimeSeconds,
      systemAttributeNames: ['MessageGroupId'],
    },
  );
  return messages.filter((message) => message.MessageId && message.ReceiptHandle);
}

/** Counts one DLQ message and splits its events; returns what to send, if anything is to move. */
function examine(run: Run, message: Message, dryRun: boolean): Plan | undefined {
  const body = message.Body ?? '';
  const messageId = message.MessageId as string;
  // A message this run put back in the DLQ holds only events that do not match: it was counted already.
  if (run.resent.has(redriveDeduplicationId(body))) return undefined;
  let envelope: Envelope;
  try {
    envelope = parseEnvelope(body, messageId);
  } catch (error) {
    if (!(error instanceof MalformedMessageError)) throw error;
    run.examined += 1;
    run.malformed += 1;
    return undefined;
  }
  // Events this run sent back, that failed again meanwhile: they had their fresh start.
  if (envelope.redrive !== undefined && run.issued.has(envelope.redrive)) return undefined;
  run.examined += 1;
  const matching = envelope.events.filter((event) => matchesRedriveFilter(event, run.options.filter));
  const rest = envelope.events.filter((event) => !matchesRedriveFilter(event, run.options.filter));
  if (matching.length === 0 || dryRun) {
    run.moved += dryRun ? matching.length : 0;
    run.kept += rest.length;
    return undefined;
  }
  return { message, messageId, envelope, matching, rest };
}

/** Sends the planned messages, a rate-limited call at a time, and deletes each original once safe. */
async function movePlans(run: Run, plans: readonly Plan[]): Promise<void> {
  const perCall = run.pacer.perCall;
  for (let start = 0; start < plans.length; start += perCall) {
    const chunk = plans.slice(start, start + perCall);
    await run.pacer.wait(chunk.length);
    const fifoMain = run.options.queueUrl.endsWith('.fifo');
    const toMain = chunk.map((plan) => {
      const redrive = redriveIdentity(`dlq#${plan.messageId}`);
      run.issued.add(redrive);
      return outgoing(
        plan,
        envelopeBody({ ...plan.envelope, redrive }, plan.matching.map(freshStart)),
        fifoMain,
      );
    });
    const mainOutcome = await send(run.options.sqs, run.options.queueUrl, toMain);
    const moved = chunk.filter((plan) => mainOutcome.accepted.has(plan.messageId));

    const fifoDlq = run.options.deadLetterQueueUrl.endsWith('.fifo');
    const toDlq = moved
      .filter((plan) => plan.rest.length > 0)
      .map((plan) => outgoing(plan, envelopeBody(plan.envelope, plan.rest), fifoDlq));
    for (const message of toDlq) run.resent.add(redriveDeduplicationId(message.body));
    const dlqOutcome =
      toDlq.length === 0
        ? { accepted: new Set<string>() }
        : await send(run.options.sqs, run.options.deadLetterQueueUrl, toDlq);

    for (const plan of chunk) {
      const isMoved = mainOutcome.accepted.has(plan.messageId);
      if (isMoved) run.moved += plan.matching.length;
      run.kept += plan.rest.length + (isMoved ? 0 : plan.matching.length);
    }
    const deletable = moved.filter(
      (plan) => plan.rest.length === 0 || dlqOutcome.accepted.has(plan.messageId),
    );
    await deleteOriginals(run, deletable);

    const failure = mainOutcome.error ?? ('error' in dlqOutcome ? dlqOutcome.error : undefined);
    if (failure !== undefined) {
      const stuck = chunk.filter((plan) => !deletable.includes(plan)).map((plan) => plan.messageId);
      throw new RedriveError(
        {
          source: 'dead-letter queue',
          queueUrl: mainOutcome.error !== undefined ? run.options.queueUrl : run.options.deadLetterQueueUrl,
          messageIds: stuck,
          progress: progress(run),
        },
        { cause: failure },
      );
    }
  }
}

/** Sends messages; resolves to the ids the queue accepted, and the error if any was refused. */
async function send(
  sqs: SQSClient,
  queueUrl: string,
  messages: readonly OutgoingMessage[],
): Promise<{ accepted: Set<string>; error?: unknown }> {
  try {
    await sendMessageBatches(sqs, queueUrl, messages, { throwOnFailure: true });
    return { accepted: new Set(messages.map((message) => message.id)) };
  } catch (error) {
    if (error instanceof SendMessagesError) {
      return { accepted: new Set([...error.acceptedIds, ...error.acceptedAfterFailureIds]), error };
    }
    return { accepted: new Set(), error };
  }
}

async function deleteOriginals(run: Run, plans: readonly Plan[]): Promise<void> {
  if (plans.length === 0) return;
  const refused = await deleteMessages(
    { sqs: run.options.sqs, queueUrl: run.options.deadLetterQueueUrl },
    plans.map((plan) => ({
      key: plan.messageId,
      receiptHandle: run.held.get(plan.messageId) ?? (plan.message.ReceiptHandle as string),
    })),
  );
  const kept = new Set(refused.map((failure) => failure.key));
  for (const plan of plans) {
    if (kept.has(plan.messageId)) continue;
    run.messagesDeleted += 1;
    run.held.delete(plan.messageId);
  }
  // A message that could not be deleted stays in the DLQ with its events; they were sent on already,
  // so a later redrive sends them again (at least once, never lost).
}

/** Makes every message read and not deleted visible again. Best effort: they reappear anyway later. */
async function makeVisible(run: Run): Promise<void> {
  await changeVisibility(
    { sqs: run.options.sqs, queueUrl: run.options.deadLetterQueueUrl },
    [...run.held].map(([messageId, receiptHandle]) => ({ key: messageId, receiptHandle })),
    0,
  );
  run.held.clear();
}

/** The event as it goes back to the main queue: no attempts made, no error. */
function freshStart(event: EnvelopeEvent): EnvelopeEvent {
  return failedEvent(event, 0, undefined);
}

function outgoing(plan: Plan, body: string, fifo: boolean): OutgoingMessage {
  if (!fifo) return { id: plan.messageId, body };
  const groupId =
    plan.message.Attributes?.MessageGroupId ?? plan.matching[0]?.partitionKey ?? plan.envelope.pipeline;
  return { id: plan.messageId, body, groupId, deduplicationId: redriveDeduplicationId(body) };
}

function progress(run: Run): RedriveProgress {
  return { examined: run.examined, moved: run.moved, kept: run.kept, messagesDeleted: run.messagesDeleted };
}

function checkOptions(options: RedriveOptions): void {
  const problems = startRedriveCheck(options, OPTION_KEYS);
  if (typeof options.sqs?.send !== 'function')
    problems.push(`sqs must be an SQSClient (given ${describe(options.sqs)})`);
  for (const name of ['deadLetterQueueUrl', 'queueUrl'] as const) {
    const value = options[name];
    if (typeof value !== 'string' || !/^https?:\/\/\S+$/.test(value)) {
      problems.push(`${name} must be an http(s) queue URL (given ${describe(value)})`);
    }
  }
  if (typeof options.queueUrl === 'string' && options.queueUrl === options.deadLetterQueueUrl) {
    problems.push(
      `queueUrl and deadLetterQueueUrl must be different queues (both given ${describe(options.queueUrl)})`,
    );
  }
  checkRedriveBase(options, problems);
  checkWhole(options.maxMessages, 'maxMessages', 1, Number.MAX_SAFE_INTEGER, problems);
  checkWhole(
    options.visibilityTimeoutSeconds,
    'visibilityTimeoutSeconds',
    1,
    MAX_VISIBILITY_TIMEOUT_SECONDS,
    problems,
  );
  checkWhole(options.waitTimeSeconds, 'waitTimeSeconds', 0, 20, problems);
  finishRedriveCheck(options, problems);
}
