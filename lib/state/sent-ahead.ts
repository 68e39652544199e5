import { ValidationError } from '../errors';
import { idInRun, indexInRun } from '../time/event-id';
import { isDeliveredAt, type Position } from '../time/position';

// The record of events a fetcher sent before the stream's settle window had passed them
// (`docs/early-delivery.md`): their ids, kept with the checkpoint until the checkpoint moves past
// them, so that the read that meets them again once they settle skips them.

/**
 * The messages being sent for some of the ids, written before the first is sent: a successor finds
 * those events again by id and packs them the same way, into the same messages.
 */
export interface AheadPlan {
  /** The events of the plan, in id order; each is also in `SentAhead.ids`. */
  readonly ids: readonly string[];
  /** How many messages they were packed into. */
  readonly messages: number;
  readonly maxEventsPerMessage: number;
  readonly maxMessageBytes: number;
}

/** Events sent ahead of the settled horizon, past the checkpoint's position. */
export interface SentAhead {
  /** The replay epoch they were sent in; a record of another epoch is void (a seek clears it anyway). */
  readonly epoch: number;
  /** In id order. */
  readonly ids: readonly string[];
  readonly plan?: AheadPlan;
}

/**
 * The most runs of ids one record keeps, about 37 bytes each: a settle window of single-event commits
 * at 100 a second. The record is stored with every checkpoint write, which DynamoDB bills by the KB.
 */
export const MAX_SENT_AHEAD_RUNS = 160;

/**
 * Ids as their runs: `<id without its last byte>.<last bytes and ranges of them>`, so that the
 * hundred ids of one commit take about as much room as one.
 *
 * @example
 * ```ts
 * encodeIds(['018f3a6c-1d2e-7000-8000-000000000000', '018f3a6c-1d2e-7000-8000-000000000001']);
 * // ['018f3a6c-1d2e-7000-8000-0000000000.00-01']
 * ```
 */
export function encodeIds(ids: readonly string[]): string[] {
  const runs = new Map<string, string[]>();
  for (const id of [...ids].sort()) {
    const prefix = id.slice(0, -2);
    const run = runs.get(prefix) ?? [];
    run.push(id);
    runs.set(prefix, run);
  }
  return [...runs].map(([prefix, run]) => `${prefix}.${ranges(run).join(',')}`);
}

/**
 * The ids `encodeIds` encoded, in id order.
 *
 * @example
 * ```ts
 * decodeIds(['018f3a6c-1d2e-7000-8000-0000000000.00-01']); // two ids
 * ```
 */
export function decodeIds(runs: readonly string[]): string[] {
  const ids: string[] = [];
  for (const run of runs) {
    const dot = run.lastIndexOf('.');
    const first = `${run.slice(0, dot)}00`;
    for (const range of run.slice(dot + 1).split(',')) {
      const [low, high] = rangeBounds(range);
      if (dot < 0 || low === undefined || high === undefined)
        throw ValidationError.invalidRange('a stored run of ids sent ahead', run);
      for (let index = low; index <= high; index += 1) ids.push(idInRun(first, index));
    }
  }
  return ids.sort();
}

/**
 * How many runs `ids` fall into.
 *
 * @example
 * ```ts
 * runCount(['…-000000000000', '…-000000000001']); // 1
 * ```
 */
export function runCount(ids: Iterable<string>): number {
  const prefixes = new Set<string>();
  for (const id of ids) prefixes.add(id.slice(0, -2));
  return prefixes.size;
}

/**
 * The record as stored in the pipeline's state item.
 *
 * @example
 * ```ts
 * serializeSentAhead({ epoch: 0, ids: [id] }); // '{"e":0,"r":["….00"]}'
 * ```
 */
export function serializeSentAhead(sentAhead: SentAhead): string {
  const { plan } = sentAhead;
  return JSON.stringify({
    e: sentAhead.epoch,
    r: encodeIds(sentAhead.ids),
    ...(plan
      ? {
          p: {
            r: encodeIds(plan.ids),
            m: plan.messages,
            n: plan.maxEventsPerMessage,
            b: plan.maxMessageBytes,
          },
        }
      : {}),
  });
}

/**
 * A stored record, as `serializeSentAhead` wrote it.
 *
 * @example
 * ```ts
 * parseSentAhead(item.sentAhead.S); // { epoch: 0, ids: [...] }
 * ```
 */
export function parseSentAhead(stored: string): SentAhead {
  const value = JSON.parse(stored) as {
    e: number;
    r: string[];
    p?: { r: string[]; m: number; n: number; b: number };
  };
  return {
    epoch: value.e,
    ids: decodeIds(value.r),
    ...(value.p
      ? {
          plan: {
            ids: decodeIds(value.p.r),
            messages: value.p.m,
            maxEventsPerMessage: value.p.n,
            maxMessageBytes: value.p.b,
          },
        }
      : {}),
  };
}

/**
 * The record once the checkpoint stands at `position`: ids at or before it are dropped, since no read
 * from there meets them again. A record with a plan is kept whole until the plan is sent.
 *
 * @example
 * ```ts
 * pruneSentAhead(sentAhead, checkpoint); // undefined once every id is behind it
 * ```
 */
export function pruneSentAhead(sentAhead: SentAhead | undefined, position: Position): SentAhead | undefined {
  if (!sentAhead || sentAhead.plan) return sentAhead;
  const ids = sentAhead.ids.filter((id) => !isDeliveredAt(position, id));
  if (ids.length === 0) return undefined;
  return ids.length === sentAhead.ids.length ? sentAhead : { epoch: sentAhead.epoch, ids };
}

/** `00` or `00-0f` as its first and last index, or nothing when it is neither. */
function rangeBounds(range: string): [number, number] | [] {
  const match = /^([0-9a-f]{2})(?:-([0-9a-f]{2}))?$/.exec(range);
  if (!match) return [];
  const low = indexInRun(match[1] as string);
  const high = match[2] === undefined ? low : indexInRun(match[2]);
  return high < low ? [] : [low, high];
}

/** A run's ids (sorted) as their last bytes, consecutive ones as `first-last`. */
function ranges(run: readonly string[]): string[] {
  const out: string[] = [];
  let start = 0;
  for (let index = 1; index <= run.length; index += 1) {
    const id = run[index];
    if (id !== undefined && indexInRun(id) === indexInRun(run[index - 1] as string) + 1) continue;
    const low = (run[start] as string).slice(-2);
    const high = (run[index - 1] as string).slice(-2);
    out.push(low === high ? low : `${low}-${high}`);
    start = index;
  }
  return out;
}
