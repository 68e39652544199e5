import { LeaseLostError, MissingResourceError } from '../errors';
import { assertWholeMilliseconds } from '../validation/whole-milliseconds';
import { acquireLease, type LeaseItem, leaseLostReason, releaseLease, renewLease } from './fenced-lease';
import { pipelineStateKey } from './keys';
import { type PipelineTable, parseState } from './pipeline-items';
import type { Item } from './state-table';
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
): Promise<Lease | undefined> {
  checkLeaseDuration(durationMs);
  const result = await acquireLease(leaseItem(table, pipeline), owner, durationMs, table.clock(), {
    itemMustExist: true,
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
  await releaseLease(leaseItem(table, lease.pipeline), lease);
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
