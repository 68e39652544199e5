import type { SQSClient } from '@aws-sdk/client-sqs';
import type { EventLog } from '../../event-log/event-log';
import { queueDepth } from '../../fetcher/queue-depth';
import type { PipelineStore } from '../../state/pipeline-store';
import { isDeliveredAt } from '../../time/position';
import { pause } from './pause';
import type { SqsEventSourceStats } from './sqs-event-source';

/** How often an idle wait looks again. */
const CHECK_INTERVAL_MS = 200;
/** Quiet checks in a row that make idle: a message between a receive and its invocation shows in neither count for a moment. */
const QUIET_CHECKS = 2;

/**
 * Resolves once `busy` has found nothing busy twice in a row; rejects with `timedOut(lastBusy)` when
 * `timeoutMs` passes first.
 *
 * @example
 * ```ts
 * await waitUntilQuiet(() => pipelineBusy(parts), 60_000, (busy) => new SluiceError(`not idle: ${busy}`));
 * ```
 */
export async function waitUntilQuiet(
  busy: () => Promise<string | undefined>,
  timeoutMs: number,
  timedOut: (lastBusy: string | undefined) => Error,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let quietChecks = 0;
  let lastBusy: string | undefined = 'not checked';
  while (Date.now() < deadline) {
    lastBusy = await busy();
    quietChecks = lastBusy === undefined ? quietChecks + 1 : 0;
    if (quietChecks >= QUIET_CHECKS) return;
    await pause(CHECK_INTERVAL_MS);
  }
  throw timedOut(lastBusy);
}

/** What {@link pipelineBusy} looks at: one local pipeline's event sources, checkpoint and queues. */
export interface PipelineParts {
  readonly pipeline: {
    readonly name: string;
    readonly stream: string;
    readonly eventTypes?: readonly string[];
  };
  readonly worker: SqsEventSourceStats;
  readonly failed: SqsEventSourceStats;
  readonly store: PipelineStore;
  readonly eventLog: EventLog;
  readonly sqs: SQSClient;
  readonly queueUrl: string;
  readonly deadLetterQueueUrl: string;
  /** Whether a halted pipeline's checkpoint is let be: its fetcher takes nothing more. */
  readonly haltedIsDone?: boolean;
}

/**
 * What keeps a local pipeline busy, or `undefined` when nothing does: running invocations, a
 * checkpoint short of the stream's newest event, messages in its queue or its DLQ.
 *
 * @example
 * ```ts
 * const busy = await pipelineBusy({ pipeline, worker: workerMapping.stats(), failed: failedMapping.stats(), store, eventLog, sqs, queueUrl, deadLetterQueueUrl });
 * ```
 */
export async function pipelineBusy(parts: PipelineParts): Promise<string | undefined> {
  const busy: string[] = [];
  if (parts.worker.inFlight > 0) busy.push(`${parts.worker.inFlight} worker invocation(s) running`);
  if (parts.failed.inFlight > 0) busy.push(`${parts.failed.inFlight} failed-function invocation(s) running`);
  const { pipeline } = parts;
  const [record, state, newest, queued, dead] = await Promise.all([
    parts.haltedIsDone ? parts.store.getPipeline(pipeline.name) : undefined,
    parts.store.getState(pipeline.name),
    parts.eventLog.revrange(pipeline.stream, {
      limit: 1,
      ...(pipeline.eventTypes ? { types: pipeline.eventTypes } : {}),
    }),
    queueDepth(parts.sqs, parts.queueUrl),
    queueDepth(parts.sqs, parts.deadLetterQueueUrl),
  ]);
  const latest = newest.events[0];
  if (!record?.halted && latest && (!state || !isDeliveredAt(state.position, latest.id)))
    busy.push(`the checkpoint has not passed event ${latest.id}`);
  if (queued > 0) busy.push(`${queued} message(s) in the queue`);
  if (dead > 0) busy.push(`${dead} message(s) in the DLQ`);
  return busy.length > 0 ? busy.join(', ') : undefined;
}
