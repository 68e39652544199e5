import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  attemptOf,
  type MessagePlan,
  planMalformed,
  planSettlement,
  resentEvent,
  type SettledEvent,
  type SettlementKind,
} from '../../lib/consumer/settlement-plan';
import type { EnvelopeEvent, EventFailure } from '../../lib/messages/envelope';
import { EventIdGenerator } from '../../lib/time/event-id';

const ids = new EventIdGenerator({ now: () => Date.parse('2024-05-01T12:30:00.000Z') });
const MAX_REDELIVERY_COUNT = 5;
const DECLINED: EventFailure = { name: 'TypeError', message: 'card declined', at: 1_714_566_600_000 };

let orders = 0;

type Outcome = 'acknowledged' | 'failed';

interface TestMessage {
  readonly messageId: string;
  readonly events: readonly SettledEvent[];
}

/** An event of a message SQS delivered `receiveCount` times, with `attempts` failed ones in its envelope. */
function settledEvent(outcome: Outcome, receiveCount = 1, attempts = 0): SettledEvent {
  orders += 1;
  const event: EnvelopeEvent = {
    id: ids.next(),
    type: 'order.placed',
    data: { orderId: `o-${orders}` },
    ...(attempts === 0 ? {} : { attempts }),
  };
  return {
    event,
    attempts: attemptOf(event, receiveCount),
    state: outcome,
    ...(outcome === 'failed' ? { failure: DECLINED } : {}),
  };
}

function messageOf(messageId: string, events: readonly SettledEvent[]): TestMessage {
  return { messageId, events };
}

/** The plan of one message, with the default maxRedeliveryCount. */
function planOf(message: TestMessage): MessagePlan<TestMessage> {
  const plans = planSettlement([message], { maxRedeliveryCount: MAX_REDELIVERY_COUNT });
  expect(plans).toHaveLength(1);
  return plans[0] as MessagePlan<TestMessage>;
}

/** Checks a plan's kind and its three lists at once; a list left out must be empty. */
function expectPlan(
  plan: MessagePlan<TestMessage>,
  expected: {
    kind: SettlementKind;
    succeeded?: SettledEvent[];
    retries?: SettledEvent[];
    finals?: SettledEvent[];
  },
): void {
  const { kind, succeeded, retries, finals } = plan;
  expect({ kind, succeeded, retries, finals }).toEqual({
    succeeded: [],
    retries: [],
    finals: [],
    ...expected,
  });
}

describe('planSettlement', () => {
  it('deletes a message all of whose events succeeded, and re-sends nothing', () => {
    // Prepare
    const events = [settledEvent('acknowledged'), settledEvent('acknowledged'), settledEvent('acknowledged')];

    // Act
    const plan = planOf(messageOf('m-1', events));

    // Assess
    expectPlan(plan, { kind: 'delete', succeeded: events });
  });

  it('re-sends only the failed event of a packed message, with its attempt number and last error, and deletes the message', () => {
    // Prepare
    const [first, failing, last] = [
      settledEvent('acknowledged'),
      settledEvent('failed'),
      settledEvent('acknowledged'),
    ] as [SettledEvent, SettledEvent, SettledEvent];

    // Act
    const plan = planOf(messageOf('m-1', [first, failing, last]));
    const resent = plan.retries.map(resentEvent);

    // Assess
    expectPlan(plan, { kind: 'split', succeeded: [first, last], retries: [failing] });
    expect(resent).toEqual([
      {
        id: failing.event.id,
        type: 'order.placed',
        data: failing.event.data,
        attempts: 1,
        lastError: DECLINED,
      },
    ]);
    // Delivered once more, the re-sent event is on its second attempt.
    expect(attemptOf(resent[0] as EnvelopeEvent, 1)).toBe(2);
  });

  it('lets a message whose every event failed below the limit come back whole, re-sending nothing', () => {
    // Prepare
    const events = [settledEvent('failed', 2), settledEvent('failed', 2)];

    // Act
    const plan = planOf(messageOf('m-1', events));

    // Assess
    expectPlan(plan, { kind: 'whole', retries: events });
  });

  it('gives up on an event whose attempt, its envelope attempts plus the receives, reaches maxRedeliveryCount', () => {
    // Prepare: the message was received twice, so the events are on attempts 5, 4 and 2.
    const atLimit = settledEvent('failed', 2, 3);
    const belowLimit = settledEvent('failed', 2, 2);
    const succeeded = settledEvent('acknowledged', 2);

    // Act
    const plan = planOf(messageOf('m-1', [atLimit, belowLimit, succeeded]));

    // Assess
    expect([atLimit.attempts, belowLimit.attempts]).toEqual([MAX_REDELIVERY_COUNT, MAX_REDELIVERY_COUNT - 1]);
    expectPlan(plan, { kind: 'split', succeeded: [succeeded], retries: [belowLimit], finals: [atLimit] });
    expect(resentEvent(atLimit)).toMatchObject({ attempts: MAX_REDELIVERY_COUNT, lastError: DECLINED });
  });

  it('deletes a message whose only event failed for the last time, rather than letting it come back', () => {
    // Prepare: past the limit too, as after maxRedeliveryCount was lowered.
    const atLimit = settledEvent('failed', MAX_REDELIVERY_COUNT);
    const pastLimit = settledEvent('failed', MAX_REDELIVERY_COUNT + 2);

    // Act
    const plans = planSettlement([messageOf('m-1', [atLimit]), messageOf('m-2', [pastLimit])], {
      maxRedeliveryCount: MAX_REDELIVERY_COUNT,
    });

    // Assess
    expect(plans.map((plan) => [plan.message.messageId, plan.kind])).toEqual([
      ['m-1', 'split'],
      ['m-2', 'split'],
    ]);
    expect(plans.map((plan) => plan.finals)).toEqual([[atLimit], [pastLimit]]);
    expect(plans.flatMap((plan) => plan.retries)).toEqual([]);
  });

  it('counts a copy of an event reserved from another message as succeeded, so the failed rest is re-sent rather than the message coming back', () => {
    // Prepare
    const copy = settledEvent('acknowledged');
    const failing = settledEvent('failed');

    // Act
    const plan = planOf(messageOf('m-1', [copy, failing]));

    // Assess
    expectPlan(plan, { kind: 'split', succeeded: [copy], retries: [failing] });
  });

  it('plans nothing for no messages', () => {
    expect(planSettlement([], { maxRedeliveryCount: 1 })).toEqual([]);
  });

  it('puts every event of a batch in exactly one of succeeded, tried again and given up on, as its outcome and attempt say', () => {
    const batch = fc.record({
      maxRedeliveryCount: fc.integer({ min: 1, max: 8 }),
      messages: fc.array(
        fc.record({
          receiveCount: fc.integer({ min: 1, max: 10 }),
          events: fc.array(
            fc.record({
              outcome: fc.constantFrom<Outcome>('acknowledged', 'failed'),
              attempts: fc.integer({ min: 0, max: 8 }),
            }),
            { minLength: 1, maxLength: 6 },
          ),
        }),
        { maxLength: 8 },
      ),
    });
    fc.assert(
      fc.property(batch, ({ maxRedeliveryCount, messages: shapes }) => {
        // Prepare
        const messages = shapes.map((shape, index) =>
          messageOf(
            `m-${index}`,
            shape.events.map(({ outcome, attempts }) => settledEvent(outcome, shape.receiveCount, attempts)),
          ),
        );

        // Act
        const plans = planSettlement(messages, { maxRedeliveryCount });

        // Assess
        expect(plans).toHaveLength(messages.length);
        plans.forEach((plan, index) => {
          expect(plan.message).toBe(messages[index]);
          const placed = [...plan.succeeded, ...plan.retries, ...plan.finals];
          expect(placed).toHaveLength(plan.message.events.length);
          for (const held of plan.message.events) {
            const places = [plan.succeeded, plan.retries, plan.finals].filter((list) => list.includes(held));
            expect(places).toHaveLength(1);
            const expected =
              held.state === 'acknowledged'
                ? plan.succeeded
                : held.attempts >= maxRedeliveryCount
                  ? plan.finals
                  : plan.retries;
            expect(places[0]).toBe(expected);
          }
          const failed = plan.retries.length + plan.finals.length;
          const expectedKind =
            failed === 0 ? 'delete' : plan.retries.length === plan.message.events.length ? 'whole' : 'split';
          expect(plan.kind).toBe(expectedKind);
        });
        const everyEvent = messages.flatMap((message) => message.events);
        const everyPlaced = plans.flatMap((plan) => [...plan.succeeded, ...plan.retries, ...plan.finals]);
        expect(new Set(everyPlaced).size).toBe(everyEvent.length);
        expect(everyPlaced).toHaveLength(everyEvent.length);
      }),
    );
  });
});

describe('attemptOf', () => {
  it('adds the receives of the message to the failed attempts the envelope carries', () => {
    expect(attemptOf({}, 1)).toBe(1);
    expect(attemptOf({ attempts: 2 }, 1)).toBe(3);
    expect(attemptOf({ attempts: 2 }, 4)).toBe(6);
  });

  it('counts a receive count SQS did not give, or gave badly, as one receive', () => {
    expect(attemptOf({ attempts: 2 }, Number(undefined))).toBe(3);
    expect(attemptOf({ attempts: 2 }, 0)).toBe(3);
    expect(attemptOf({ attempts: 2 }, 1.5)).toBe(3);
  });
});

describe('planMalformed', () => {
  const malformed = (messageId: string, body: string | undefined) => ({
    message: { MessageId: messageId, ...(body === undefined ? {} : { Body: body }) },
  });

  it('sends a malformed message to the dead-letter queue as it came, but leaves one with an empty body on the queue', () => {
    // Prepare
    const notJson = malformed('m-1', 'not json');
    const empty = malformed('m-2', '');
    const bodiless = malformed('m-3', undefined);
    const foreign = malformed('m-4', '{"Records":[]}');

    // Act
    const plan = planMalformed([notJson, empty, bodiless, foreign], { deadLetterQueue: true });

    // Assess
    expect(plan.toDeadLetterQueue).toEqual([notJson, foreign]);
    expect(plan.leftOnQueue).toEqual([empty, bodiless]);
  });

  it('leaves every malformed message on the queue, for its redrive policy, without a dead-letter queue', () => {
    // Prepare
    const messages = [malformed('m-1', 'not json'), malformed('m-2', '')];

    // Act
    const plan = planMalformed(messages, { deadLetterQueue: false });

    // Assess
    expect(plan.toDeadLetterQueue).toEqual([]);
    expect(plan.leftOnQueue).toEqual(messages);
  });
});
