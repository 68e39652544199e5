import { type EnvelopeEvent, type EventFailure, failedEvent } from '../messages/envelope';

// What settling messages takes, decided without calling anything: which messages are deleted, which
// come back whole, which events are re-sent, and which are given up on. The consumer carries a plan
// out with SQS calls, and chooses the delays (backoff with jitter) as it does.

/** An event of a message being settled: this attempt's number and what became of it. */
export interface SettledEvent {
  readonly event: EnvelopeEvent;
  /** This attempt's number (see `attemptOf`). */
  readonly attempts: number;
  /**
   * `acknowledged` or `failed`: a message is settled once none of its events is `reserved`. A copy of
   * an event reserved from another message is settled as `acknowledged`.
   */
  readonly state: 'reserved' | 'acknowledged' | 'failed';
  /** Why a failed event failed: its last error when it is re-sent or given up on. */
  readonly failure?: EventFailure | undefined;
}

/** A message being settled: its events, in the order of its envelope. */
export interface SettledMessage {
  readonly events: readonly SettledEvent[];
}

/** What a plan depends on besides the messages. */
export interface SettlementSettings {
  /** An event whose attempt number reaches this is given up on rather than tried again. */
  readonly maxRedeliveryCount: number;
}

/**
 * How a message ends:
 * - `delete`: every event succeeded; the message is deleted.
 * - `whole`: every event failed and will be tried again, so the message itself comes back after a
 *   delay (its visibility is changed), and nothing is re-sent.
 * - `split`: failed events are re-sent in new messages (`retries`) or given up on (`finals`), then the
 *   message is deleted.
 */
export type SettlementKind = 'delete' | 'whole' | 'split';

/** How one message is settled. Every event of the message is in exactly one of the three lists. */
export interface MessagePlan<M extends SettledMessage> {
  readonly message: M;
  readonly kind: SettlementKind;
  /** Acknowledged events: done once the message is deleted. */
  readonly succeeded: readonly M['events'][number][];
  /** Failed events to try again: re-sent (`split`) or back with the message (`whole`). */
  readonly retries: readonly M['events'][number][];
  /**
   * Failed events whose attempt was number `maxRedeliveryCount` or later: not tried again, but sent
   * to the dead-letter queue and handed to `onFinallyFailed`.
   */
  readonly finals: readonly M['events'][number][];
}

/** A malformed message: its body could not be read as a Sluice envelope. */
export interface MalformedMessage {
  readonly message: { readonly Body?: string | undefined };
}

/** Where malformed messages go. */
export interface MalformedPlan<M extends MalformedMessage> {
  /** Sent to the dead-letter queue as they came, then deleted. */
  readonly toDeadLetterQueue: readonly M[];
  /**
   * Left on the queue, for its redrive policy to move: all of them without a dead-letter queue, and
   * those with an empty body (SQS takes no empty message).
   */
  readonly leftOnQueue: readonly M[];
}

/**
 * The attempt number of an event in a message SQS delivered `receiveCount` times: the failed
 * attempts its envelope carries plus the receives. A count that is not a whole number of at least 1
 * (SQS gave none) counts as 1.
 *
 * @example
 * ```ts
 * attemptOf({ attempts: 2 }, Number(message.Attributes?.ApproximateReceiveCount)); // 3 on the first receive
 * ```
 */
export function attemptOf(event: Pick<EnvelopeEvent, 'attempts'>, receiveCount: number): number {
  const receives = Number.isInteger(receiveCount) && receiveCount >= 1 ? receiveCount : 1;
  return (event.attempts ?? 0) + receives;
}

/**
 * What settling these messages takes, one plan per message in the same order. Pure: it changes
 * nothing and calls nothing, so the same messages always make the same plan.
 *
 * @example
 * ```ts
 * const [plan] = planSettlement([message], { maxRedeliveryCount: 5 });
 * if (plan.kind === 'split') await resend(plan.retries.map(resentEvent));
 * ```
 */
export function planSettlement<M extends SettledMessage>(
  messages: readonly M[],
  settings: SettlementSettings,
): MessagePlan<M>[] {
  return messages.map((message) => {
    const events: readonly M['events'][number][] = message.events;
    const failed = events.filter((held) => held.state === 'failed');
    const finals = failed.filter((held) => held.attempts >= settings.maxRedeliveryCount);
    const retries = failed.filter((held) => held.attempts < settings.maxRedeliveryCount);
    const whole = finals.length === 0 && retries.length === events.length;
    return {
      message,
      kind: failed.length === 0 ? 'delete' : whole ? 'whole' : 'split',
      succeeded: events.filter((held) => held.state !== 'failed'),
      retries,
      finals,
    };
  });
}

/**
 * An event as it is re-sent or sent to the dead-letter queue: with this attempt's number as its
 * `attempts`, and its failure as its `lastError`.
 *
 * @example
 * ```ts
 * packEnvelopes({ pipeline, stream }, plan.retries.map(resentEvent));
 * ```
 */
export function resentEvent(held: SettledEvent): EnvelopeEvent {
  return failedEvent(held.event, held.attempts, held.failure);
}

/**
 * Where malformed messages go: with a dead-letter queue, there (but for empty bodies); without one,
 * nowhere, so the queue's redrive policy moves them.
 *
 * @example
 * ```ts
 * const { toDeadLetterQueue, leftOnQueue } = planMalformed(malformed, { deadLetterQueue: true });
 * ```
 */
export function planMalformed<M extends MalformedMessage>(
  messages: readonly M[],
  settings: { readonly deadLetterQueue: boolean },
): MalformedPlan<M> {
  if (!settings.deadLetterQueue) return { toDeadLetterQueue: [], leftOnQueue: [...messages] };
  const movable = (entry: M) => (entry.message.Body ?? '') !== '';
  return {
    toDeadLetterQueue: messages.filter(movable),
    leftOnQueue: messages.filter((entry) => !movable(entry)),
  };
}
