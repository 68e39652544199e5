import type { StoredEvent } from '../event-log/types';
import { type FailedEvent, UNKNOWN_FAILURE_NAME } from '../failed/types';
import { storedEventOf, toEventFailure } from '../messages/envelope';
import { packEnvelopes } from '../messages/pack';
import {
  type BatchEntry,
  type CallContext,
  changeVisibility,
  deleteMessages,
  type EntryFailure,
  reasonOf,
} from '../sqs/batch-calls';
import { MAX_MESSAGE_BYTES } from '../sqs/constants';
import { messagePayloadBytes } from '../sqs/message-size';
import { type OutgoingMessage, sendMessageBatches } from '../sqs/send-message-batches';
import { backoffDelaySeconds } from '../worker/backoff';
import { MAX_RETRY_AFTER_SECONDS } from './constants';
import { type Problem, toConsumerError } from './errors';
import type { Heartbeat } from './heartbeat';
import { batchEntryOf, type HeldEvent, type HeldMessage, type InFlight } from './in-flight';
import type { PullConsumerSettings } from './options';
import { type MessagePlan, planSettlement, resentEvent, type SettlementKind } from './settlement-plan';

/** A message's plan as it is carried out. */
interface SettlePlan extends MessagePlan<HeldMessage> {
  /** As planned, but `whole` once an `onFinallyFailed` that stands in for the dead-letter queue threw. */
  kind: SettlementKind;
  /** For `whole`: seconds until the message is visible again. */
  wholeDelaySeconds: number;
  /** `abandoned` when a step failed: the message is let go and comes back once its visibility runs out. */
  status: 'pending' | 'abandoned';
  /** With no dead-letter queue, `onFinallyFailed` threw for this message's events. */
  handoverFailed: boolean;
}

/**
 * Carries out the settlement of messages whose every event is settled (see `planSettlement`), in this
 * order: the final failures to the dead-letter queue (or, without one, to `onFinallyFailed`), the
 * re-sends, the visibility changes of messages that come back whole, the deletes, and with a
 * dead-letter queue the handover to `onFinallyFailed`. A message whose step failed is abandoned: let
 * go, it comes back once its visibility runs out.
 */
export class Settlement<TData> {
  /** Settlements under way, each settled (never rejected) when done. */
  readonly running = new Set<Promise<unknown>>();

  constructor(
    private readonly settings: PullConsumerSettings<TData>,
    private readonly context: CallContext,
    private readonly inFlight: InFlight,
    private readonly heartbeat: Heartbeat,
  ) {}

  /**
   * Settles messages all of whose events are acknowledged or failed: plans what it takes, makes the SQS
   * calls, and lets the messages go. Rejects with a `ConsumerError` naming every step that failed.
   */
  settle(messages: HeldMessage[]): Promise<void> {
    for (const held of messages) held.settling = true;
    const run = this.run(messages);
    const tracked = run.catch(() => {});
    this.running.add(tracked);
    void tracked.finally(() => this.running.delete(tracked));
    return run;
  }

  private async run(messages: readonly HeldMessage[]): Promise<void> {
    // A heartbeat under way could land after a visibility change made here, and undo it.
    await this.heartbeat.current;
    const problems: Problem[] = [];
    const plans = planSettlement(messages, this.settings).map((plan) => this.prepare(plan));
    try {
      await this.carryOut(plans, problems);
    } finally {
      for (const plan of plans) this.inFlight.letGo(plan.message);
    }
    if (problems.length > 0) {
      for (const problem of problems)
        this.settings.logger.error(`${problem.operation} failed while settling`, {
          queueUrl: this.settings.queueUrl,
          messageIds: problem.messageIds,
          eventIds: problem.eventIds,
          reason: problem.detail,
        });
      throw toConsumerError(this.settings.queueUrl, problems);
    }
  }

  private async carryOut(plans: SettlePlan[], problems: Problem[]): Promise<void> {
    const { deadLetterQueueUrl, queueUrl } = this.settings;
    const { counters } = this.inFlight;
    const withFinals = plans.filter((plan) => plan.finals.length > 0);

    if (withFinals.length > 0 && deadLetterQueueUrl !== undefined) {
      await this.sendEvents(
        deadLetterQueueUrl,
        'SendMessageBatch to the dead-letter queue',
        withFinals.map((plan) => ({ plan, events: plan.finals, delaySeconds: undefined })),
        problems,
      );
    } else if (withFinals.length > 0) {
      // Without a dead-letter queue the handler is the only record: it comes before the delete.
      const error = await this.handOver(withFinals);
      if (error === undefined)
        counters.eventsFinallyFailed += withFinals.reduce((sum, plan) => sum + plan.finals.length, 0);
      else {
        problems.push(
          problemFor(
            'onFinallyFailed',
            withFinals,
            `${reasonOf(error).message}; the message(s) will come back`,
            error,
          ),
        );
        for (const plan of withFinals) {
          plan.kind = 'whole';
          plan.handoverFailed = true;
          plan.wholeDelaySeconds = Math.max(...plan.finals.map((held) => this.delayFor(held)));
        }
      }
    }

    const splits = plans.filter(
      (plan) => plan.status === 'pending' && plan.kind === 'split' && plan.retries.length > 0,
    );
    if (splits.length > 0) {
      const items = splits.flatMap((plan) =>
        groupBy(plan.retries, (held) => this.delayFor(held)).map(([delaySeconds, events]) => ({
          plan,
          events,
          delaySeconds,
        })),
      );
      await this.sendEvents(queueUrl, 'SendMessageBatch (re-send of failed events)', items, problems);
    }

    const wholes = plans.filter((plan) => plan.status === 'pending' && plan.kind === 'whole');
    for (const [delaySeconds, group] of groupBy(wholes, (plan) => plan.wholeDelaySeconds)) {
      const failures = await changeVisibility(this.context, group.map(entryOf), delaySeconds);
      this.recordFailures('ChangeMessageVisibilityBatch', group, failures, problems);
    }

    const deletions = plans.filter((plan) => plan.status === 'pending' && plan.kind !== 'whole');
    if (deletions.length > 0) {
      const failures = await deleteMessages(this.context, deletions.map(entryOf));
      this.recordFailures('DeleteMessageBatch', deletions, failures, problems);
    }

    const done = plans.filter((plan) => plan.status === 'pending' && !plan.handoverFailed);
    for (const plan of done) {
      if (plan.kind === 'whole' || plan.kind === 'split') counters.eventsRetried += plan.retries.length;
    }
    const handedOver = done.filter((plan) => plan.finals.length > 0);
    if (deadLetterQueueUrl !== undefined && handedOver.length > 0) {
      counters.eventsFinallyFailed += handedOver.reduce((sum, plan) => sum + plan.finals.length, 0);
      const error = await this.handOver(handedOver);
      if (error !== undefined)
        problems.push(
          problemFor(
            'onFinallyFailed',
            handedOver,
            `${reasonOf(error).message}; the events are in the dead-letter queue ${deadLetterQueueUrl}`,
            error,
          ),
        );
    }
  }

  /** A plan to carry out, with the delay of a message that comes back whole. */
  private prepare(plan: MessagePlan<HeldMessage>): SettlePlan {
    return {
      ...plan,
      wholeDelaySeconds:
        plan.kind === 'whole' ? Math.max(...plan.retries.map((held) => this.delayFor(held))) : 0,
      status: 'pending',
      handoverFailed: false,
    };
  }

  /** Seconds before the next attempt of a failed event. */
  private delayFor(held: HeldEvent): number {
    return (
      held.retryAfterSeconds ??
      backoffDelaySeconds(held.attempts, this.settings.backoff, this.settings.random)
    );
  }

  /**
   * Sends failed events, as envelopes carrying their attempts and last error, to a queue. A plan any
   * of whose messages SQS did not accept is abandoned.
   */
  private async sendEvents(
    queueUrl: string,
    operation: string,
    items: readonly { plan: SettlePlan; events: readonly HeldEvent[]; delaySeconds: number | undefined }[],
    problems: Problem[],
  ): Promise<void> {
    const outgoing: OutgoingMessage[] = [];
    const owners = new Map<string, SettlePlan>();
    const idsOf = new Map<SettlePlan, string[]>();
    for (const { plan, events, delaySeconds } of items) {
      if (plan.status !== 'pending') continue;
      const { pipeline, stream, attributes } = plan.message;
      const bodies = packEnvelopes({ pipeline, stream }, events.map(resentEvent), {
        maxBodyBytes:
          MAX_MESSAGE_BYTES - (attributes === undefined ? 0 : messagePayloadBytes({ body: '', attributes })),
      }).map(({ body }) => body);
      const messages = bodies.map((body, index) => ({
        id: String(outgoing.length + index),
        body,
        ...(attributes === undefined ? {} : { attributes }),
        ...(delaySeconds === undefined
          ? {}
          : { delaySeconds: Math.min(delaySeconds, MAX_RETRY_AFTER_SECONDS) }),
      }));
      const tooLarge = messages.find((message) => messagePayloadBytes(message) > MAX_MESSAGE_BYTES);
      if (tooLarge !== undefined) {
        this.abandon(
          plan,
          problems,
          operation,
          `an event with its last error no longer fits in one message (${messagePayloadBytes(tooLarge)} bytes, over ${MAX_MESSAGE_BYTES})`,
          undefined,
        );
        continue;
      }
      for (const message of messages) {
        outgoing.push(message);
        owners.set(message.id, plan);
        idsOf.set(plan, [...(idsOf.get(plan) ?? []), message.id]);
      }
    }
    if (outgoing.length === 0) return;
    try {
      const result = await sendMessageBatches(this.settings.sqs, queueUrl, outgoing, {
        sleep: this.settings.sleep,
      });
      const accepted = new Set([...result.acceptedIds, ...result.acceptedAfterFailureIds]);
      const reasons = new Map(result.failed.map((failure) => [failure.id, failure]));
      for (const [plan, ids] of idsOf) {
        const missing = ids.filter((id) => !accepted.has(id));
        if (missing.length === 0) continue;
        const failure = missing.map((id) => reasons.get(id)).find((reason) => reason !== undefined);
        this.abandon(
          plan,
          problems,
          operation,
          failure === undefined
            ? 'not sent after an earlier message of the call failed'
            : `${failure.code}: ${failure.message}`,
          undefined,
        );
      }
    } catch (error) {
      for (const plan of idsOf.keys())
        this.abandon(plan, problems, operation, reasonOf(error).message, error);
    }
  }

  /** Calls `onFinallyFailed` once with the final failures of these plans; returns what it threw. */
  private async handOver(plans: readonly SettlePlan[]): Promise<unknown> {
    const handler = this.settings.onFinallyFailed;
    if (handler === undefined) return undefined;
    const failedAt = this.settings.now();
    const failures: FailedEvent<TData>[] = plans.flatMap((plan) =>
      plan.finals.map((held) => ({
        pipeline: plan.message.pipeline,
        event: this.storedEvent(held),
        attempts: held.attempts,
        lastError: held.failure ?? toEventFailure(undefined, failedAt, UNKNOWN_FAILURE_NAME),
        failedAt,
      })),
    );
    try {
      await handler(failures);
      return undefined;
    } catch (error) {
      return error ?? new Error('onFinallyFailed threw undefined');
    }
  }

  private storedEvent(held: HeldEvent): StoredEvent<TData> {
    return storedEventOf<TData>(held.message.stream, held.event);
  }

  private recordFailures(
    operation: string,
    plans: readonly SettlePlan[],
    failures: readonly EntryFailure[],
    problems: Problem[],
  ): void {
    for (const failure of failures) {
      const plan = plans.find((candidate) => candidate.message.messageId === failure.key);
      if (plan !== undefined)
        this.abandon(plan, problems, operation, `${failure.code}: ${failure.message}`, failure.cause);
    }
  }

  private abandon(
    plan: SettlePlan,
    problems: Problem[],
    operation: string,
    detail: string,
    cause: unknown,
  ): void {
    plan.status = 'abandoned';
    problems.push(
      problemFor(
        operation,
        [plan],
        `${detail}; the message will come back once its visibility runs out`,
        cause,
      ),
    );
  }
}

function entryOf(plan: SettlePlan): BatchEntry {
  return batchEntryOf(plan.message);
}

function problemFor(
  operation: string,
  plans: readonly SettlePlan[],
  detail: string,
  cause: unknown,
): Problem {
  return {
    operation,
    messageIds: plans.map((plan) => plan.message.messageId),
    eventIds: plans.flatMap((plan) => plan.message.events.map((held) => held.event.id)),
    detail,
    cause,
  };
}

function groupBy<T, K>(items: readonly T[], keyOf: (item: T) => K): [K, T[]][] {
  const groups = new Map<K, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    groups.set(key, [...(groups.get(key) ?? []), item]);
  }
  return [...groups];
}
