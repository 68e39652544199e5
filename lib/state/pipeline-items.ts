import { type ResolvedPipeline, resolvePipeline } from '../pipeline/definition';
import { formatPosition, parsePosition } from '../time/position';
import type { ServerClock } from '../time/server-clock';
import { attributeKey, pipelineOfStateKey, pipelineStateKey } from './keys';
import { leaseViewOf } from './lease-hand-over';
import { parseSentAhead } from './sent-ahead';
import { getItem, type Item, type StateTable } from './state-table';
import { PIPELINE_STATUS, type PipelineState, type PipelineStatus, type SendPlan } from './types';

/** What the modules of the pipeline store work with: the state table and the clocks. */
export interface PipelineTable extends StateTable {
  /** Epoch milliseconds. */
  readonly clock: () => number;
  /** DynamoDB's clock, as its responses tell it. */
  readonly serverClock: ServerClock;
}

/** A pipeline's state as its item. */
export function stateItem(state: PipelineState): Item {
  return {
    ...attributeKey(pipelineStateKey(state.pipeline)),
    position: { S: formatPosition(state.position) },
    version: { N: String(state.version) },
    epoch: { N: String(state.epoch) },
    checkpointToken: { N: String(state.checkpointToken) },
    checkpointedAt: { N: String(state.checkpointedAt) },
    status: { S: state.status },
    ...(state.stopAt ? { stopAt: { S: formatPosition(state.stopAt) } } : {}),
    ...(state.leaseOwner ? { leaseOwner: { S: state.leaseOwner } } : {}),
    leaseExpiresAt: { N: String(state.leaseExpiresAt) },
    leaseToken: { N: String(state.leaseToken) },
  };
}

/** A state item as the pipeline's state. */
export function parseState(item: Item): PipelineState {
  const pipeline = pipelineOfStateKey(item.pk?.S ?? '');
  const stopAt = item.stopAt?.S;
  return {
    pipeline,
    position: parsePosition(item.position?.S ?? ''),
    version: Number(item.version?.N ?? 0),
    epoch: Number(item.epoch?.N ?? 0),
    checkpointToken: Number(item.checkpointToken?.N ?? 0),
    checkpointedAt: Number(item.checkpointedAt?.N ?? 0),
    status: (item.status?.S as PipelineStatus | undefined) ?? PIPELINE_STATUS.running,
    ...(stopAt ? { stopAt: parsePosition(stopAt) } : {}),
    // The holder, its expiry and whether it is leaving or looks, read as the waker reads them.
    ...leaseViewOf(item),
    leaseToken: Number(item.leaseToken?.N ?? 0),
    ...(item.sendPlan?.S ? { sendPlan: JSON.parse(item.sendPlan.S) as SendPlan } : {}),
    ...(item.sentAhead?.S ? { sentAhead: parseSentAhead(item.sentAhead.S) } : {}),
  };
}

/** A registry item as a resolved pipeline: a halted pipeline is disabled, and says why. */
export function registeredPipeline(item: Item): ResolvedPipeline {
  const pipeline = resolvePipeline(JSON.parse(item.definition?.S ?? ''));
  if (item.haltedAt?.N === undefined) return pipeline;
  return {
    ...pipeline,
    enabled: false,
    halted: { at: Number(item.haltedAt.N), reason: item.haltReason?.S ?? '' },
  };
}

/** A pipeline's checkpoint and lease, or `undefined` if it has none. */
export async function getState(table: StateTable, pipeline: string): Promise<PipelineState | undefined> {
  const item = await getItem(table, pipelineStateKey(pipeline));
  return item ? parseState(item) : undefined;
}
