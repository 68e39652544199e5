import type { WhenDone } from '../sync/paginate';
import type { RecordChange } from '../sync/upsert';

/** One page of records, as a source reads it from a response body. */
export interface SourcePage<TRecord> {
  readonly records: readonly TRecord[];
  /** The cursor of the next page; `undefined` or `null` after the last. */
  readonly nextCursor?: string | null | undefined;
}

/** A record's change, as `toEvent` is told it. */
export interface IngestChange extends RecordChange {
  /** The record's key. */
  readonly key: string;
}

/** The event a changed record becomes (its stream is the ingest's). */
export interface IngestEvent {
  readonly type: string;
  readonly data: unknown;
  /** @default the record's key, so a record's changes stay in order on FIFO pipelines */
  readonly partitionKey?: string;
}

/**
 * How to page an external HTTP API, and what its records become. `httpJsonSource` builds one for the
 * common JSON shape `{ items: [...], nextCursor: "..." }`; write one for anything else.
 *
 * @example
 * ```ts
 * const customers: IngestSource<Customer> = {
 *   name: 'crm-customers',
 *   url: (cursor) => `https://crm.example.com/v2/customers?limit=100${cursor ? `&after=${encodeURIComponent(cursor)}` : ''}`,
 *   parsePage: (body) => {
 *     const { data, has_more } = body as { data: Customer[]; has_more: boolean };
 *     return { records: data, nextCursor: has_more ? data.at(-1)?.id : undefined };
 *   },
 *   recordKey: (customer) => customer.id,
 *   contentOf: ({ last_seen_at, ...rest }) => rest, // a field that changes on every read is not a change
 *   toEvent: (customer, change) => ({ type: `customer.${change.action}`, data: customer }),
 * };
 * ```
 */
export interface IngestSource<TRecord = unknown> {
  /**
   * Names the source's lock, cursor and content hashes: 1 to 128 letters, digits, dots, colons,
   * underscores or hyphens. Two ingests of one source must share it; different sources must not.
   */
  readonly name: string;
  /** The URL of the page at `cursor` (`undefined`: the first page). */
  url(cursor: string | undefined): string | URL;
  /** Reads a response body into records and the next page's cursor; throws on a body it does not know. */
  parsePage(body: unknown): SourcePage<TRecord>;
  /** The record's stable key in the source (its id): changes are detected per key. */
  recordKey(record: TRecord): string;
  /** The event a new or changed record is committed as. */
  toEvent(record: TRecord, change: IngestChange): IngestEvent;
  /**
   * What of a record is hashed to tell a change: leave out fields that change on every read.
   * @default the whole record
   */
  contentOf?(record: TRecord): unknown;
  /** Request headers, such as an API key; called once per run. @default none */
  headers?(): Readonly<Record<string, string>> | Promise<Readonly<Record<string, string>>>;
  /**
   * Where the next run starts after the last page: `'restart'` sweeps the whole source again (so
   * changes to old records are found), `'stay'` reads on from the last page (an append-only feed).
   * @default 'restart'
   */
  readonly whenDone?: WhenDone;
}
