import { describe, expect, it } from 'vitest';
import { smallestEventIdAt } from '../../lib/time/event-id';
import { lateCommitsIn, type TimedStreamRecord } from '../../lib/wake/late-commits';
import { Waker } from '../../lib/wake/waker';

const ID_TIME_MS = Date.UTC(2026, 11, 6, 12, 0, 0, 400);
const ID = smallestEventIdAt(ID_TIME_MS);
const WINDOWS = new Map([['orders', 1_500]]);

/** An INSERT of an event item whose stream record DynamoDB created at `createdAt` (rounded down). */
const stored = (createdAt: number | Date, pk = 'e#orders#2026120612#0', sk = ID): TimedStreamRecord => ({
  eventName: 'INSERT',
  dynamodb: { Keys: { pk: { S: pk }, sk: { S: sk } }, ApproximateCreationDateTime: createdAt },
});
const secondsOf = (epochMs: number) => Math.floor(epochMs / 1000);

describe('lateCommitsIn', () => {
  it('names an item whose record was created after its id’s time plus the settle window, by at least how much', () => {
    // A Lambda event's creation time is in epoch seconds; the SDK's GetRecords gives a Date. Stored
    // 3.8 s after its id (12:00:00.400), the record reads 12:00:04: at least 2.1 s past the window.
    expect(lateCommitsIn([stored(secondsOf(ID_TIME_MS + 3_800))], WINDOWS)).toEqual([
      { stream: 'orders', eventId: ID, lateByAtLeastMs: 2_100 },
    ]);
    expect(lateCommitsIn([stored(new Date(Date.UTC(2026, 11, 6, 12, 1, 0)))], WINDOWS)).toEqual([
      { stream: 'orders', eventId: ID, lateByAtLeastMs: 58_100 },
    ]);
  });

  it('names nothing stored within the window, since the creation time is rounded down', () => {
    // Created in the second of id + 1.5 s, or of the id itself: perhaps in time, so not named.
    expect(lateCommitsIn([stored(secondsOf(ID_TIME_MS + 1_500))], WINDOWS)).toEqual([]);
    expect(lateCommitsIn([stored(secondsOf(ID_TIME_MS))], WINDOWS)).toEqual([]);
    // DynamoDB Local rounds to the minute: 59 s late still reads as the id's own minute.
    expect(lateCommitsIn([stored(new Date(Date.UTC(2026, 11, 6, 12, 0, 0)))], WINDOWS)).toEqual([]);
  });

  it('skips what it cannot judge: other items, other changes, unknown windows, no creation time', () => {
    const late = secondsOf(ID_TIME_MS + 10_000);
    expect(
      lateCommitsIn(
        [
          stored(late, 'b#orders', '2026120612'),
          stored(late, 'e#refunds#2026120612#0'),
          stored(late, 'e#orders#2026120612#0', 'not-an-id'),
          { ...stored(late), eventName: 'MODIFY' },
          { eventName: 'INSERT', dynamodb: { Keys: { pk: { S: 'e#orders#2026120612#0' }, sk: { S: ID } } } },
        ],
        WINDOWS,
      ),
    ).toEqual([]);
  });
});

describe('Waker: late commits', () => {
  it('reports late commits with the pipelines reading their stream, and still wakes them', async () => {
    // Prepare
    const woken: string[] = [];
    const waker = new Waker({
      routes: [
        { stream: 'orders', pipeline: 'billing', target: 'billing-fetcher', untilIdleMs: 1_000 },
        { stream: 'orders', pipeline: 'shipping', target: 'shipping-fetcher', untilIdleMs: 1_000 },
      ],
      wake: async (route) => void woken.push(route.pipeline),
      settleWindowMsOf: async (stream) => WINDOWS.get(stream),
    });

    // Act
    const outcome = await waker.onRecords([stored(secondsOf(ID_TIME_MS + 5_000))]);

    // Assess
    expect(outcome.late).toEqual([
      { stream: 'orders', eventId: ID, lateByAtLeastMs: 3_100, pipelines: ['billing', 'shipping'] },
    ]);
    expect(woken.sort()).toEqual(['billing', 'shipping']);
  });

  it('wakes as before when the window cannot be read, and names no late commit', async () => {
    const woken: string[] = [];
    const waker = new Waker({
      routes: [{ stream: 'orders', pipeline: 'billing', target: 'billing-fetcher', untilIdleMs: 1_000 }],
      wake: async (route) => void woken.push(route.pipeline),
      settleWindowMsOf: async () => {
        throw new Error('AccessDeniedException');
      },
    });

    const outcome = await waker.onRecords([stored(secondsOf(ID_TIME_MS + 5_000))]);

    expect(outcome.late).toEqual([]);
    expect(woken).toEqual(['billing']);
  });
});
