import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  afterMarkFailure,
  batchItemFailuresOf,
  type EnvelopeRecord,
  planDeadLetterEvents,
} from '../../lib/failed/dead-letter-plan';
import type { Envelope, EnvelopeEvent } from '../../lib/messages/envelope';
import { EventIdGenerator } from '../../lib/time/event-id';
import { type MessageMarker, markerKeyOf } from '../../lib/worker/marker-store';

const NOW = Date.parse('2024-05-01T13:00:00.000Z');
const ids = new EventIdGenerator({ now: () => Date.parse('2024-05-01T12:00:00.000Z') });
const lastError = { name: 'TypeError', message: 'total is undefined', at: NOW - 1_000 };

function event(failed: boolean, id = ids.next()): EnvelopeEvent {
  return { id, type: 'order.placed', data: {}, ...(failed ? { lastError, attempts: 3 } : {}) };
}

function message(messageId: string, events: EnvelopeEvent[], redrive?: string): EnvelopeRecord {
  const envelope: Envelope = {
    sluice: 1,
    pipeline: 'billing',
    stream: 'orders',
    events,
    ...(redrive === undefined ? {} : { redrive }),
  } as Envelope;
  return { record: { messageId, body: '' }, envelope };
}

function marker(status: MessageMarker['status'], completed: string[]): MessageMarker {
  return { status, completedIds: new Set(completed), failures: {} };
}

const handedIds = (records: EnvelopeRecord[], markers?: ReadonlyMap<string, MessageMarker>) =>
  planDeadLetterEvents(records, markers, 'billing', NOW).events.map(({ failure }) => failure.event.id);

describe('planDeadLetterEvents', () => {
  it('hands over every event a worker gave up on, without reading markers', () => {
    const events = [event(true), event(true)];
    const plan = planDeadLetterEvents([message('m-1', events)], undefined, 'billing', NOW);
    expect(plan.events.map(({ failure }) => failure.event.id)).toEqual(events.map((e) => e.id));
    expect(plan.retry).toEqual([]);
    expect(plan.events[0]).toMatchObject({ dlqMessageId: 'm-1', messageIds: ['m-1'] });
  });

  it('leaves out the events of a message SQS moved that its marker lists as completed', () => {
    const [done, open] = [event(false), event(false)];
    const moved = message('m-1', [done, open]);
    const markers = new Map([[markerKeyOf(moved.envelope), marker('partial', [done.id])]]);
    const plan = planDeadLetterEvents([moved], markers, 'billing', NOW);
    expect(plan.events.map(({ failure }) => failure.event.id)).toEqual([open.id]);
    expect(plan.completedBefore).toBe(1);
  });

  it('leaves out every event of a moved message whose marker is done', () => {
    const moved = message('m-1', [event(false), event(false)]);
    const markers = new Map([[markerKeyOf(moved.envelope), marker('done', [])]]);
    expect(handedIds([moved], markers)).toEqual([]);
  });

  it('hands over a moved message’s events when it has no marker', () => {
    const moved = message('m-1', [event(false)]);
    expect(handedIds([moved], new Map())).toHaveLength(1);
  });

  it('sends back the messages SQS moved when their markers could not be read', () => {
    const given = message('m-1', [event(true)]);
    const moved = message('m-2', [event(false)]);
    const plan = planDeadLetterEvents([given, moved], undefined, 'billing', NOW);
    expect(plan.retry).toEqual(['m-2']);
    expect(plan.events).toHaveLength(1);
  });

  it('hands an event over once per life, with every message that carries it', () => {
    const same = event(true);
    const plan = planDeadLetterEvents(
      [message('m-1', [same]), message('m-2', [same]), message('m-3', [same], 'r-1')],
      new Map(),
      'billing',
      NOW,
    );
    expect(plan.events.map((entry) => entry.messageIds)).toEqual([['m-1', 'm-2'], ['m-3']]);
  });

  it('accounts for every event once: handed over, completed before, or in a message sent back', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.array(fc.record({ failed: fc.boolean(), completed: fc.boolean() }), {
            minLength: 1,
            maxLength: 4,
          }),
          {
            maxLength: 6,
          },
        ),
        fc.boolean(),
        (messages, markersRead) => {
          const records = messages.map((events, n) =>
            message(
              `m-${n}`,
              events.map(({ failed }) => event(failed)),
            ),
          );
          const markers = new Map(
            records.map(({ envelope }, n) => [
              markerKeyOf(envelope),
              marker(
                'partial',
                envelope.events.filter((_, i) => messages[n]?.[i]?.completed).map((e) => e.id),
              ),
            ]),
          );
          const plan = planDeadLetterEvents(records, markersRead ? markers : undefined, 'billing', NOW);
          const sentBack = records
            .filter(({ record }) => plan.retry.includes(record.messageId))
            .reduce((sum, { envelope }) => sum + envelope.events.length, 0);
          const total = records.reduce((sum, { envelope }) => sum + envelope.events.length, 0);
          expect(plan.events.length + plan.completedBefore + sentBack).toBe(total);
        },
      ),
    );
  });
});

describe('batchItemFailuresOf', () => {
  it('reports each message to deliver again once, in batch order', () => {
    const records = ['a', 'b', 'a', 'c'].map((messageId) => ({ messageId, body: '' }));
    expect(batchItemFailuresOf(records, new Set(['c', 'a']))).toEqual([
      { itemIdentifier: 'a' },
      { itemIdentifier: 'c' },
    ]);
  });
});

describe('afterMarkFailure', () => {
  it('takes a lost claim as done, hands over again what committed, and leaves the rest pending', () => {
    expect(afterMarkFailure(true, true)).toBe('claimLost');
    expect(afterMarkFailure(false, true)).toBe('handOverAgain');
    expect(afterMarkFailure(false, false)).toBe('leavePending');
  });
});
