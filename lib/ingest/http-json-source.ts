import { describe, ValidationError } from '../errors';
import type { IngestSource } from './types';

/** Options of {@link httpJsonSource}. */
export interface HttpJsonSourceOptions {
  /** The source's name (see `IngestSource.name`). */
  readonly name: string;
  /** The first page's URL, with any fixed query parameters (`?limit=100`). */
  readonly url: string;
  /** The event type records are committed as. */
  readonly eventType: string;
  /** The query parameter that carries the cursor. @default 'cursor' */
  readonly cursorParam?: string;
  /** The field of the body that holds the records (dots for nested fields: `data.items`). @default 'items' */
  readonly itemsField?: string;
  /** The field of the body that holds the next cursor, absent or null after the last page. @default 'nextCursor' */
  readonly nextCursorField?: string;
  /** The field of each record that holds its key (a string or a number). @default 'id' */
  readonly keyField?: string;
  /** Request headers. @default none */
  readonly headers?: Readonly<Record<string, string>>;
}

/** A JSON record, as the source reads it. */
export type JsonRecord = Readonly<Record<string, unknown>>;

/**
 * An {@link IngestSource} for the usual JSON list API: `GET url?cursor=...` answers
 * `{ "items": [...], "nextCursor": "..." }` (field names configurable). Each new or changed record is
 * committed as an event of `eventType` whose data is `{ key, action, record }`, `action` being
 * `created` or `updated`.
 *
 * @throws `ValidationError` from `parsePage` for a body without the records array, or a record without
 * its key, naming the field and the value found.
 *
 * @example
 * ```ts
 * const source = httpJsonSource({
 *   name: 'crm-customers',
 *   url: 'https://crm.example.com/customers?limit=100',
 *   eventType: 'customer.changed',
 * });
 * ```
 */
export function httpJsonSource(options: HttpJsonSourceOptions): IngestSource<JsonRecord> {
  const cursorParam = options.cursorParam ?? 'cursor';
  const itemsField = options.itemsField ?? 'items';
  const nextCursorField = options.nextCursorField ?? 'nextCursor';
  const keyField = options.keyField ?? 'id';
  const base = new URL(options.url);
  return {
    name: options.name,
    url: (cursor) => {
      const url = new URL(base);
      if (cursor !== undefined) url.searchParams.set(cursorParam, cursor);
      return url;
    },
    parsePage: (body) => {
      const records = fieldAt(body, itemsField);
      if (
        !Array.isArray(records) ||
        records.some((record) => typeof record !== 'object' || record === null)
      ) {
        throw new ValidationError(
          `the response of ${options.url} must hold an array of objects at '${itemsField}' (found ${describe(records)})`,
          body,
        );
      }
      const next = fieldAt(body, nextCursorField);
      if (next !== undefined && next !== null && typeof next !== 'string' && typeof next !== 'number') {
        throw new ValidationError(
          `the response of ${options.url} must hold a string, a number or null at '${nextCursorField}' (found ${describe(next)})`,
          body,
        );
      }
      return {
        records: records as JsonRecord[],
        nextCursor: next === undefined || next === null ? undefined : String(next),
      };
    },
    recordKey: (record) => {
      const key = record[keyField];
      if (typeof key === 'string' && key !== '') return key;
      if (typeof key === 'number' && Number.isFinite(key)) return String(key);
      throw new ValidationError(
        `a record from ${options.url} has no usable key at '${keyField}' (found ${describe(key)} in ${describe(record)})`,
        record,
      );
    },
    toEvent: (record, change) => ({
      type: options.eventType,
      data: { key: change.key, action: change.action, record },
    }),
    ...(options.headers ? { headers: () => options.headers as Readonly<Record<string, string>> } : {}),
  };
}

function fieldAt(body: unknown, path: string): unknown {
  let value = body;
  for (const part of path.split('.')) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}
