import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../lib/errors';
import {
  type CursorPage,
  type PaginationContext,
  PaginationError,
  paginateCursor,
  paginateOffset,
  processBatchWithTimeout,
} from '../../lib/sync';

/** A pagination context in memory: records every cursor saved, and times out after `pagesBeforeTimeout` checks. */
function memoryContext(options: { cursor?: string; checksBeforeTimeout?: number } = {}) {
  const saved: (string | undefined)[] = [];
  let checks = 0;
  const ctx: PaginationContext & { counts: { pages: number; fetched: number } } = {
    cursor: options.cursor,
    checkTimeout: () => {
      checks += 1;
      return options.checksBeforeTimeout !== undefined && checks > options.checksBeforeTimeout;
    },
    saveCursor: async (cursor) => {
      saved.push(cursor);
    },
    counts: { pages: 0, fetched: 0 },
  };
  return { ctx, saved };
}

/** A source of `total` numbered records, `pageSize` a page, with cursors 'c<offset>'. */
function cursorSource(total: number, pageSize: number) {
  const requested: (string | undefined)[] = [];
  const fetchPage = async (cursor: string | undefined): Promise<CursorPage<number>> => {
    requested.push(cursor);
    const offset = cursor === undefined ? 0 : Number(cursor.slice(1));
    const items = Array.from({ length: Math.min(pageSize, total - offset) }, (_, i) => offset + i);
    const next = offset + items.length;
    return { items, nextCursor: next < total ? `c${next}` : undefined };
  };
  return { requested, fetchPage };
}

describe('paginateCursor', () => {
  it('processes every page in order, saving the next cursor after each, and restarts when done', async () => {
    // Prepare
    const { ctx, saved } = memoryContext();
    const source = cursorSource(25, 10);
    const processed: number[] = [];

    // Act
    const result = await paginateCursor(ctx, {
      fetchPage: source.fetchPage,
      processPage: async (items) => void processed.push(...items),
    });

    // Assess
    expect(processed).toEqual(Array.from({ length: 25 }, (_, i) => i));
    expect(source.requested).toEqual([undefined, 'c10', 'c20']);
    expect(saved).toEqual(['c10', 'c20', undefined]);
    expect(result).toEqual({ status: 'complete', cursor: undefined, pages: 3, items: 25 });
    expect(ctx.counts).toEqual({ pages: 3, fetched: 25 });
  });

  it('stops before the next fetch when the budget is spent, and a second run resumes where it stopped', async () => {
    // Prepare: the first run may fetch two pages.
    const source = cursorSource(45, 10);
    const processed: number[] = [];
    const processPage = async (items: readonly number[]) => void processed.push(...items);
    const first = memoryContext({ checksBeforeTimeout: 2 });

    // Act
    const partial = await paginateCursor(first.ctx, { fetchPage: source.fetchPage, processPage });
    const second = memoryContext({ cursor: partial.cursor });
    const complete = await paginateCursor(second.ctx, { fetchPage: source.fetchPage, processPage });

    // Assess: nothing lost, nothing processed twice.
    expect(partial).toEqual({ status: 'partial', cursor: 'c20', pages: 2, items: 20 });
    expect(complete).toEqual({ status: 'complete', cursor: undefined, pages: 3, items: 25 });
    expect(processed).toEqual(Array.from({ length: 45 }, (_, i) => i));
    expect(source.requested).toEqual([undefined, 'c10', 'c20', 'c30', 'c40']);
  });

  it("stays at the last page's cursor with whenDone 'stay'", async () => {
    const { ctx, saved } = memoryContext();
    const result = await paginateCursor(ctx, {
      ...cursorSource(25, 10),
      processPage: async () => {},
      whenDone: 'stay',
    });
    expect(result.cursor).toBe('c20');
    expect(saved).toEqual(['c10', 'c20']);
  });

  it('does not save a cursor past a page whose processing failed', async () => {
    // Prepare
    const { ctx, saved } = memoryContext();
    const source = cursorSource(30, 10);

    // Act
    const run = paginateCursor(ctx, {
      fetchPage: source.fetchPage,
      processPage: async (items) => {
        if (items[0] === 10) throw new Error('database down');
      },
    });

    // Assess: the second page will be fetched again by the next run.
    await expect(run).rejects.toThrow('database down');
    expect(saved).toEqual(['c10']);
  });

  it('fails when a source gives back the cursor it was given', async () => {
    const { ctx } = memoryContext({ cursor: 'same' });
    const run = paginateCursor(ctx, {
      fetchPage: async () => ({ items: [1], nextCursor: 'same' }),
      processPage: async () => {},
    });
    await expect(run).rejects.toThrow(PaginationError);
    await expect(run).rejects.toThrow(/"same" gave "same" as its next cursor/);
  });

  it('stops as partial after maxPages', async () => {
    const { ctx } = memoryContext();
    const result = await paginateCursor(ctx, {
      ...cursorSource(100, 10),
      processPage: async () => {},
      maxPages: 3,
    });
    expect(result).toEqual({ status: 'partial', cursor: 'c30', pages: 3, items: 30 });
  });
});

describe('paginateOffset', () => {
  it('pages by offset until a short page, resuming from a saved offset', async () => {
    // Prepare
    const rows = Array.from({ length: 23 }, (_, i) => `row-${i}`);
    const asked: [number, number][] = [];
    const fetchPage = async (offset: number, limit: number) => {
      asked.push([offset, limit]);
      return rows.slice(offset, offset + limit);
    };
    const processed: string[] = [];
    const first = memoryContext({ checksBeforeTimeout: 1 });

    // Act
    const partial = await paginateOffset(first.ctx, {
      limit: 10,
      fetchPage,
      processPage: async (items) => void processed.push(...items),
    });
    const second = memoryContext({ cursor: partial.cursor });
    const complete = await paginateOffset(second.ctx, {
      limit: 10,
      fetchPage,
      processPage: async (items) => void processed.push(...items),
    });

    // Assess
    expect(partial).toMatchObject({ status: 'partial', cursor: '10' });
    expect(complete).toMatchObject({ status: 'complete', cursor: undefined, pages: 2, items: 13 });
    expect(asked).toEqual([
      [0, 10],
      [10, 10],
      [20, 10],
    ]);
    expect(processed).toEqual(rows);
  });

  it('fails when the saved offset is not a whole number', async () => {
    const { ctx } = memoryContext({ cursor: 'abc' });
    await expect(
      paginateOffset(ctx, { limit: 10, fetchPage: async () => [], processPage: async () => {} }),
    ).rejects.toThrow(PaginationError);
    await expect(
      paginateOffset(ctx, { limit: 0, fetchPage: async () => [], processPage: async () => {} }),
    ).rejects.toThrow(ValidationError);
  });
});

describe('processBatchWithTimeout', () => {
  it('runs items in batches, records each failure, and hands back what the budget left', async () => {
    // Prepare: the budget allows two batches of three.
    let checks = 0;
    const counts = { failed: 0 };
    const started: number[] = [];

    // Act
    const result = await processBatchWithTimeout([1, 2, 3, 4, 5, 6, 7, 8], {
      batchSize: 3,
      checkTimeout: () => ++checks > 2,
      processItem: async (item) => {
        started.push(item);
        if (item === 5) throw new Error('item 5 is bad');
        return item * 10;
      },
      counts,
    });

    // Assess
    expect(result.allDone).toBe(false);
    expect(started).toEqual([1, 2, 3, 4, 5, 6]);
    expect(result.succeeded.map(({ result: value }) => value)).toEqual([10, 20, 30, 40, 60]);
    expect(result.failed).toEqual([{ item: 5, index: 4, error: new Error('item 5 is bad') }]);
    expect(result.remaining).toEqual([7, 8]);
    expect(counts.failed).toBe(1);
  });

  it('reports allDone when every item ran', async () => {
    const result = await processBatchWithTimeout(['a', 'b'], {
      checkTimeout: () => false,
      processItem: async (item) => item,
    });
    expect(result).toMatchObject({ allDone: true, remaining: [] });
    expect(result.succeeded).toHaveLength(2);
  });
});
