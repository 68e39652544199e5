import * as zlib from 'node:zlib';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { CODECS, type Codec, decompress } from '../encoding/codecs';
import { CorruptEventError } from '../errors';
import { eventIdToEpochMs, indexInRun, runIds } from '../time/event-id';
import { ATTRIBUTES } from './constants';
import type { StoredEvent } from './types';

/**
 * How a segment's events are compressed. `br` (Brotli) is what writers use: on order-like JSON of
 * about 1 KB per event it stores 100 events in a sixth of their size, in about 2 ms, and decodes them
 * in a tenth of that (see `docs/storage-format.md`). `identity` is used when compressing would not
 * make the segment smaller. A reader decodes every codec it knows, so segments written with another
 * stay readable; `zstd` only where the runtime's zlib has it.
 */
export type SegmentCodec = Codec;

/** The Brotli quality writers use: measured as the best size for the time (docs/storage-format.md). */
export const SEGMENT_BROTLI_QUALITY = 5;

/** An event ready to be stored: its type, its data as JSON text and its partition key. */
export interface SegmentEntry {
  readonly type: string;
  readonly json: string;
  readonly partitionKey?: string;
}

/** A segment's stored body: its events, compressed, and how. */
export interface EncodedSegment {
  readonly codec: SegmentCodec;
  readonly body: Uint8Array;
  /** The body's size before compression. */
  readonly rawBytes: number;
}

/**
 * Packs the events of one segment into its stored body: a JSON array of `[type, data]` or
 * `[type, data, partitionKey]`, one per event in id order, compressed with Brotli unless that would
 * not save anything.
 *
 * @example
 * ```ts
 * const { codec, body } = encodeSegment([{ type: 'order.placed', json: '{"orderId":"o-1"}' }]);
 * ```
 */
export function encodeSegment(entries: readonly SegmentEntry[]): EncodedSegment {
  const text = `[${entries
    .map(
      (entry) =>
        `[${JSON.stringify(entry.type)},${entry.json}${
          entry.partitionKey === undefined ? '' : `,${JSON.stringify(entry.partitionKey)}`
        }]`,
    )
    .join(',')}]`;
  const raw = Buffer.from(text, 'utf8');
  const compressed = zlib.brotliCompressSync(raw, {
    params: {
      [zlib.constants.BROTLI_PARAM_QUALITY]: SEGMENT_BROTLI_QUALITY,
      [zlib.constants.BROTLI_PARAM_SIZE_HINT]: raw.byteLength,
      [zlib.constants.BROTLI_PARAM_MODE]: zlib.constants.BROTLI_MODE_TEXT,
    },
  });
  return compressed.byteLength < raw.byteLength
    ? { codec: 'br', body: new Uint8Array(compressed), rawBytes: raw.byteLength }
    : { codec: 'identity', body: new Uint8Array(raw), rawBytes: raw.byteLength };
}

/**
 * The item of a segment: keyed by its last event's id (so that the segments holding an event after a
 * position are exactly those keyed after it), with the count of its events per type, so that a count
 * or a type filter need not open it.
 *
 * @example
 * ```ts
 * const item = segmentItem('e#orders#20261205090000#0', ids, entries, encodeSegment(entries));
 * ```
 */
export function segmentItem(
  partitionKey: string,
  ids: readonly string[],
  entries: readonly SegmentEntry[],
  encoded: EncodedSegment,
  expiresAt: number | undefined,
): Record<string, AttributeValue> {
  const counts = new Map<string, number>();
  for (const entry of entries) counts.set(entry.type, (counts.get(entry.type) ?? 0) + 1);
  const item: Record<string, AttributeValue> = {
    [ATTRIBUTES.partitionKey]: { S: partitionKey },
    [ATTRIBUTES.sortKey]: { S: ids.at(-1) as string },
    [ATTRIBUTES.codec]: { S: encoded.codec },
    [ATTRIBUTES.events]: { B: encoded.body },
    [ATTRIBUTES.counts]: {
      M: Object.fromEntries([...counts].map(([type, count]) => [type, { N: String(count) }])),
    },
  };
  if (expiresAt !== undefined) item[ATTRIBUTES.expiresAt] = { N: String(expiresAt) };
  return item;
}

/** An event read from a segment, with its share of the segment's size before compression. */
export interface DecodedEvent<TData> {
  readonly event: StoredEvent<TData>;
  readonly bytes: number;
}

/**
 * The events an item of the log holds, in id order: a segment's, or the one event of an item written
 * before segments (which kept `type` and `data` as attributes, keyed by the event's id).
 *
 * @throws `CorruptEventError` when the item cannot be read: an unknown codec, a body that does not
 * decompress or is not the JSON it should be.
 *
 * @example
 * ```ts
 * for (const { event } of decodeSegment('orders', item)) console.log(event.id, event.type);
 * ```
 */
export function decodeSegment<TData>(
  stream: string,
  item: Record<string, AttributeValue>,
): DecodedEvent<TData>[] {
  const lastId = item[ATTRIBUTES.sortKey]?.S as string;
  const body = item[ATTRIBUTES.events]?.B;
  if (body === undefined) return [decodeSingleEventItem<TData>(stream, lastId, item)];
  const codec = item[ATTRIBUTES.codec]?.S ?? 'identity';
  // Only an unreadable segment needs its ids listed: a readable one gets them from segmentEventsOf.
  const corrupt = (reason: string, cause?: unknown) => {
    const heldIds = runIds(lastId, indexInRun(lastId) + 1);
    return new CorruptEventError(
      {
        stream,
        eventId: heldIds[0] as string,
        eventIds: heldIds,
        reason: `the segment ending at ${lastId} ${reason}`,
      },
      cause === undefined ? undefined : { cause },
    );
  };
  let text: string;
  try {
    text = decompress(codec, body).toString('utf8');
  } catch (error) {
    throw corrupt(`does not decode with codec '${codec}' (${(error as Error).message})`, error);
  }
  let events: SegmentEvent<TData>[];
  try {
    events = segmentEventsOf<TData>(lastId, text);
  } catch (error) {
    throw corrupt((error as Error).message, error);
  }
  const time = new Date(eventIdToEpochMs(lastId));
  const bytes = Math.ceil(text.length / events.length);
  return events.map((event) => ({ event: { ...event, stream, time }, bytes }));
}

/** An event as a segment holds it: its id follows from the segment's key and its place. */
export interface SegmentEvent<TData = unknown> {
  readonly id: string;
  readonly type: string;
  readonly data: TData;
  readonly partitionKey?: string;
}

/**
 * The events of a segment from its decompressed text and its last event's id (the segment's key,
 * from which every id of its run follows): what the log and a worker reading a forwarded segment
 * both use.
 *
 * @throws `Error` saying what is wrong: text that is not JSON, a count that does not match the key,
 * an entry that is not `[type, data, partitionKey?]`.
 *
 * @example
 * ```ts
 * segmentEventsOf('018f3a6c-1d2e-7000-8000-000000000001', '[["a",{}],["b",{}]]'); // two events
 * ```
 */
export function segmentEventsOf<TData = unknown>(lastId: string, text: string): SegmentEvent<TData>[] {
  let entries: unknown;
  try {
    entries = JSON.parse(text);
  } catch (error) {
    throw new Error(`is not JSON (${(error as Error).message})`, { cause: error });
  }
  const count = indexInRun(lastId) + 1;
  if (!Array.isArray(entries) || entries.length !== count) {
    throw new Error(`should hold ${count} events`);
  }
  const ids = runIds(lastId, count);
  return entries.map((entry: unknown, index) => {
    if (!Array.isArray(entry) || typeof entry[0] !== 'string' || entry.length < 2) {
      throw new Error(`has an event ${index} that is not [type, data, partitionKey?]`);
    }
    const [type, data, partitionKey] = entry as [string, TData, unknown];
    return {
      id: ids[index] as string,
      type,
      data,
      ...(typeof partitionKey === 'string' ? { partitionKey } : {}),
    };
  });
}

/** A compressed segment as stored: what a reader can forward without decoding it. */
export interface StoredSegment {
  /** Its last event's id, its key: the ids of its events follow from it. */
  readonly lastId: string;
  readonly codec: Codec;
  readonly body: Uint8Array;
  /** How many events it holds. */
  readonly count: number;
}

/**
 * The stored form of a log item that is a compressed segment, for forwarding as it is; `undefined`
 * for an item of one event written before segments, or a segment stored uncompressed.
 *
 * @example
 * ```ts
 * const segment = storedSegmentOf(item); // { lastId, codec: 'br', body, count: 100 }
 * ```
 */
export function storedSegmentOf(item: Record<string, AttributeValue>): StoredSegment | undefined {
  const body = item[ATTRIBUTES.events]?.B;
  const codec = item[ATTRIBUTES.codec]?.S;
  const lastId = item[ATTRIBUTES.sortKey]?.S;
  if (body === undefined || lastId === undefined || codec === undefined) return undefined;
  if (codec !== CODECS.brotli && codec !== CODECS.deflateRaw) return undefined;
  return { lastId, codec, body, count: indexInRun(lastId) + 1 };
}

function decodeSingleEventItem<TData>(
  stream: string,
  id: string,
  item: Record<string, AttributeValue>,
): DecodedEvent<TData> {
  const json = item[ATTRIBUTES.data]?.S ?? '';
  let data: TData;
  try {
    data = JSON.parse(json) as TData;
  } catch (error) {
    throw new CorruptEventError({ stream, eventId: id, reason: 'its data is not JSON' }, { cause: error });
  }
  const partitionKey = item[ATTRIBUTES.eventPartitionKey]?.S;
  return {
    event: {
      id,
      stream,
      type: item[ATTRIBUTES.type]?.S as string,
      time: new Date(eventIdToEpochMs(id)),
      data,
      ...(partitionKey === undefined ? {} : { partitionKey }),
    },
    bytes: json.length + 100,
  };
}

/**
 * How many events of the given types (all types when none are given) a log item holds, read from its
 * counts without opening it.
 *
 * @example
 * ```ts
 * segmentEventCount(item, ['order.placed']); // 42
 * ```
 */
export function segmentEventCount(
  item: Record<string, AttributeValue>,
  types: readonly string[] | undefined,
): number {
  const counts = item[ATTRIBUTES.counts]?.M;
  if (counts === undefined) {
    const type = item[ATTRIBUTES.type]?.S;
    return types === undefined || (type !== undefined && types.includes(type)) ? 1 : 0;
  }
  let total = 0;
  for (const [type, count] of Object.entries(counts)) {
    if (types === undefined || types.includes(type)) total += Number(count.N ?? 0);
  }
  return total;
}
