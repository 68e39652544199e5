import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mergeSorted } from '../../lib/event-log/merge';

async function* fromArray<T>(items: T[]): AsyncGenerator<T> {
  for (const item of items) yield item;
}

async function collect<T>(source: AsyncIterable<T>, limit = Number.POSITIVE_INFINITY): Promise<T[]> {
  const out: T[] = [];
  for await (const item of source) {
    out.push(item);
    if (out.length >= limit) break;
  }
  return out;
}

describe('mergeSorted', () => {
  it('merges sorted sources into one sorted sequence holding every item once', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.uniqueArray(fc.stringMatching(/^[0-9a-f]{4}$/)), { maxLength: 6 }),
        async (lists) => {
          const sorted = lists.map((list) => [...list].sort());
          const merged = await collect(mergeSorted(sorted.map(fromArray), (item) => item));
          expect(merged).toEqual(sorted.flat().sort());
        },
      ),
    );
  });

  it('merges newest first when asked, and reads no further than a limit needs', async () => {
    let pulled = 0;
    async function* counting(items: string[]): AsyncGenerator<string> {
      for (const item of items) {
        pulled += 1;
        yield item;
      }
    }
    const merged = await collect(
      mergeSorted([counting(['d', 'b']), counting(['e', 'c', 'a'])], (item) => item, true),
      2,
    );
    expect(merged).toEqual(['e', 'd']);
    expect(pulled).toBeLessThanOrEqual(4);
  });
});
