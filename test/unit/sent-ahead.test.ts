import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeIds,
  encodeIds,
  parseSentAhead,
  pruneSentAhead,
  runCount,
  serializeSentAhead,
} from '../../lib/state/sent-ahead';
import { EventIdGenerator, idInRun, runIds } from '../../lib/time/event-id';
import { positionAfterEvent, positionBeforeEvent } from '../../lib/time/position';

const ids = new EventIdGenerator();
const run = (count: number) => runIds(ids.next(), count);

describe('the record of events sent ahead', () => {
  it('stores the ids of one commit as one run, and reads back every id', () => {
    // Prepare
    const commit = run(100);
    const sparse = run(40).filter((_, index) => index % 3 === 0);

    // Act
    const encoded = encodeIds([...commit, ...sparse]);

    // Assess
    expect(encoded).toHaveLength(2);
    expect(encoded[0]).toMatch(/\.00-63$/);
    expect(decodeIds(encoded)).toEqual([...commit, ...sparse].sort());
    expect(runCount([...commit, ...sparse])).toBe(2);
  });

  it('round-trips any set of ids through its stored form', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uniqueArray(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 40 }), {
          maxLength: 8,
        }),
        (runs) => {
          const all = runs.flatMap((indexes) => {
            const base = ids.next();
            return indexes.map((index) => idInRun(base, index));
          });
          const record = { epoch: 3, ids: [...all].sort() };
          expect(parseSentAhead(serializeSentAhead(record))).toEqual(record);
        },
      ),
    );
  });

  it('keeps a plan with its packing', () => {
    const commit = run(3);
    const record = {
      epoch: 0,
      ids: commit,
      plan: { ids: commit.slice(1), messages: 1, maxEventsPerMessage: 100, maxMessageBytes: 65_000 },
    };
    expect(parseSentAhead(serializeSentAhead(record))).toEqual(record);
  });

  it('names a stored run it cannot read', () => {
    expect(() => decodeIds(['018f3a6c-1d2e-7000-8000-0000000000.07-02'])).toThrow(
      /a stored run of ids sent ahead.*07-02/,
    );
    expect(() => decodeIds(['no-dot'])).toThrow(/no-dot/);
  });

  it('drops the ids the checkpoint has moved past, and keeps a record with a plan whole', () => {
    // Prepare
    const [first, second] = [...run(1), ...run(1)] as [string, string];
    const record = { epoch: 0, ids: [first, second] };

    // Act and assess
    expect(pruneSentAhead(record, positionBeforeEvent(first))).toBe(record);
    expect(pruneSentAhead(record, positionAfterEvent(first))).toEqual({ epoch: 0, ids: [second] });
    expect(pruneSentAhead(record, positionAfterEvent(second))).toBeUndefined();
    const planned = {
      ...record,
      plan: { ids: [second], messages: 1, maxEventsPerMessage: 100, maxMessageBytes: 65_000 },
    };
    expect(pruneSentAhead(planned, positionAfterEvent(second))).toBe(planned);
  });
});
