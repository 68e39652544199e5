/**
 * How the event log lays its items out in one DynamoDB table (hash key `pk`, range key `sk`):
 *
 * - an event: `pk = e#<stream>#<timeBucket>#<shard>`, `sk = <eventId>`; one hour of one stream spreads
 *   over its write shards, and a reader merges the shards in id order;
 * - the bucket index: `pk = b#<stream>`, `sk = <timeBucket>`, with the set of shards written in that
 *   hour, so that listing a stream's hours, or finding the next one, is one small query, not a scan;
 * - the stream's timing: `pk = t#<stream>`, `sk = timing`, its settle window and commit deadline,
 *   which every writer and reader of the stream uses.
 */
export function eventPartitionKey(stream: string, bucket: string, shard: number): string {
  return `e#${stream}#${bucket}#${shard}`;
}

/**
 * The stream an event item's partition key belongs to, or `undefined` for any other item of the log.
 *
 * @example
 * ```ts
 * streamOfEventPartitionKey('e#orders#2026120506#0'); // 'orders'
 * streamOfEventPartitionKey('b#orders'); // undefined
 * ```
 */
export function streamOfEventPartitionKey(partitionKey: string | undefined): string | undefined {
  if (!partitionKey?.startsWith('e#')) return undefined;
  const end = partitionKey.indexOf('#', 2);
  return end > 2 ? partitionKey.slice(2, end) : undefined;
}

export function bucketIndexPartitionKey(stream: string): string {
  return `b#${stream}`;
}

export function streamTimingKey(stream: string): { readonly pk: string; readonly sk: string } {
  return { pk: `t#${stream}`, sk: 'timing' };
}

/** Picks the write shard of an event: by its partition key when it has one, else round robin. */
export function chooseShard(
  shardCount: number,
  partitionKey: string | undefined,
  roundRobin: number,
): number {
  if (shardCount <= 1) return 0;
  if (partitionKey === undefined) return roundRobin % shardCount;
  return fnv1a(partitionKey) % shardCount;
}

/** 32-bit FNV-1a over UTF-16 code units: stable across processes and versions. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index += 1) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}
