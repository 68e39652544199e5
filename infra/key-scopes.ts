import { BACKFILL_NAME_INFIX } from '../lib/backfill/constants';
import {
  backfillPartition,
  claimsPartition,
  countersPartition,
  failuresPartition,
  malformedPartition,
  markerPartition,
  pipelinePartition,
  pipelineRecordsPartition,
  REGISTRY_PARTITION,
} from '../lib/state/keys';

/**
 * The functions of one pipeline, by the state-table keys each of them reads and writes.
 *
 * - `fetcher` (and the backfill function, which runs the same code): the shared registry of
 *   definitions, the pipeline's state (checkpoint, lease, send plan), its run and seek records, and the
 *   same for its backfills, which are pipelines named `<pipeline>.backfill.<id>`;
 * - `worker`: the pipeline's idempotency markers and its running totals;
 * - `failedHandler`: the pipeline's failure claims, failure records and malformed-message records, and
 *   its markers (read, to leave out events that already succeeded);
 * - `waker`: the pipeline's state (read, to leave new events to a run holding its lease).
 */
export type PipelineFunctionRole = 'fetcher' | 'worker' | 'failedHandler' | 'waker';

/** What IAM's `StringLike` takes for any run of characters, given to a key builder for a part it leaves open. */
const ANY = '*';

/**
 * The partition keys of the state table a function of `pipeline` may touch, as IAM `StringLike`
 * patterns for the `dynamodb:LeadingKeys` condition. Pipeline names hold no `#`, `*` or `?`
 * (`NAME_PATTERN`), so `marker#billing#*` matches billing's markers and nobody else's; and no pipeline
 * of a user's may be named like a backfill (`<name>.backfill.<id>`), so the backfill patterns match only
 * this pipeline's backfills. The patterns are the state table's own partition keys (`lib/state/keys.ts`),
 * built with `*` for the part left open, so they follow any change of the key layout.
 *
 * The registry partition is shared by every pipeline (one item each, keyed by name in the sort key,
 * which IAM cannot condition on): a fetcher may rewrite another pipeline's definition. It runs only
 * Sluice's code; the worker, which runs the user's, cannot reach it.
 *
 * @example
 * ```ts
 * stateKeyPatterns('billing', 'worker'); // ['marker#billing#*', 'counters#billing']
 * ```
 */
export function stateKeyPatterns(pipeline: string, role: PipelineFunctionRole): string[] {
  const backfills = `${pipeline}${BACKFILL_NAME_INFIX}${ANY}`;
  switch (role) {
    case 'fetcher':
      return [
        REGISTRY_PARTITION,
        pipelinePartition(pipeline),
        pipelineRecordsPartition(pipeline, ANY),
        pipelinePartition(backfills),
        backfillPartition(backfills),
      ];
    case 'worker':
      return [markerPartition(pipeline, ANY), countersPartition(pipeline)];
    case 'waker':
      return [pipelinePartition(pipeline)];
    case 'failedHandler':
      return [
        claimsPartition(pipeline),
        failuresPartition(pipeline, ANY),
        malformedPartition(pipeline, ANY),
        markerPartition(pipeline, ANY),
      ];
  }
}

/**
 * The partition keys of the event log that hold `stream`: its events (`e#<stream>#<hour>#<shard>`), its
 * bucket index (`b#<stream>`) and its timing (`t#<stream>`), as IAM `StringLike` patterns. Stream names
 * hold no `#`, `*` or `?`. Without a stream, the patterns of every stream.
 *
 * @example
 * ```ts
 * streamKeyPatterns('orders'); // ['e#orders#*', 'b#orders', 't#orders']
 * ```
 */
export function streamKeyPatterns(stream?: string): string[] {
  if (stream === undefined) return ['e#*', 'b#*', 't#*'];
  return [`e#${stream}#*`, `b#${stream}`, `t#${stream}`];
}

/**
 * The timing item's partition key pattern of `stream` (every stream's without one): a reader stores the
 * stream's default timing when it is the first to use the stream, so readers may write this one item.
 *
 * @example
 * ```ts
 * streamTimingKeyPattern('orders'); // 't#orders'
 * ```
 */
export function streamTimingKeyPattern(stream?: string): string {
  return `t#${stream ?? '*'}`;
}
