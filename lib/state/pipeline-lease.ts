import { LeaseLostError, MissingResourceError } from '../errors';
import { assertWholeMilliseconds } from '../validation/whole-milliseconds';
import {
  acquireLease,
  LEASE_HELD,
  type LeaseItem,
  leaseHeldValues,
  leaseLostReason,
  releaseLease,
  renewLease,
} from './fenced-lease';
import { pipelineStateKey } from './keys';
import { LEAVING_ATTRIBUTE, LOOKS_ATTRIBUTE } from './lease-hand-over';
import { type PipelineTable, parseState } from './pipeline-items';
import { type Item, refusal, updateItem } from './state-table';
import type { Lease } from './types';

// A fetcher's fenced lease on a pipeline's state item (see `fenced-lease.ts`).

/** How long a fetcher's lease may last. */
const LEASE_DURATION_RANGE = { min: 1_000, max: 3_600_000 } as const;

/** Throws a `ValidationError` unless `durationMs` is a lease duration from 1 s to 1 h, in whole ms. */
export function checkLeaseDuration(durationMs: number): void {
  assertWholeMilliseconds('lease duration', durationMs, LEASE_DURATION_RANGE);
}

/** Takes the pipeline's lease if free, expired or this owner's; `undefined` when someone else holds it. */
export async function acquirePipelineLease(
  table: PipelineTable,
  pipeline: string,
  owner: string,
  durationMs: number,
  options: AcquireOptions = {},
): Promise<Lease | undefined> {
  checkLeaseDuration(durationMs);
  const looks = options.looksBeforeLeaving === true;
  const result = await acquireLease(leaseItem(table, pipeline), owner, durationMs, table.clock(), {
    itemMustExist: true,
    // Every taking says whether this holder looks; one that died while leaving left its flag: the new
    // holder is not leaving.
    also: looks
      ? {
          set: [`${LOOKS_ATTRIBUTE} = :looks`],
          remove: [LEAVING_ATTRIBUTE],
          values: { ':looks': { BOOL: true } },
        }
      : { remove: [LEAVING_ATTRIBUTE, LOOKS_ATTRIBUTE] },
  });
  if (!result.taken) {
    if (!result.item) throw new MissingResourceError('pipeline', pipeline);
    return undefined;
  }
  const state = parseState(result.item);
  return { pipeline, owner, token: state.leaseToken, expiresAt: state.leaseExpiresAt, state };
}

/** Extends a lease this owner still holds; throws `LeaseLostError` if it does not. */
export async function renewPipelineLease(
  table: PipelineTable,
  lease: Lease,
  durationMs: number,
): Promise<Lease> {
  checkLeaseDuration(durationMs);
  const now = table.clock();
  const lost = await renewLease(leaseItem(table, lease.pipeline), lease, durationMs, now);
  if (lost) throw pipelineLeaseLost(lease, lost.item, now);
  return { ...lease, expiresAt: now + durationMs };
}

/** Gives a lease up; does nothing if it was already lost. */
export async function releasePipelineLease(table: PipelineTable, lease: Lease): Promise<void> {
  await releaseLease(leaseItem(table, lease.pipeline), lease, [LEAVING_ATTRIBUTE]);
}

/** How a fetcher takes a pipeline's lease. */
export interface AcquireOptions {
  /**
   * Whether this holder looks for events committed past its position before it gives the lease up
   * (a run that leaves once idle does): a run woken while it holds the lease leaves its events to it.
   * @default false
   */
  readonly looksBeforeLeaving?: boolean;
}

/**
 * Says on the state item that the holder of `lease` is about to give it up (`leaving: true`), or that
 * it stays after all (`false`). A fetcher woken for new events that finds the lease held waits for a
 * leaving holder, and leaves the events to one that is not leaving: such a holder still looks for
 * events it has not read before it gives the lease up.
 *
 * @throws `LeaseLostError` when `lease` is no longer held.
 */
export async function markPipelineLeaving(
  table: PipelineTable,
  lease: Lease,
  leaving: boolean,
): Promise<void> {
  const now = table.clock();
  const refused = await refusal(
    updateItem(table, pipelineStateKey(lease.pipeline), {
      UpdateExpression: leaving ? `SET ${LEAVING_ATTRIBUTE} = :leaving` : `REMOVE ${LEAVING_ATTRIBUTE}`,
      ConditionExpression: LEASE_HELD,
      ExpressionAttributeValues: {
        ...leaseHeldValues(lease, now),
        ...(leaving ? { ':leaving': { BOOL: true } } : {}),
      },
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    }),
  );
  if (refused) throw pipelineLeaseLost(lease, refused.item, now);
}

/** The `LeaseLostError` of a write refused to `lease`, from the state item it found (if any). */
export function pipelineLeaseLost(lease: Lease, item: Item | undefined, now: number): LeaseLostError {
  const lost = leaseLostReason(lease, item, now, {
    gone: 'the pipeline state is gone',
    takenOver: 'another fetcher took the pipeline over',
    lease: 'lease',
  });
  return new LeaseLostError({ lease: 'fetcher', pipeline: lease.pipeline, token: lease.token, ...lost });
}

/** Where a pipeline's lease lives. */
export function leaseItem(table: PipelineTable, pipeline: string): LeaseItem {
  return { send: table.send, tableName: table.tableName, key: pipelineStateKey(pipeline) };
}
