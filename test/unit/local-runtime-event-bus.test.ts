import { describe, expect, it } from 'vitest';
import { type BusEvent, LocalEventBus, matchesPattern } from '../../lib/local';

describe('LocalEventBus', () => {
  it('routes events to the targets of the rules whose pattern they match', async () => {
    // Prepare
    const bus = new LocalEventBus();
    const backfills: BusEvent[] = [];
    const paid: BusEvent[] = [];
    bus.putRule({
      name: 'backfills',
      eventPattern: { source: ['sluice'], 'detail-type': ['Backfill Requested'] },
      targets: [(event) => void backfills.push(event)],
    });
    bus.putRule({
      name: 'paid-orders',
      eventPattern: {
        source: 'shop',
        detail: { status: ['paid', 'refunded'], order: { currency: ['EUR'] } },
      },
      targets: [(event) => void paid.push(event)],
    });

    // Act
    await bus.putEvents([
      { source: 'sluice', detailType: 'Backfill Requested', detail: { pipeline: 'billing' } },
      { source: 'sluice', detailType: 'Backfill Finished', detail: { pipeline: 'billing' } },
      { source: 'shop', detailType: 'Order', detail: { status: 'paid', order: { currency: 'EUR' } } },
      { source: 'shop', detailType: 'Order', detail: { status: 'paid', order: { currency: 'USD' } } },
      { source: 'shop', detailType: 'Order', detail: { status: 'placed', order: { currency: 'EUR' } } },
    ]);
    await bus.idle();

    // Assess
    expect(backfills).toHaveLength(1);
    expect(backfills[0]).toMatchObject({
      version: '0',
      source: 'sluice',
      'detail-type': 'Backfill Requested',
      account: '000000000000',
      region: 'us-east-1',
      resources: [],
      detail: { pipeline: 'billing' },
    });
    expect(typeof backfills[0]?.id).toBe('string');
    expect(paid.map((event) => event.detail)).toEqual([{ status: 'paid', order: { currency: 'EUR' } }]);
    expect(bus.stats()).toMatchObject({ put: 5, delivered: 2, unmatched: 3, errors: 0, pending: 0 });
  });

  it('matches list fields when any element is allowed, and never matches a missing field', () => {
    const event = { source: 'shop', resources: ['arn:a', 'arn:b'], detail: { status: 'paid' } };
    expect(matchesPattern({ resources: ['arn:b'] }, event)).toBe(true);
    expect(matchesPattern({ detail: { missing: ['x'] } }, event)).toBe(false);
    expect(matchesPattern({ detail: { status: 'paid' } }, event)).toBe(true);
  });

  it('fails when putEvents is given more than 10 entries or a detail that is not an object', async () => {
    const bus = new LocalEventBus();
    const entry = { source: 'shop', detailType: 'Order', detail: {} };
    await expect(bus.putEvents(Array.from({ length: 11 }, () => entry))).rejects.toThrow(
      'putEvents takes 1 to 10 entries (given 11)',
    );
    await expect(
      bus.putEvents([
        { source: 'shop', detailType: 'Order', detail: 'text' as unknown as Record<string, unknown> },
      ]),
    ).rejects.toThrow('detail must be a JSON object (given "text")');
  });

  it('counts a target that throws and goes on delivering', async () => {
    const errors: string[] = [];
    const bus = new LocalEventBus({ onError: (_error, details) => errors.push(details.rule) });
    const seen: string[] = [];
    bus.putRule({
      name: 'broken',
      eventPattern: { source: ['shop'] },
      targets: [() => Promise.reject(new Error('no'))],
    });
    bus.putRule({
      name: 'working',
      eventPattern: { source: ['shop'] },
      targets: [(event) => void seen.push(event.id)],
    });
    await bus.putEvents([{ source: 'shop', detailType: 'Order', detail: {} }]);
    await bus.idle();
    expect(errors).toEqual(['broken']);
    expect(seen).toHaveLength(1);
    expect(bus.stats().errors).toBe(1);
  });
});
