import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { assertTableName } from '../event-log/names';
import type { PipelineDefinition, ResolvedPipeline } from '../pipeline/definition';
import type { Position } from '../time/position';
import { serverClockOf } from '../time/server-clock';
import { type CheckpointWrite, writeCheckpoint } from './checkpoint-write';
import { getState, type PipelineTable } from './pipeline-items';
import {
  type AcquireOptions,
  acquirePipelineLease,
  markPipelineLeaving,
  releasePipelineLease,
  renewPipelineLease,
} from './pipeline-lease';
import { getPipeline, haltPipeline, listPipelines, putPipeline, resumePipeline } from './pipeline-registry';
import { endRun, listRuns, type RunOutcome, startRun } from './pipeline-runs';
import { listSeeks, type SeekOptions, seek } from './seeks';
import { openStateTable } from './state-table';
import type { Lease, PipelineState, RunRecord, SeekRecord } from './types';

export { SEEK_MAX_ATTEMPTS } from './seeks';

/** Options of a {@link PipelineStore}. */
export interface PipelineStoreOptions {
  /** The state table: string hash key `pk`, string range key `sk` (the event log's layout). */
  readonly tableName: string;
  /** @default a new DynamoDBClient from the environment */
  readonly client?: DynamoDBClient;
  /** @default Date.now */
  readonly clock?: () => number;
}

/**
 * Pipelines and their state in DynamoDB: definitions, one checkpoint-and-lease item per pipeline,
 * run records and seek records. Every write is conditional:
 *
 * - a lease is taken only when free or expired, and each taking raises the pipeline's fencing token;
 * - a checkpoint is written only by the holder of the current token, only over the version it read,
 *   and never backwards; each write also renews the lease;
 * - a seek is the one way to move a checkpoint anywhere, and is recorded.
 *
 * Each part lives in a module of its own: the registry (`pipeline-registry.ts`), the lease
 * (`pipeline-lease.ts`), checkpoints (`checkpoint-write.ts`), seeks (`seeks.ts`), runs
 * (`pipeline-runs.ts`); this class holds the table and the clocks they share.
 *
 * @example
 * ```ts
 * const store = new PipelineStore({ tableName: 'sluice-state' });
 * await store.putPipeline({ name: 'billing', stream: 'orders', queueUrl, start: 'earliest' });
 * const lease = await store.acquireLease('billing', 'fetcher-1', 60_000);
 * if (lease) await store.writeCheckpoint(lease, { position: next, expectedVersion: lease.state.version });
 * ```
 */
export class PipelineStore {
  readonly tableName: string;
  private readonly table: PipelineTable;

  constructor(options: PipelineStoreOptions) {
    assertTableName(options?.tableName);
    this.tableName = options.tableName;
    const { client, table } = openStateTable(options);
    this.table = { ...table, clock: options.clock ?? Date.now, serverClock: serverClockOf(client) };
  }

  /**
   * Registers or updates a pipeline. A new pipeline gets its state at its start position; an existing
   * one keeps its checkpoint (move it with {@link seek}).
   *
   * @example
   * ```ts
   * await store.putPipeline({ name: 'billing', stream: 'orders', queueUrl, start: { time: '2024-05-01T00:00:00Z' } });
   * ```
   */
  putPipeline(definition: PipelineDefinition): Promise<ResolvedPipeline> {
    return putPipeline(this.table, definition);
  }

  /**
   * A pipeline's definition with its defaults, or `undefined`.
   *
   * @example
   * ```ts
   * const pipeline = await store.getPipeline('billing');
   * ```
   */
  getPipeline(name: string): Promise<ResolvedPipeline | undefined> {
    return getPipeline(this.table, name);
  }

  /**
   * Stops a pipeline until {@link resumePipeline}: the fetcher skips it, as it skips a disabled one,
   * and the halt outlives the pipeline's re-registration. `getPipeline` and `listPipelines` report it
   * as `enabled: false` with `halted: { at, reason }`. Halting a halted pipeline keeps its first reason.
   *
   * @throws `MissingResourceError` (resource `pipeline`) when no pipeline of that name is registered.
   *
   * @example
   * ```ts
   * await store.haltPipeline('orders.transform', 'event 0190... failed: price missing');
   * ```
   */
  haltPipeline(name: string, reason: string): Promise<void> {
    return haltPipeline(this.table, name, reason);
  }

  /**
   * Lifts a halt set by {@link haltPipeline}; the pipeline carries on from its checkpoint.
   *
   * @throws `MissingResourceError` (resource `pipeline`) when no pipeline of that name is registered.
   *
   * @example
   * ```ts
   * await store.resumePipeline('orders.transform');
   * ```
   */
  resumePipeline(name: string): Promise<void> {
    return resumePipeline(this.table, name);
  }

  /**
   * Every registered pipeline. A stored definition that no longer validates is returned in `invalid`
   * with its error, so one bad record does not stop the others.
   *
   * @example
   * ```ts
   * const { pipelines, invalid } = await store.listPipelines();
   * ```
   */
  listPipelines(): Promise<{
    pipelines: ResolvedPipeline[];
    invalid: { name: string; error: Error }[];
  }> {
    return listPipelines(this.table);
  }

  /**
   * A pipeline's checkpoint and lease, or `undefined` if it has none.
   *
   * @example
   * ```ts
   * const { position } = (await store.getState('billing'))!;
   * ```
   */
  getState(pipeline: string): Promise<PipelineState | undefined> {
    return getState(this.table, pipeline);
  }

  /**
   * Takes the pipeline's lease if it is free or expired (or already this owner's), raising its fencing
   * token; resolves to the lease and the state it found, or `undefined` when someone else holds it.
   * `looksBeforeLeaving` records that this holder looks for unread events before it gives the lease
   * up, so that runs woken meanwhile leave their events to it.
   *
   * @example
   * ```ts
   * const lease = await store.acquireLease('billing', `fetcher-${context.awsRequestId}`, 60_000);
   * ```
   */
  acquireLease(
    pipeline: string,
    owner: string,
    durationMs: number,
    options: AcquireOptions = {},
  ): Promise<Lease | undefined> {
    return acquirePipelineLease(this.table, pipeline, owner, durationMs, options);
  }

  /**
   * Extends a lease this owner still holds; throws `LeaseLostError` if it does not.
   *
   * @example
   * ```ts
   * lease = await store.renewLease(lease, 60_000);
   * ```
   */
  renewLease(lease: Lease, durationMs: number): Promise<Lease> {
    return renewPipelineLease(this.table, lease, durationMs);
  }

  /**
   * Moves the checkpoint forward to `position`, if this lease is still current and the checkpoint is
   * still at `expectedVersion`; renews the lease in the same write. Resolves to the new version.
   * `sendPlan` is stored with it (the messages about to be sent past `position`), or cleared when
   * left out.
   *
   * @throws `LeaseLostError` (another fetcher took over, or the lease expired), `ConflictError` (kind `checkpoint-moved`:
   * the checkpoint was moved by a seek; kind `checkpoint-regression`: the position is behind the one read;
   * kind `checkpoint-in-future`: the position lies after DynamoDB's clock: the writer's clock runs fast).
   *
   * @example
   * ```ts
   * const version = await store.writeCheckpoint(lease, { position, expectedVersion, leaseDurationMs: 60_000 });
   * ```
   */
  writeCheckpoint(lease: Lease, write: CheckpointWrite): Promise<number> {
    return writeCheckpoint(this.table, lease, write);
  }

  /**
   * Gives a lease up so that the next fetcher need not wait for it to expire. Does nothing if the lease
   * was already lost.
   *
   * @example
   * ```ts
   * await store.releaseLease(lease);
   * ```
   */
  releaseLease(lease: Lease): Promise<void> {
    return releasePipelineLease(this.table, lease);
  }

  /**
   * Says that the holder of `lease` is about to give it up (`true`), or stays after all (`false`):
   * a fetcher woken while the lease is held waits for a leaving holder, and otherwise leaves the new
   * events to the holder, which looks for them before it gives the lease up.
   *
   * @throws `LeaseLostError` when `lease` is no longer held.
   *
   * @example
   * ```ts
   * await store.markLeaving(lease, true);
   * ```
   */
  markLeaving(lease: Lease, leaving: boolean): Promise<void> {
    return markPipelineLeaving(this.table, lease, leaving);
  }

  /**
   * Moves a pipeline's checkpoint to any position, forwards or back (the data pump's restart), and
   * records the move. A fetcher working on the pipeline at the time finds its next checkpoint write
   * refused and stops; the next run starts from here.
   *
   * The seek reads the checkpoint, then writes over the version it read, so that the seek record names
   * the position it really moved from. When a fetcher (or another seek) writes in between, the seek
   * reads again and retries, up to {@link SEEK_MAX_ATTEMPTS} times with short, jittered waits.
   *
   * @throws `MissingResourceError` (resource `pipeline`) when no pipeline of that name is registered; `ConflictError` (kind `seek-contention`)
   * when the checkpoint changed under every attempt (nothing was written: seek again, or stop the
   * pipeline's fetcher first).
   *
   * @example
   * ```ts
   * await store.seek('billing', positionAtTime(new Date('2024-05-01T00:00:00Z')), { stopAt: positionAtTime(new Date('2024-05-02T00:00:00Z')), reason: 'replay 1 May' });
   * ```
   */
  seek(pipeline: string, position: Position, options: SeekOptions = {}): Promise<PipelineState> {
    return seek(this.table, pipeline, position, options);
  }

  /**
   * The pipeline's recorded seeks, newest first.
   *
   * @example
   * ```ts
   * const [lastSeek] = await store.listSeeks('billing', 1);
   * ```
   */
  listSeeks(pipeline: string, limit = 20): Promise<SeekRecord[]> {
    return listSeeks(this.table, pipeline, limit);
  }

  /**
   * Records the start of a fetcher run on a pipeline.
   *
   * @example
   * ```ts
   * const run = await store.startRun(lease);
   * ```
   */
  startRun(lease: Lease): Promise<RunRecord> {
    return startRun(this.table, lease);
  }

  /**
   * Records how a run ended: finished, or failed with its error.
   *
   * @example
   * ```ts
   * await store.endRun(run, { counts, stopReason: 'caught up', endPosition });
   * ```
   */
  endRun(run: RunRecord, outcome: RunOutcome): Promise<RunRecord> {
    return endRun(this.table, run, outcome);
  }

  /**
   * A pipeline's runs, newest first.
   *
   * @example
   * ```ts
   * const [latest] = await store.listRuns('billing', 1);
   * ```
   */
  listRuns(pipeline: string, limit = 20): Promise<RunRecord[]> {
    return listRuns(this.table, pipeline, limit);
  }
}
