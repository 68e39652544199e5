import { ConflictError } from '../errors';
import { comparePositions, formatPosition, type Position, positionTimeMs } from '../time/position';
import { type PipelineTable, parseState } from './pipeline-items';
import { checkLeaseDuration, leaseItem, pipelineLeaseLost } from './pipeline-lease';
import { type SentAhead, serializeSentAhead } from './sent-ahead';
import { type Lease, PIPELINE_STATUS, type PipelineState, type PipelineStatus, type SendPlan } from './types';
import { writeVersionUnderLease } from './versioned-write';

// A fetcher's checkpoint write: forward only, by the lease holder, over the version it read.

/** What a fetcher asks {@link writeCheckpoint} to write. */
export interface CheckpointWrite {
  readonly position: Position;
  readonly expectedVersion: number;
  /** The position the checkpoint was at when read. */
  readonly previous: Position;
  readonly leaseDurationMs: number;
  readonly status?: PipelineStatus;
  /** The messages about to be sent past `position`; the stored plan is cleared when left out. */
  readonly sendPlan?: SendPlan;
  /** The events sent ahead of the settled horizon past `position`; the stored record is cleared when left out. */
  readonly sentAhead?: SentAhead;
}

/**
 * Why a checkpoint must not be written at all, before asking DynamoDB: it moves backwards from the
 * position read, or forwards past DynamoDB's clock (`serverLatestMs`, when known: the writer's
 * clock runs fast, and events could still be committed before that position).
 *
 * @example
 * ```ts
 * const refused = checkpointMoveError('billing', write, serverClock.bounds()?.latest);
 * if (refused) throw refused;
 * ```
 */
export function checkpointMoveError(
  pipeline: string,
  write: Pick<CheckpointWrite, 'position' | 'previous'>,
  serverLatestMs: number | undefined,
): ConflictError | undefined {
  const move = comparePositions(write.position, write.previous);
  if (move < 0)
    return new ConflictError({
      kind: 'checkpoint-regression',
      pipeline,
      from: formatPosition(write.previous),
      position: formatPosition(write.position),
    });
  if (serverLatestMs !== undefined && move > 0 && positionTimeMs(write.position) > serverLatestMs) {
    return new ConflictError({
      kind: 'checkpoint-in-future',
      pipeline,
      position: formatPosition(write.position),
      positionTimeMs: positionTimeMs(write.position),
      serverTimeMs: serverLatestMs,
    });
  }
  return undefined;
}

/**
 * What a refused checkpoint write means, from the state it found (`undefined`: the item is gone):
 * - `landed`: this very write landed and its response was lost; the SDK's retry found it done (only
 *   the holder of this token writes checkpoints with it, and a seek writes token 0);
 * - `conflict`: the lease is still held, so the version moved under it (a seek);
 * - `lease lost`: another fetcher took over, or the lease expired or was released.
 *
 * @example
 * ```ts
 * refusedCheckpoint(lease, write, parseState(item), Date.now()); // 'conflict'
 * ```
 */
export function refusedCheckpoint(
  lease: Pick<Lease, 'token' | 'owner'>,
  write: Pick<CheckpointWrite, 'position' | 'expectedVersion'>,
  current: PipelineState | undefined,
  now: number,
): 'landed' | 'conflict' | 'lease lost' {
  if (!current) return 'lease lost';
  if (
    current.version === write.expectedVersion + 1 &&
    current.checkpointToken === lease.token &&
    current.leaseOwner === lease.owner &&
    formatPosition(current.position) === formatPosition(write.position)
  )
    return 'landed';
  if (
    current.leaseToken === lease.token &&
    current.leaseOwner === lease.owner &&
    current.leaseExpiresAt > now
  )
    return 'conflict';
  return 'lease lost';
}

/** Moves the checkpoint forward under `lease`, renewing it; resolves to the new version. */
export async function writeCheckpoint(
  table: PipelineTable,
  lease: Lease,
  write: CheckpointWrite,
): Promise<number> {
  const refused = checkpointMoveError(lease.pipeline, write, table.serverClock.bounds()?.latest);
  if (refused) throw refused;
  checkLeaseDuration(write.leaseDurationMs);
  const now = table.clock();
  const found = await writeVersionUnderLease(leaseItem(table, lease.pipeline), lease, {
    versionAttribute: 'version',
    expectedVersion: write.expectedVersion,
    absentAtZero: false,
    sets: [
      '#position = :position',
      'checkpointToken = :token',
      'checkpointedAt = :now',
      '#status = :status',
      ...(write.sendPlan ? ['sendPlan = :plan'] : []),
      ...(write.sentAhead ? ['sentAhead = :ahead'] : []),
    ],
    removes: [...(write.sendPlan ? [] : ['sendPlan']), ...(write.sentAhead ? [] : ['sentAhead'])],
    names: { '#position': 'position', '#status': 'status' },
    values: {
      ...(write.sendPlan ? { ':plan': { S: JSON.stringify(write.sendPlan) } } : {}),
      ...(write.sentAhead ? { ':ahead': { S: serializeSentAhead(write.sentAhead) } } : {}),
      ':position': { S: formatPosition(write.position) },
      ':status': { S: write.status ?? PIPELINE_STATUS.running },
    },
    leaseDurationMs: write.leaseDurationMs,
    now,
  });
  if (!found) return write.expectedVersion + 1;
  const current = found.item ? parseState(found.item) : undefined;
  switch (refusedCheckpoint(lease, write, current, now)) {
    case 'landed':
      return write.expectedVersion + 1;
    case 'conflict':
      throw new ConflictError({
        kind: 'checkpoint-moved',
        pipeline: lease.pipeline,
        expectedVersion: write.expectedVersion,
        actualVersion: current?.version ?? 0,
      });
    case 'lease lost':
      throw pipelineLeaseLost(lease, found.item, now);
  }
}
