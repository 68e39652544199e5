import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { groupInOrder } from '../../lib/collections/in-order-groups';

const bySize = (size: number) => size;

describe('groupInOrder', () => {
  it('closes a group when the next item would pass maxWeight', () => {
    expect(groupInOrder([4, 4, 4, 9, 1], bySize, { maxWeight: 10 })).toEqual([[4, 4], [4], [9, 1]]);
  });

  it('fills a group up to maxWeight exactly', () => {
    expect(groupInOrder([5, 5, 5], bySize, { maxWeight: 10 })).toEqual([[5, 5], [5]]);
  });

  it('closes a group at maxItems whatever its weight', () => {
    expect(groupInOrder([1, 1, 1, 1, 1], bySize, { maxWeight: 100, maxItems: 2 })).toEqual([
      [1, 1],
      [1, 1],
      [1],
    ]);
  });

  it('gives an item heavier than maxWeight a group of its own, refusing nothing', () => {
    expect(groupInOrder([1, 50, 1], bySize, { maxWeight: 10 })).toEqual([[1], [50], [1]]);
  });

  it('lets weightless items join the group at hand', () => {
    expect(groupInOrder([10, 0, 0, 1], bySize, { maxWeight: 10 })).toEqual([[10, 0, 0], [1]]);
  });

  it('gives no group for no items', () => {
    expect(groupInOrder([], bySize, { maxWeight: 10 })).toEqual([]);
  });

  it('keeps every item once, in order, and every group of two or more within the limits', () => {
    const cases = fc.record({
      sizes: fc.array(fc.integer({ min: 0, max: 30 }), { maxLength: 80 }),
      maxWeight: fc.integer({ min: 1, max: 40 }),
      maxItems: fc.integer({ min: 1, max: 12 }),
    });
    fc.assert(
      fc.property(cases, ({ sizes, maxWeight, maxItems }) => {
        const groups = groupInOrder(sizes, bySize, { maxWeight, maxItems });
        expect(groups.flat()).toEqual(sizes);
        for (const group of groups) {
          expect(group.length).toBeGreaterThan(0);
          expect(group.length).toBeLessThanOrEqual(maxItems);
          if (group.length > 1)
            expect(group.reduce((sum, size) => sum + size, 0)).toBeLessThanOrEqual(maxWeight);
        }
        // No group could have taken the first item of the next one.
        for (let i = 1; i < groups.length; i += 1) {
          const before = groups[i - 1] as number[];
          const first = (groups[i] as number[])[0] as number;
          const weight = before.reduce((sum, size) => sum + size, 0);
          expect(before.length >= maxItems || weight + first > maxWeight).toBe(true);
        }
      }),
    );
  });
});
