import { randomBytes } from 'node:crypto';
import { ConflictError, MissingResourceError } from '../errors';
import { backfillPipelineName, parseBackfillPipelineName } from '../pipeline/backfill-names';
import type { PipelineDefinition, ResolvedPipeline } from '../pipeline/definition';
import { startPosition } from '../pipeline/definition';
import type { PipelineStore } from '../state/pipeline-store';
import { comparePositions, formatPosition, type Position } from '../time/position';
import { backfillRange, parseBackfillRequest } from './request';
import type { BackfillRequest, RegisteredBackfill } from './types';

/** Options of {@link registerBackfill}. */
export interface RegisterBackfillOptions {
  /** Makes a backfill id when the request has none. @default 8 random hex characters */
  readonly newId?: () => string;
}

/**
 * Registers a backfill: a pipeline record of its own, `<pipeline>.backfill.<backfillId>`, on the same
 * stream, event types and queue as the pipeline it backfills (so the same worker handles its events),
 * starting at `from` and stopping at `to`. The fetcher works it like any pipeline and marks it
 * `completed` when it reaches its stop position.
 *
 * Idempotent: a request with a backfill id already registered over the same range returns that
 * backfill; over another range it throws a `ConflictError` with kind `backfill-id-taken`.
 *
 * @throws `InvalidDefinitionError` with definition `backfill request` for a malformed request, `MissingResourceError` with resource `pipeline` when the
 * pipeline is not registered or is itself a backfill.
 *
 * @example
 * ```ts
 * const { backfillPipeline } = await registerBackfill(store, {
 *   pipeline: 'billing',
 *   from: '2024-05-01T00:00:00Z',
 *   to: '2024-05-02T00:00:00Z',
 * });
 * ```
 */
export async function registerBackfill(
  store: PipelineStore,
  request: BackfillRequest,
  options: RegisterBackfillOptions = {},
): Promise<RegisteredBackfill> {
  const checked = parseBackfillRequest(request);
  const { from, stopAt } = backfillRange(checked);
  const source = await store.getPipeline(checked.pipeline);
  if (!source || parseBackfillPipelineName(source.name))
    throw new MissingResourceError('pipeline', checked.pipeline);
  const backfillId = checked.backfillId ?? (options.newId ?? randomId)();
  const name = backfillPipelineName(source.name, backfillId);
  const registered = { pipeline: source.name, backfillId, backfillPipeline: name, from, stopAt };

  const existing = await store.getPipeline(name);
  if (existing) {
    const reason = conflict(existing, source, from, stopAt);
    if (reason)
      throw new ConflictError({
        kind: 'backfill-id-taken',
        pipeline: source.name,
        backfillId,
        backfillPipeline: name,
        reason,
      });
    return { ...registered, created: false };
  }
  await store.putPipeline(backfillDefinition(source, name, from, stopAt));
  return { ...registered, created: true };
}

/**
 * The pipeline record of a backfill: the source pipeline's stream, event types, queue and limits,
 * with its own name, start and stop positions, enabled.
 *
 * @example
 * ```ts
 * await store.putPipeline(backfillDefinition(billing, 'billing.backfill.b1', from, stopAt));
 * ```
 */
export function backfillDefinition(
  source: ResolvedPipeline,
  name: string,
  from: Position,
  stopAt: Position,
): PipelineDefinition {
  return {
    name,
    stream: source.stream,
    ...(source.eventTypes ? { eventTypes: source.eventTypes } : {}),
    queueUrl: source.queueUrl,
    start: { position: formatPosition(from) },
    stopAt: { position: formatPosition(stopAt) },
    bufferSize: source.bufferSize,
    pageSize: source.pageSize,
    maxMessageBytes: source.maxMessageBytes,
    maxEventsPerMessage: source.maxEventsPerMessage,
    enabled: true,
  };
}

function conflict(
  existing: ResolvedPipeline,
  source: ResolvedPipeline,
  from: Position,
  stopAt: Position,
): string | undefined {
  const existingFrom = startPosition(existing.start, 0);
  if (
    comparePositions(existingFrom, from) !== 0 ||
    !existing.stopAt ||
    comparePositions(existing.stopAt, stopAt) !== 0
  )
    return `range ${formatPosition(existingFrom)} to ${existing.stopAt ? formatPosition(existing.stopAt) : 'none'}`;
  if (existing.stream !== source.stream) return `stream '${existing.stream}'`;
  return undefined;
}

function randomId(): string {
  return randomBytes(4).toString('hex');
}
