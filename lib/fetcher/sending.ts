import { type EnvelopeEvent, parseEnvelope, storedEventOf } from '../messages/envelope';
import { type SendFailureReason, SendMessagesError } from '../sqs/errors';
import { sendMessageBatches } from '../sqs/send-message-batches';
import type { RunCounts } from '../state/types';
import { type ActivePipeline, type FetcherContext, hook, type PendingSend, retry } from './context';
import { type PackedMessage, packEvents } from './packing';
import { queueDepth } from './queue-depth';
import { DeliveryError, deadLetterEvent, deadLetterQueueOf } from './refused-events';
import { FETCHER_STEPS } from './types';

// Sending a plan's messages to the pipeline's queue, in order, and setting aside what SQS refuses.

/**
 * SendMessageBatch calls under way at once for a standard queue, whose messages carry no order: with
 * one event per message a page of 1,000 events is 100 calls, which one after another take most of a
 * run. A FIFO queue's calls land one after another.
 */
const STANDARD_QUEUE_CALLS_IN_FLIGHT = 4;

/**
 * Sends the next messages of a plan, at most `room` of them, in order. Resolves to whether every
 * message of the plan is now accepted.
 */
export async function sendPending(
  context: FetcherContext,
  item: ActivePipeline,
  pending: PendingSend,
  room: number,
): Promise<boolean> {
  const toSend = pending.messages.slice(pending.next, pending.next + room);
  await sendInOrder(context, item, toSend, () => {
    pending.next += 1;
  });
  return pending.next === pending.messages.length;
}

/** Sends messages in order, each accepted or set aside (see `sendInOrder`). */
export async function sendAll(
  context: FetcherContext,
  item: ActivePipeline,
  messages: readonly PackedMessage[],
): Promise<void> {
  await sendInOrder(context, item, messages, () => undefined);
}

/**
 * Sends messages in order, calling `done` for each once it is accepted or set aside. A message SQS
 * refuses for what it holds (a sender fault: too large for the queue, characters it refuses) is sent
 * again as one message per event, and a lone event SQS refuses goes to the dead-letter queue with
 * the reason, so that one bad event neither wedges the pipeline nor holds back the others. Throws
 * on any other failure, after `done` for the messages accepted before it.
 */
async function sendInOrder(
  context: FetcherContext,
  item: ActivePipeline,
  messages: readonly PackedMessage[],
  done: (message: PackedMessage) => void,
): Promise<void> {
  const { pipeline } = item;
  let rest = messages;
  while (rest.length > 0) {
    let acceptedCount: number;
    let sendError: SendMessagesError | undefined;
    try {
      acceptedCount = (
        await sendMessageBatches(context.sqs, pipeline.queueUrl, rest.map(outgoing), {
          throwOnFailure: true,
          callsInFlight: pipeline.fifo ? 1 : STANDARD_QUEUE_CALLS_IN_FLIGHT,
        })
      ).acceptedIds.length;
    } catch (error) {
      if (!(error instanceof SendMessagesError)) throw error;
      sendError = error;
      acceptedCount = error.acceptedIds.length;
    }
    await hook(context, FETCHER_STEPS.afterSend, pipeline.name);
    // The accepted ids are a prefix of what was sent.
    for (const message of rest.slice(0, acceptedCount)) {
      countSent(item.counts, message);
      done(message);
    }
    if (!sendError) return;
    const refused = rest[acceptedCount];
    const reason = refused === undefined ? undefined : sendError.failures[refused.id];
    if (refused === undefined || !reason?.senderFault) throw sendError;
    await setAside(context, item, refused, reason);
    done(refused);
    // Later messages of the same call that SQS accepted all the same are not sent again.
    const acceptedAfter = new Set(sendError.acceptedAfterFailureIds);
    let next = acceptedCount + 1;
    for (; next < rest.length && acceptedAfter.has((rest[next] as PackedMessage).id); next += 1) {
      const message = rest[next] as PackedMessage;
      countSent(item.counts, message);
      done(message);
    }
    rest = rest.slice(next);
  }
}

/** A message SQS refused for what it holds: its events one by one, or its lone event to the dead-letter queue. */
async function setAside(
  context: FetcherContext,
  item: ActivePipeline,
  message: PackedMessage,
  reason: SendFailureReason,
): Promise<void> {
  const { pipeline } = item;
  const envelope = parseEnvelope(message.body);
  if (envelope.events.length > 1) {
    const singles = packEvents(
      pipeline.name,
      pipeline.stream,
      envelope.events.map((event) => storedEventOf(envelope.stream, event)),
      {
        ...(item.pending?.plan ?? {}),
        fifo: pipeline.fifo,
        maxEventsPerMessage: 1,
        epoch: envelope.epoch ?? 0,
      },
    );
    await sendAll(context, item, singles);
    return;
  }
  const [event] = envelope.events;
  if (event === undefined) return;
  const error = new DeliveryError({
    code: 'event-not-deliverable',
    eventId: event.id,
    queueUrl: pipeline.queueUrl,
    reason: `SQS refused it: ${reason.code}: ${reason.message}`,
  });
  await deadLetter(context, item, event, error, envelope.epoch ?? 0);
}

/** Puts an event that cannot travel on the pipeline's queue on its dead-letter queue. */
export async function deadLetter(
  context: FetcherContext,
  item: ActivePipeline,
  event: EnvelopeEvent,
  error: Error,
  epoch: number,
): Promise<void> {
  const { pipeline } = item;
  const deadLetterQueueUrl =
    item.deadLetterQueueUrl ??
    (await retry(context, 'find the dead-letter queue', () =>
      deadLetterQueueOf(context.sqs, pipeline.queueUrl),
    ));
  item.deadLetterQueueUrl = deadLetterQueueUrl;
  await retry(context, 'send to the dead-letter queue', () =>
    deadLetterEvent(context.sqs, deadLetterQueueUrl, {
      pipeline: pipeline.name,
      stream: pipeline.stream,
      epoch,
      fifo: pipeline.fifo,
      event,
      error,
      at: context.clock(),
    }),
  );
  item.counts.eventsDeadLettered = (item.counts.eventsDeadLettered ?? 0) + 1;
  context.logger.error('an event cannot travel on the queue; it went to the dead-letter queue', {
    pipeline: pipeline.name,
    eventId: event.id,
    error: error.message,
  });
}

/** The queue's depth, in messages: one GetQueueAttributes. */
export function readQueueDepth(context: FetcherContext, item: ActivePipeline): Promise<number> {
  return retry(context, 'read the queue depth', () => queueDepth(context.sqs, item.pipeline.queueUrl));
}

/** Room left in the queue before bufferSize, in messages. */
export async function queueRoom(context: FetcherContext, item: ActivePipeline): Promise<number> {
  return item.pipeline.bufferSize - (await readQueueDepth(context, item));
}

function countSent(counts: RunCounts, message: PackedMessage): void {
  counts.messagesSent += 1;
  counts.eventsSent += message.eventIds.length;
  counts.bytesSent += Buffer.byteLength(message.body);
}

function outgoing(message: PackedMessage) {
  return {
    id: message.id,
    body: message.body,
    ...(message.groupId === undefined ? {} : { groupId: message.groupId }),
    ...(message.deduplicationId === undefined ? {} : { deduplicationId: message.deduplicationId }),
  };
}
