import type { Message } from '@aws-sdk/client-sqs';
import { MalformedMessageError, parseEnvelope, storedEventOf } from '../messages/envelope';
import { type CallContext, deleteMessages, type EntryFailure } from '../sqs/batch-calls';
import { readRedrivePolicy } from '../sqs/redrive-policy';
import { type OutgoingMessage, sendMessageBatches } from '../sqs/send-message-batches';
import type { HeldEvent, HeldMessage, InFlight } from './in-flight';
import type { PullConsumerSettings } from './options';
import type { Settlement } from './settlement';
import { attemptOf, planMalformed } from './settlement-plan';
import type { ReservedEvent } from './types';

/**
 * Takes in what ReceiveMessage returned: holds the messages, reserves their events and hands them out;
 * sets malformed messages aside; deletes messages that only repeat events reserved from others. Also
 * reads the queue's redrive policy once, to warn about settings that would lose events.
 */
export class Receiver<TData> {
  constructor(
    private readonly settings: PullConsumerSettings<TData>,
    private readonly context: CallContext,
    private readonly inFlight: InFlight,
    private readonly settlement: Settlement<TData>,
  ) {}

  /**
   * Holds received messages and returns the events to hand out: not those of malformed messages (set
   * aside), nor copies of events already reserved (their messages deleted when nothing else is in them).
   */
  async accept(received: readonly Message[]): Promise<ReservedEvent<TData>[]> {
    const handedOut: ReservedEvent<TData>[] = [];
    const malformed: { message: Message; error: MalformedMessageError }[] = [];
    const allDuplicates: HeldMessage[] = [];
    for (const message of received) {
      this.inFlight.counters.messagesReceived += 1;
      const messageId = message.MessageId ?? '';
      const receiptHandle = message.ReceiptHandle;
      if (receiptHandle === undefined) {
        this.settings.logger.error('received a message without a receipt handle; it is left alone', {
          queueUrl: this.settings.queueUrl,
          messageId,
        });
        continue;
      }
      const already = this.inFlight.messages.get(messageId);
      if (already !== undefined) {
        // Its visibility ran out and it came back to us: keep holding it with the new receipt handle.
        already.receiptHandle = receiptHandle;
        this.settings.logger.warn(
          'received a message this consumer already holds; its events stay reserved',
          {
            queueUrl: this.settings.queueUrl,
            messageId,
          },
        );
        continue;
      }
      let envelope: ReturnType<typeof parseEnvelope>;
      try {
        envelope = parseEnvelope(message.Body ?? '', messageId);
      } catch (error) {
        if (!(error instanceof MalformedMessageError)) throw error;
        malformed.push({ message, error });
        continue;
      }
      const receiveCount = Number(message.Attributes?.ApproximateReceiveCount);
      const held = this.inFlight.hold(
        {
          messageId,
          receiptHandle,
          pipeline: envelope.pipeline,
          stream: envelope.stream,
          attributes: message.MessageAttributes,
        },
        envelope.events,
        (event) => attemptOf(event, receiveCount),
      );
      for (const heldEvent of held.events)
        if (!heldEvent.duplicate) handedOut.push(this.toReservedEvent(heldEvent));
      if (held.events.every((heldEvent) => heldEvent.duplicate)) allDuplicates.push(held);
    }
    this.inFlight.counters.eventsReserved += handedOut.length;
    if (malformed.length > 0) await this.setAsideMalformed(malformed);
    if (allDuplicates.length > 0) {
      this.settings.logger.warn(
        'deleting messages whose every event is already reserved from another message',
        {
          queueUrl: this.settings.queueUrl,
          messageIds: allDuplicates.map((held) => held.messageId),
        },
      );
      await this.settlement
        .settle(allDuplicates)
        .catch((error: unknown) =>
          this.settings.logger.error('could not delete duplicate messages; they will come back', { error }),
        );
    }
    return handedOut;
  }

  /** Moves malformed messages to the dead-letter queue (send, then delete), or leaves them for the redrive. */
  private async setAsideMalformed(
    malformed: readonly { message: Message; error: MalformedMessageError }[],
  ): Promise<void> {
    this.inFlight.counters.malformedMessages += malformed.length;
    const { deadLetterQueueUrl, logger, queueUrl } = this.settings;
    const plan = planMalformed(malformed, { deadLetterQueue: deadLetterQueueUrl !== undefined });
    if (deadLetterQueueUrl === undefined) {
      for (const { message, error } of plan.leftOnQueue)
        logger.warn('malformed message left on the queue for its redrive policy', {
          queueUrl,
          messageId: message.MessageId,
          reason: error.message,
        });
      return;
    }
    const movable = plan.toDeadLetterQueue;
    const outgoing: OutgoingMessage[] = movable.map(({ message }, index) => ({
      id: String(index),
      body: message.Body as string,
      ...(message.MessageAttributes === undefined ? {} : { attributes: message.MessageAttributes }),
    }));
    let accepted = new Set<string>();
    try {
      const result = await sendMessageBatches(this.settings.sqs, deadLetterQueueUrl, outgoing, {
        sleep: this.settings.sleep,
      });
      accepted = new Set([...result.acceptedIds, ...result.acceptedAfterFailureIds]);
      for (const failure of result.failed)
        logger.error('could not move a malformed message to the dead-letter queue; it stays on the queue', {
          queueUrl,
          deadLetterQueueUrl,
          messageId: movable[Number(failure.id)]?.message.MessageId,
          code: failure.code,
          reason: failure.message,
        });
    } catch (error) {
      logger.error('could not move malformed messages to the dead-letter queue; they stay on the queue', {
        queueUrl,
        deadLetterQueueUrl,
        error,
      });
    }
    const moved = movable.filter((_, index) => accepted.has(String(index)));
    const failures = await failuresByKey(
      deleteMessages(
        this.context,
        moved.map(({ message }) => ({
          key: message.MessageId ?? '',
          receiptHandle: message.ReceiptHandle as string,
        })),
      ),
    );
    for (const { message, error } of malformed) {
      const messageId = message.MessageId ?? '';
      const wasMoved = moved.some((entry) => entry.message === message);
      if (wasMoved && failures.has(messageId))
        logger.error('moved a malformed message to the dead-letter queue but could not delete it', {
          queueUrl,
          messageId,
          code: failures.get(messageId)?.code,
        });
      logger.warn(
        wasMoved
          ? 'malformed message moved to the dead-letter queue'
          : 'malformed message left on the queue for its redrive policy',
        { queueUrl, deadLetterQueueUrl, messageId, reason: error.message },
      );
    }
  }

  /**
   * Reads the queue's redrive policy once, to warn when SQS would move messages before the consumer
   * gives up on them, or when malformed messages have nowhere to go. Never fails a reserve.
   */
  async checkQueue(): Promise<void> {
    const { logger, queueUrl, maxRedeliveryCount, deadLetterQueueUrl } = this.settings;
    try {
      const policy = await readRedrivePolicy(this.settings.sqs, queueUrl);
      if (policy === undefined) {
        if (deadLetterQueueUrl === undefined)
          logger.warn(
            'the queue has no redrive policy and the consumer no dead-letter queue: malformed messages will come back for ever',
            { queueUrl },
          );
        return;
      }
      const { maxReceiveCount } = policy;
      if (maxReceiveCount !== undefined && maxReceiveCount < maxRedeliveryCount)
        logger.warn(
          `the queue's redrive maxReceiveCount (${maxReceiveCount}) is below maxRedeliveryCount (${maxRedeliveryCount}): SQS will move a message that keeps failing before the consumer gives up on it, without its last error and without calling onFinallyFailed`,
          { queueUrl },
        );
    } catch (error) {
      logger.debug('could not read the queue redrive policy', { queueUrl, error });
    }
  }

  private toReservedEvent(held: HeldEvent): ReservedEvent<TData> {
    const { event, message } = held;
    return {
      ...storedEventOf<TData>(message.stream, event),
      pipeline: message.pipeline,
      attempts: held.attempts,
      ...(event.lastError === undefined ? {} : { lastError: event.lastError }),
    };
  }
}

async function failuresByKey(failures: Promise<readonly EntryFailure[]>): Promise<Map<string, EntryFailure>> {
  return new Map((await failures).map((failure) => [failure.key, failure]));
}
