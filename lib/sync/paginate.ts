import { describe, ValidationError } from '../errors';
import { SYNC_STATUS, type SyncStatus } from './constants';
import { PaginationError } from './errors';
import type { SyncCounts } from './types';

/**
 * What pagination needs from a sync run: where to start, when to stop, and how to save progress.
 * The context `withSyncRun` passes its function has all of it; tests can pass a plain object.
 */
export interface PaginationContext {
  /** The saved cursor to start from; `undefined` for the first page. */
  readonly cursor: string | undefined;
  /** True once the run's time budget is spent: pagination stops before fetching another page. */
  checkTimeout(): boolean;
  /** Saves where the next run starts (for a sync run: fenced by its lock, never backwards). */
  saveCursor(cursor: string | undefined): Promise<void>;
  /** Counters to add pages and fetched records to, when given. */
  readonly counts?: Pick<SyncCounts, 'pages' | 'fetched'>;
}

/**
 * Where the next run starts once the last page has been processed: `'restart'` from the first page
 * (a full sweep each run, where content hashes skip what did not change), or `'stay'` at the last
 * page's cursor (an append-only source, read again from its tail).
 */
export type WhenDone = 'restart' | 'stay';

/** One page of a cursor-paginated source. */
export interface CursorPage<T> {
  readonly items: readonly T[];
  /** The cursor of the next page; `undefined` or `null` when this was the last. */
  readonly nextCursor?: string | null | undefined;
}

/** Which page `fetchPage` and `processPage` are at. */
export interface PageInfo {
  /** 0 for the first page of this run. */
  readonly index: number;
  /** The cursor (or offset, as a string) the page was fetched with. */
  readonly cursor: string | undefined;
}

/** Options of {@link paginateCursor}. */
export interface PaginateCursorOptions<T> {
  /** Fetches the page at `cursor` (`undefined`: the first). */
  fetchPage(cursor: string | undefined, page: PageInfo): Promise<CursorPage<T>>;
  /** Processes a page; the cursor past it is saved only after this resolves. */
  processPage(items: readonly T[], page: PageInfo): Promise<void>;
  /** @default 'restart' */
  readonly whenDone?: WhenDone;
  /** The most pages this run fetches before it stops as `partial`. @default no limit */
  readonly maxPages?: number;
}

/** Options of {@link paginateOffset}. */
export interface PaginateOffsetOptions<T> {
  /** Items asked for per page; a shorter page is the last. */
  readonly limit: number;
  /** Fetches `limit` items from `offset`. */
  fetchPage(offset: number, limit: number, page: PageInfo): Promise<readonly T[]>;
  /** Processes a page; the offset past it is saved only after this resolves. */
  processPage(items: readonly T[], page: PageInfo): Promise<void>;
  /** @default 'restart' */
  readonly whenDone?: WhenDone;
  /** @default no limit */
  readonly maxPages?: number;
}

/** How pagination ended. */
export interface PaginationResult {
  /** `complete` after the last page; `partial` when the time budget (or `maxPages`) stopped it. */
  readonly status: SyncStatus;
  /** The saved cursor: where the next run starts. */
  readonly cursor: string | undefined;
  /** Pages fetched in this run. */
  readonly pages: number;
  /** Items fetched in this run. */
  readonly items: number;
}

/**
 * Pages through a cursor-paginated source: fetch a page, process it, save the cursor of the next,
 * and again, until the last page or the time budget. Resumes from `ctx.cursor`, so a run that stops
 * part-way (budget, crash) is continued by the next one from the last page it finished: each page is
 * processed at least once, and a page is processed again only when a run crashed inside it.
 *
 * The budget is checked before each fetch, never in the middle of a page. A source that hands back
 * the cursor it was given would loop for ever; that is refused with a `PaginationError`.
 *
 * @example
 * ```ts
 * const result = await paginateCursor(ctx, {
 *   fetchPage: async (cursor) => {
 *     const list = await stripe.charges.list({ limit: 100, ...(cursor ? { starting_after: cursor } : {}) });
 *     return { items: list.data, nextCursor: list.has_more ? list.data.at(-1)?.id : undefined };
 *   },
 *   processPage: async (charges) => saveCharges(charges),
 * });
 * if (result.status === 'partial') console.log('resumes next run at', result.cursor);
 * ```
 */
export async function paginateCursor<T>(
  ctx: PaginationContext,
  options: PaginateCursorOptions<T>,
): Promise<PaginationResult> {
  const whenDone = checkWhenDone(options.whenDone);
  const maxPages = checkMaxPages(options.maxPages);
  let cursor = ctx.cursor;
  let pages = 0;
  let items = 0;
  for (;;) {
    if (ctx.checkTimeout() || pages >= maxPages) return { status: SYNC_STATUS.partial, cursor, pages, items };
    const page: PageInfo = { index: pages, cursor };
    const fetched = await options.fetchPage(cursor, page);
    const pageItems = fetched.items;
    pages += 1;
    items += pageItems.length;
    count(ctx, pageItems.length);
    await options.processPage(pageItems, page);
    const next = fetched.nextCursor ?? undefined;
    if (next === undefined) {
      const final = whenDone === 'restart' ? undefined : cursor;
      // `cursor` is what is stored now: the last cursor saved, or the one the run started from.
      if (final !== cursor) await ctx.saveCursor(final);
      return { status: SYNC_STATUS.complete, cursor: final, pages, items };
    }
    if (typeof next !== 'string' || next === cursor) {
      throw new PaginationError(
        `the page at cursor ${describe(cursor)} gave ${describe(next)} as its next cursor; pagination cannot move on`,
        cursor,
      );
    }
    await ctx.saveCursor(next);
    cursor = next;
  }
}

/**
 * Pages through an offset-paginated source (`?offset=200&limit=100`) as {@link paginateCursor} does,
 * saving the offset as the cursor. A page shorter than `limit` is the last. Offsets shift when the
 * source inserts or deletes records while it is read, so prefer a cursor where the source has one.
 *
 * @example
 * ```ts
 * await paginateOffset(ctx, {
 *   limit: 100,
 *   fetchPage: async (offset, limit) => mercury.listTransactions({ offset, limit }),
 *   processPage: async (transactions) => saveTransactions(transactions),
 * });
 * ```
 */
export async function paginateOffset<T>(
  ctx: PaginationContext,
  options: PaginateOffsetOptions<T>,
): Promise<PaginationResult> {
  const { limit } = options;
  if (!Number.isInteger(limit) || limit < 1) {
    throw new ValidationError(`limit must be a whole number, 1 or more (given ${describe(limit)})`, limit);
  }
  const start = parseOffset(ctx.cursor);
  let offset = start;
  return paginateCursor<T>(
    { ...ctx, cursor: start === 0 ? undefined : String(start) },
    {
      ...(options.whenDone === undefined ? {} : { whenDone: options.whenDone }),
      ...(options.maxPages === undefined ? {} : { maxPages: options.maxPages }),
      fetchPage: async (cursor, page) => {
        offset = parseOffset(cursor);
        const pageItems = await options.fetchPage(offset, limit, page);
        return {
          items: pageItems,
          nextCursor: pageItems.length < limit ? undefined : String(offset + pageItems.length),
        };
      },
      processPage: options.processPage,
    },
  );
}

function parseOffset(cursor: string | undefined): number {
  if (cursor === undefined) return 0;
  if (!/^\d{1,15}$/.test(cursor)) {
    throw new PaginationError(`saved offset ${describe(cursor)} is not a whole number, 0 or more`, cursor);
  }
  return Number(cursor);
}

function count(ctx: PaginationContext, items: number): void {
  if (!ctx.counts) return;
  ctx.counts.pages += 1;
  ctx.counts.fetched += items;
}

function checkWhenDone(whenDone: unknown): WhenDone {
  if (whenDone === undefined) return 'restart';
  if (whenDone === 'restart' || whenDone === 'stay') return whenDone;
  throw new ValidationError(`whenDone must be 'restart' or 'stay' (given ${describe(whenDone)})`, whenDone);
}

function checkMaxPages(maxPages: unknown): number {
  if (maxPages === undefined) return Number.POSITIVE_INFINITY;
  if (typeof maxPages === 'number' && Number.isInteger(maxPages) && maxPages >= 1) return maxPages;
  throw new ValidationError(
    `maxPages must be a whole number, 1 or more (given ${describe(maxPages)})`,
    maxPages,
  );
}
