import { randomUUID } from 'node:crypto';
import { formatPosition, type Position } from '../time/position';
import { attributeKey, expiresAfter, pipelineRunsPartition, timedSortKey } from './keys';
import type { PipelineTable } from './pipeline-items';
import { type Item, newestFirst, putItem } from './state-table';
import { type Lease, RUN_STATUS, type RunCounts, type RunRecord } from './types';

// A fetcher's run records: one item per run, written at its start and again at its end.

const RUN_RETENTION_SECONDS = 30 * 24 * 3600;

/** How a run ended, for {@link endRun}. */
export interface RunOutcome {
  readonly counts: RunCounts;
  readonly stopReason?: string;
  readonly endPosition?: Position;
  readonly error?: Error;
  /** Events after `from` up to `to` had passed the stream's retention when the run read them. */
  readonly expired?: { readonly from: Position; readonly to: Position };
}

/** Records the start of a fetcher run on a pipeline. */
export async function startRun(table: PipelineTable, lease: Lease): Promise<RunRecord> {
  const run: RunRecord = {
    pipeline: lease.pipeline,
    runId: randomUUID(),
    owner: lease.owner,
    leaseToken: lease.token,
    status: RUN_STATUS.started,
    startedAt: table.clock(),
    startPosition: formatPosition(lease.state.position),
  };
  await putItem(table, runItem(run));
  return run;
}

/** Records how a run ended: finished, or failed with its error. */
export async function endRun(table: PipelineTable, run: RunRecord, outcome: RunOutcome): Promise<RunRecord> {
  const ended: RunRecord = {
    ...run,
    status: outcome.error ? RUN_STATUS.failed : RUN_STATUS.finished,
    endedAt: table.clock(),
    counts: { ...outcome.counts },
    ...(outcome.stopReason ? { stopReason: outcome.stopReason } : {}),
    ...(outcome.endPosition ? { endPosition: formatPosition(outcome.endPosition) } : {}),
    ...(outcome.error ? { error: { name: outcome.error.name, message: outcome.error.message } } : {}),
    ...(outcome.expired
      ? { expired: { from: formatPosition(outcome.expired.from), to: formatPosition(outcome.expired.to) } }
      : {}),
  };
  await putItem(table, runItem(ended));
  return ended;
}

/** A pipeline's runs, newest first. */
export async function listRuns(table: PipelineTable, pipeline: string, limit: number): Promise<RunRecord[]> {
  return runRecords<RunRecord>(await newestFirst(table, pipelineRunsPartition(pipeline), limit));
}

/**
 * The item of a run record kept under `partition` (a pipeline's or a sync resource's runs), for
 * `retentionSeconds` after its start: its status, and the whole record as JSON.
 *
 * @example
 * ```ts
 * runRecordItem(syncRunsPartition('stripe-charges'), run, SYNC_RUN_RETENTION_SECONDS);
 * ```
 */
export function runRecordItem(
  partition: string,
  run: { readonly runId: string; readonly startedAt: number; readonly status: string },
  retentionSeconds: number,
): Item {
  return {
    ...attributeKey({ pk: partition, sk: timedSortKey(run.startedAt, run.runId) }),
    status: { S: run.status },
    record: { S: JSON.stringify(run) },
    expiresAt: { N: String(expiresAfter(run.startedAt, retentionSeconds)) },
  };
}

/** The records of run items, as written by {@link runRecordItem}. */
export function runRecords<T>(items: readonly Item[]): T[] {
  return items.map((item) => JSON.parse(item.record?.S ?? '{}') as T);
}

function runItem(run: RunRecord): Item {
  return runRecordItem(pipelineRunsPartition(run.pipeline), run, RUN_RETENTION_SECONDS);
}
