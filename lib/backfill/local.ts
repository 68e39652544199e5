import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { describe, ValidationError } from '../errors';
import { Fetcher } from '../fetcher/fetcher';
import { awsClients } from '../local/aws-clients';
import type { LocalPipeline } from '../local/runtime/local-pipeline-types';
import { parseBackfillPipelineName } from '../pipeline/backfill-names';
import { PIPELINE_STATUS } from '../state/types';
import { emitCompletedBackfills } from './completion';
import { BACKFILL_EVENTS } from './constants';
import { handleBackfillRequested } from './handler';
import type { BackfillCompletedDetail } from './types';

/** Options of {@link attachBackfills}. */
export interface AttachBackfillsOptions {
  /** How often running backfills are fetched and completed ones announced. @default 1000 */
  readonly intervalMs?: number;
  /** The longest one fetch of the backfills may take. @default 30000 */
  readonly fetchBudgetMs?: number;
  /** @default a client on the local pipeline's DynamoDB endpoint */
  readonly dynamodb?: DynamoDBClient;
  /** @default a client on the local pipeline's SQS endpoint */
  readonly sqs?: SQSClient;
  /** Told of each "Backfill Completed" event emitted. */
  readonly onCompleted?: (detail: BackfillCompletedDetail) => void;
  /** Told of errors of a round or a request. @default logs with console.error */
  readonly onError?: (error: unknown) => void;
}

/** Counts of {@link AttachedBackfills}. */
export interface AttachedBackfillsStats {
  rounds: number;
  /** Backfills registered through the bus. */
  requested: number;
  /** "Backfill Completed" events emitted. */
  completed: number;
  errors: number;
}

/** Backfills attached to a local pipeline. */
export interface AttachedBackfills {
  /** One round now: fetch the running backfills until caught up, then announce completed ones. */
  tick(): Promise<BackfillCompletedDetail[]>;
  stats(): AttachedBackfillsStats;
  /** Removes the bus rule and stops the rounds, waiting for a running one. */
  stop(): Promise<void>;
}

/** The name of the bus rule {@link attachBackfills} adds. */
export const LOCAL_BACKFILL_RULE = 'sluice-backfill-requested';

/**
 * Runs backfills beside a local pipeline, as the backfill function and the scheduled fetcher do on
 * AWS: a bus rule registers each "Backfill Requested" event, and every `intervalMs` a fetcher works
 * the running backfills that feed the pipeline's queue (so its worker handles their events) and
 * "Backfill Completed" is put on the bus once for each that has reached its stop position.
 *
 * The local pipeline's own fetcher works only its pipeline, so the backfills get a fetcher of their
 * own here, on their own interval.
 *
 * @example
 * ```ts
 * const local = await startLocalPipeline({ pipeline: { name: 'billing', stream: 'orders' }, worker });
 * const backfills = attachBackfills(local);
 * await local.bus.putEvents([
 *   { source: 'sluice', detailType: 'Backfill Requested', detail: { pipeline: 'billing', from: '2024-05-01T00:00:00Z', to: '2024-05-02T00:00:00Z' } },
 * ]);
 * // ... later
 * await backfills.stop();
 * await local.stop();
 * ```
 */
export function attachBackfills(
  local: Pick<LocalPipeline, 'bus' | 'store' | 'eventLog' | 'queueUrl' | 'endpoints'>,
  options: AttachBackfillsOptions = {},
): AttachedBackfills {
  const intervalMs = options.intervalMs ?? 1_000;
  const fetchBudgetMs = options.fetchBudgetMs ?? 30_000;
  const problems: string[] = [];
  if (!Number.isInteger(intervalMs) || intervalMs < 10 || intervalMs > 3_600_000)
    problems.push(`intervalMs must be between 10 and 3600000 (given ${describe(intervalMs)})`);
  if (!Number.isInteger(fetchBudgetMs) || fetchBudgetMs < 1_000 || fetchBudgetMs > 900_000)
    problems.push(`fetchBudgetMs must be between 1000 and 900000 (given ${describe(fetchBudgetMs)})`);
  if (problems.length > 0)
    throw new ValidationError(`invalid attachBackfills options: ${problems.join('; ')}`, options);

  const onError = options.onError ?? ((error: unknown) => console.error('backfills: a round failed', error));
  // Clients open no connection until used: the ones not needed cost nothing.
  const own = awsClients({ endpoints: local.endpoints });
  const dynamodb = options.dynamodb ?? own.dynamodb;
  const sqs = options.sqs ?? own.sqs;
  const counters: AttachedBackfillsStats = { rounds: 0, requested: 0, completed: 0, errors: 0 };

  local.bus.putRule({
    name: LOCAL_BACKFILL_RULE,
    eventPattern: { source: [BACKFILL_EVENTS.source], 'detail-type': [BACKFILL_EVENTS.requested] },
    targets: [
      async (event) => {
        await handleBackfillRequested(event, { store: local.store });
        counters.requested += 1;
      },
    ],
  });

  const round = async (): Promise<BackfillCompletedDetail[]> => {
    counters.rounds += 1;
    const { pipelines } = await local.store.listPipelines();
    const backfills = pipelines.filter(
      (pipeline) => pipeline.queueUrl === local.queueUrl && parseBackfillPipelineName(pipeline.name),
    );
    const states = await Promise.all(backfills.map((pipeline) => local.store.getState(pipeline.name)));
    const running = backfills.filter((_, index) => states[index]?.status === PIPELINE_STATUS.running);
    if (running.length > 0) {
      const fetcher = new Fetcher({
        store: local.store,
        source: local.eventLog,
        sqs,
        pipelines: running.map((pipeline) => pipeline.name),
        owner: 'local-backfill-fetcher',
        pollIntervalMs: 200,
        finalizeReserveMs: 500,
      });
      await fetcher.run({ untilCaughtUp: true, budgetMs: fetchBudgetMs });
    }
    const emitted = await emitCompletedBackfills(local.store, {
      client: dynamodb,
      putEvents: (entries) => local.bus.putEvents(entries),
      queueUrl: local.queueUrl,
    });
    counters.completed += emitted.length;
    for (const detail of emitted) options.onCompleted?.(detail);
    return emitted;
  };

  // Rounds never overlap: a tick during a round waits for it, then runs its own.
  let current: Promise<unknown> = Promise.resolve();
  const tick = (): Promise<BackfillCompletedDetail[]> => {
    const next = current.catch(() => undefined).then(round);
    current = next;
    return next;
  };

  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      tick()
        .catch((error: unknown) => {
          counters.errors += 1;
          onError(error);
        })
        .finally(schedule);
    }, intervalMs);
    timer.unref();
  };
  schedule();

  return {
    tick,
    stats: () => ({ ...counters }),
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      local.bus.removeRule(LOCAL_BACKFILL_RULE);
      await current.catch(() => undefined);
      if (!options.dynamodb) dynamodb.destroy();
      if (!options.sqs) sqs.destroy();
    },
  };
}
