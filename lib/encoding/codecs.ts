import * as zlib from 'node:zlib';

/**
 * The ways Sluice compresses a list of events, as a stored segment or a message body names them:
 * `br` (Brotli, what the log writes), `deflate-raw` (what message bodies are written with),
 * `identity` (stored as is, when compressing would not make it smaller) and `zstd` (read where the
 * runtime's zlib has it). One list, so that the log and the messages cannot disagree on a name.
 */
export const CODECS = {
  brotli: 'br',
  deflateRaw: 'deflate-raw',
  identity: 'identity',
  zstd: 'zstd',
} as const;

/** One of {@link CODECS}. */
export type Codec = (typeof CODECS)[keyof typeof CODECS];

/**
 * Whether a name is one of {@link CODECS}.
 *
 * @example
 * ```ts
 * isCodec('br'); // true
 * ```
 */
export function isCodec(name: string): name is Codec {
  return (Object.values(CODECS) as string[]).includes(name);
}

/** Thrown by {@link decompress} when the bytes would decompress to more than the limit given. */
export const DECOMPRESSED_TOO_LARGE = 'ERR_BUFFER_TOO_LARGE';

/**
 * The bytes that `compressed` holds under `codec`.
 *
 * @throws `Error` naming the problem: an unknown codec, `zstd` on a runtime without it, bytes that
 * do not decompress, or (with `code` {@link DECOMPRESSED_TOO_LARGE}) more than `maxOutputLength`.
 *
 * @example
 * ```ts
 * decompress('br', item.events.B, 64 * 1_048_576).toString('utf8');
 * ```
 */
export function decompress(codec: string, compressed: Uint8Array, maxOutputLength?: number): Buffer {
  const limits = maxOutputLength === undefined ? {} : { maxOutputLength };
  switch (codec) {
    case CODECS.brotli:
      return zlib.brotliDecompressSync(compressed, limits);
    case CODECS.deflateRaw:
      return zlib.inflateRawSync(compressed, limits);
    case CODECS.identity: {
      if (maxOutputLength !== undefined && compressed.byteLength > maxOutputLength)
        throw Object.assign(new Error(`more than ${maxOutputLength} bytes`), {
          code: DECOMPRESSED_TOO_LARGE,
        });
      return Buffer.from(compressed.buffer, compressed.byteOffset, compressed.byteLength);
    }
    case CODECS.zstd: {
      const zstd = (zlib as { zstdDecompressSync?: (buffer: Uint8Array, options?: object) => Buffer })
        .zstdDecompressSync;
      if (!zstd) throw new Error('this Node.js runtime has no zstd');
      return zstd(compressed, limits);
    }
    default:
      throw new Error(`unknown codec ${JSON.stringify(codec)} (known: ${Object.values(CODECS).join(', ')})`);
  }
}
