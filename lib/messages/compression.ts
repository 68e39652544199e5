import { deflateRawSync } from 'node:zlib';
import { CODECS, DECOMPRESSED_TOO_LARGE, decompress } from '../encoding/codecs';

/**
 * The ways the events of a message body may be compressed, as a body's `codec` field names them.
 * Sluice writes `deflate-raw` (chosen by measurement, see docs/message-format.md) and reads both.
 */
export const EVENTS_CODECS = { deflateRaw: CODECS.deflateRaw, brotli: CODECS.brotli } as const;

/** One of {@link EVENTS_CODECS}. */
export type EventsCodec = (typeof EVENTS_CODECS)[keyof typeof EVENTS_CODECS];

/** The codec Sluice writes with. */
export const WRITTEN_EVENTS_CODEC: EventsCodec = EVENTS_CODECS.deflateRaw;

/**
 * The most bytes the events of one body may take once decompressed: a body that would decompress to
 * more is refused as malformed, so that a small foreign body cannot make a worker inflate gigabytes.
 * A body Sluice writes never comes near it (a message holds at most 1 MiB of compressed events).
 */
export const MAX_DECOMPRESSED_EVENTS_BYTES = 64 * 1_048_576;

/** deflate level 6: zlib's default, its best ratio for the time on order-like JSON. */
const DEFLATE_LEVEL = 6;

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * The JSON text of a list of events, compressed with {@link WRITTEN_EVENTS_CODEC} and written in
 * base64, the form a message body carries.
 *
 * @example
 * ```ts
 * const payload = compressEvents('[{"id":"…","type":"order.placed","data":{}}]');
 * ```
 */
export function compressEvents(json: string): string {
  return deflateRawSync(Buffer.from(json, 'utf8'), { level: DEFLATE_LEVEL }).toString('base64');
}

/**
 * The JSON text of the events of a body, from their base64 and the codec that compressed them.
 *
 * @throws `Error` naming the problem: an unknown codec, text that is not base64, bytes that do not
 * decompress, or more than {@link MAX_DECOMPRESSED_EVENTS_BYTES} once decompressed.
 *
 * @example
 * ```ts
 * decompressEvents('deflate-raw', compressEvents('[]')); // '[]'
 * ```
 */
export function decompressEvents(codec: string, base64: string): string {
  if (!isEventsCodec(codec))
    throw new Error(
      `codec: unknown codec ${JSON.stringify(codec)} (known: ${Object.values(EVENTS_CODECS).join(', ')})`,
    );
  if (base64.length % 4 !== 0 || !BASE64.test(base64)) throw new Error('events: not base64 text');
  const compressed = Buffer.from(base64, 'base64');
  let bytes: Buffer;
  try {
    bytes = decompress(codec, compressed, MAX_DECOMPRESSED_EVENTS_BYTES);
  } catch (error) {
    const reason =
      (error as { code?: unknown }).code === DECOMPRESSED_TOO_LARGE
        ? `decompresses to more than ${MAX_DECOMPRESSED_EVENTS_BYTES} bytes`
        : `does not decompress with ${codec} (${(error as Error).message})`;
    throw new Error(`events: ${reason}`, { cause: error });
  }
  return bytes.toString('utf8');
}

function isEventsCodec(codec: string): codec is EventsCodec {
  return (Object.values(EVENTS_CODECS) as string[]).includes(codec);
}
