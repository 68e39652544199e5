import type { MessageAttributeValue } from '@aws-sdk/client-sqs';
import type { EnvelopeEvent, EventFailure } from '../messages/envelope';
import type { BatchEntry } from '../sqs/batch-calls';
import { SETTLED_MEMORY } from './constants';
import { ConsumerError } from './errors';
import type { ConsumerStats } from './types';

/** Where a held event stands: handed out, or settled by `acknowledge()` or `fail()`. */
export type EventState = 'reserved' | 'acknowledged' | 'failed';
/** How a let-go event ended: settled, or given back to the queue by `stop()`. */
export type SettledOutcome = 'acknowledged' | 'failed' | 'released';

/** An event of a held message, and what the user made of it. */
export interface HeldEvent {
  readonly event: EnvelopeEvent;
  readonly message: HeldMessage;
  /** This attempt's number: the envelope's `attempts` plus the message's receive count. */
  readonly attempts: number;
  /** A copy of an event already reserved from another message: settled as acknowledged, never handed out. */
  readonly duplicate: boolean;
  state: EventState;
  failure?: EventFailure;
  retryAfterSeconds?: number;
}

/** A received message whose events are reserved. */
export interface HeldMessage {
  readonly messageId: string;
  receiptHandle: string;
  readonly pipeline: string;
  readonly stream: string;
  readonly attributes: Record<string, MessageAttributeValue> | undefined;
  readonly events: HeldEvent[];
  /** Every event is settled and the SQS calls that follow are under way: no heartbeat, no release. */
  settling: boolean;
}

/** The counters of `stats()`, bumped by every part of the consumer. */
export interface Counters {
  messagesReceived: number;
  eventsReserved: number;
  eventsAcknowledged: number;
  eventsRetried: number;
  eventsFinallyFailed: number;
  duplicateEvents: number;
  malformedMessages: number;
  eventsReleased: number;
  heartbeatFailures: number;
}

/** A held message as an entry of a batch call, named by its message id. */
export function batchEntryOf(message: HeldMessage): BatchEntry {
  return { key: message.messageId, receiptHandle: message.receiptHandle };
}

const CONFLICT_TEXT: Readonly<Record<SettledOutcome, string>> = {
  acknowledged: 'was acknowledged already',
  failed: 'was failed already',
  released: 'was released by stop()',
};

/**
 * What a consumer holds: the messages it received and has not let go, the events of theirs it handed
 * out, and how recently let-go events ended (to name them when they are settled again).
 */
export class InFlight {
  readonly messages = new Map<string, HeldMessage>();
  /** Events handed out and not yet let go, by id. */
  readonly reserved = new Map<string, HeldEvent>();
  readonly counters: Counters = {
    messagesReceived: 0,
    eventsReserved: 0,
    eventsAcknowledged: 0,
    eventsRetried: 0,
    eventsFinallyFailed: 0,
    duplicateEvents: 0,
    malformedMessages: 0,
    eventsReleased: 0,
    heartbeatFailures: 0,
  };
  /** How recently let-go events ended, to name them when they are settled again. */
  private readonly settled = new Map<string, SettledOutcome>();

  constructor(private readonly queueUrl: string) {}

  /**
   * Holds a received message and reserves its events; an event already reserved (from another
   * message, or earlier in this one) is held as a duplicate, settled as acknowledged.
   */
  hold(
    message: Omit<HeldMessage, 'events' | 'settling'>,
    events: readonly EnvelopeEvent[],
    attemptOf: (event: EnvelopeEvent) => number,
  ): HeldMessage {
    const held: HeldMessage = { ...message, events: [], settling: false };
    for (const event of events) {
      const duplicate = this.reserved.has(event.id);
      const heldEvent: HeldEvent = {
        event,
        message: held,
        attempts: attemptOf(event),
        duplicate,
        state: duplicate ? 'acknowledged' : 'reserved',
      };
      held.events.push(heldEvent);
      if (duplicate) {
        this.counters.duplicateEvents += 1;
        continue;
      }
      this.reserved.set(event.id, heldEvent);
      this.settled.delete(event.id);
    }
    this.messages.set(held.messageId, held);
    return held;
  }

  /**
   * Marks reserved events as acknowledged or failed, and returns the messages all of whose events are
   * now settled. Changes nothing, and throws a `ConsumerError` with code `event-not-reserved` naming them, when an id is not
   * reserved here or was settled the other way.
   */
  settle(
    eventIds: readonly string[],
    outcome: 'acknowledged' | 'failed',
    method: 'acknowledge' | 'fail',
    details: { failure?: EventFailure; retryAfterSeconds?: number },
  ): HeldMessage[] {
    const unknown: string[] = [];
    const conflicts: { id: string; state: SettledOutcome }[] = [];
    const toMark: HeldEvent[] = [];
    for (const id of new Set(eventIds)) {
      const held = this.reserved.get(id);
      const state = held?.state ?? this.settled.get(id);
      if (state === undefined) unknown.push(id);
      else if (state === 'reserved' && held !== undefined) toMark.push(held);
      else if (state !== 'reserved' && state !== outcome) conflicts.push({ id, state });
    }
    if (unknown.length > 0 || conflicts.length > 0) {
      const parts = [
        ...(unknown.length > 0
          ? [
              `unknown event id(s) ${unknown.map((id) => JSON.stringify(id)).join(', ')}: not reserved by this consumer`,
            ]
          : []),
        ...conflicts.map(({ id, state }) => `event ${JSON.stringify(id)} ${CONFLICT_TEXT[state]}`),
      ];
      throw new ConsumerError(
        `${method}() refused on queue ${this.queueUrl}, nothing changed: ${parts.join('; ')}`,
        {
          code: 'event-not-reserved',
          queueUrl: this.queueUrl,
          eventIds: [...unknown, ...conflicts.map(({ id }) => id)],
        },
      );
    }

    const ready = new Set<HeldMessage>();
    for (const held of toMark) {
      held.state = outcome;
      if (details.failure !== undefined) held.failure = details.failure;
      if (details.retryAfterSeconds !== undefined) held.retryAfterSeconds = details.retryAfterSeconds;
      if (held.message.events.every((event) => event.state !== 'reserved')) ready.add(held.message);
    }
    if (outcome === 'acknowledged') this.counters.eventsAcknowledged += toMark.length;
    return [...ready];
  }

  /** Stops holding a message: its events are no longer reserved, and are remembered as settled. */
  letGo(message: HeldMessage, outcome?: SettledOutcome): void {
    this.messages.delete(message.messageId);
    for (const held of message.events) {
      if (held.duplicate || this.reserved.get(held.event.id) !== held) continue;
      this.reserved.delete(held.event.id);
      this.remember(held.event.id, outcome ?? (held.state === 'reserved' ? 'released' : held.state));
    }
  }

  /** True while an event handed out is neither acknowledged nor failed. */
  hasUnsettledEvents(): boolean {
    return [...this.reserved.values()].some((held) => held.state === 'reserved');
  }

  /** The counters, and what is held now. */
  stats(): ConsumerStats {
    return {
      ...this.counters,
      eventsInFlight: [...this.reserved.values()].filter((held) => held.state === 'reserved').length,
      messagesInFlight: this.messages.size,
    };
  }

  private remember(eventId: string, outcome: SettledOutcome): void {
    this.settled.set(eventId, outcome);
    if (this.settled.size > SETTLED_MEMORY) {
      const oldest = this.settled.keys().next().value;
      if (oldest !== undefined) this.settled.delete(oldest);
    }
  }
}
