import { SluiceError, ValidationError } from '../../errors';
import type { EventLog } from '../../event-log/event-log';
import { createStageWorker } from '../../stages/stage-worker';
import type { ResolvedStages } from '../../stages/types';
import { PipelineStore } from '../../state/pipeline-store';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../aws-clients';
import { CleanupStack } from './cleanup-stack';
import { pipelineBusy, waitUntilQuiet } from './idle-wait';
import type { LambdaHandler } from './lambda-context';
import type { LambdaSqsEvent } from './lambda-sqs-records';
import { emulatorsUnlessGiven, localClients } from './local-connection';
import { startLocalPipeline } from './local-pipeline';
import type { LocalEndpoints, LocalPipeline, LocalPipelineOptions } from './local-pipeline-types';

/** Options of {@link startLocalStages}. */
export interface LocalStagesOptions {
  /** The stages, as `defineStages` returns them. */
  readonly stages: ResolvedStages;
  /**
   * Where DynamoDB and SQS are; one set serves every stage.
   * @default DynamoDB Local and the SQS emulator, started on loopback ports and stopped by `stop()`
   */
  readonly endpoints?: Exclude<LocalEndpoints, 'aws'>;
  /** @default 'sluice-events' */
  readonly eventLogTable?: string;
  /** @default 'sluice-state' */
  readonly stateTable?: string;
  /** How often each stage's fetcher runs. @default 60000 */
  readonly fetcherIntervalMs?: number;
  /** How long each fetcher run lasts; a halt takes effect at the next run. @default 60 */
  readonly fetcherTimeoutSeconds?: number;
  /** How often a caught-up fetcher reads the live edge. @default 1000 */
  readonly fetcherPollIntervalMs?: number;
  /** The event log's settle window (see `startLocalPipeline`). @default the EventLog default */
  readonly settleWindowMs?: number;
  /** The most worker invocations at once, per stage. @default 5 */
  readonly maximumConcurrency?: number;
  /** Told of errors of the functions it runs. @default logs with console.error */
  readonly onError?: LocalPipelineOptions['onError'];
}

/** A running local multi-stage pipeline. */
export interface LocalStages {
  /** An event log for producers. */
  readonly eventLog: EventLog;
  readonly store: PipelineStore;
  /** Each stage's local pipeline, by stage name: its queues, failures and stats. */
  readonly stages: Readonly<Record<string, LocalPipeline>>;
  readonly endpoints: { readonly dynamodb: string; readonly sqs: string };
  /** The PIDs of the emulators it started. */
  readonly pids: readonly number[];
  /**
   * Resolves once every stage has handled (or dead-lettered) everything committed so far, the cascade
   * included: checked stage by stage in order, each stage's checkpoint past the newest event of its
   * stream, its queues empty and nothing of it running, twice in a row. A halted stage (one that
   * aborted) counts once its queues are empty: its fetcher takes nothing more.
   * @throws `SluiceError` naming what was still busy when `timeoutMs` (default 60000) passed.
   */
  waitForIdle(options?: { readonly timeoutMs?: number }): Promise<void>;
  /** Stops every stage, then the emulators it started. */
  stop(): Promise<void>;
}

/**
 * Runs a multi-stage pipeline on one machine: each stage as a local pipeline (fetcher on a schedule,
 * worker on an SQS event source, failed handler on its DLQ) with the stage's own settings, all on one
 * pair of emulators, one event log and one state table.
 *
 * @example
 * ```ts
 * const local = await startLocalStages({ stages: orders, fetcherIntervalMs: 500 });
 * await local.eventLog.commit({ stream: 'orders', type: 'order.placed', data: { id: 'o-1' } });
 * await local.waitForIdle(); // every stage has handled everything
 * await local.stop();
 * ```
 */
export async function startLocalStages(options: LocalStagesOptions): Promise<LocalStages> {
  if (!options?.stages || !Array.isArray(options.stages.stages))
    throw new ValidationError('stages must be what defineStages returns', options?.stages);
  const cleanups = new CleanupStack((error) => console.error('stopping local stages failed', error));
  try {
    const { endpoints, pids } = await emulatorsUnlessGiven(options.endpoints, cleanups);
    const { dynamodb, sqs } = localClients({ endpoints }, cleanups);
    const eventLogTable = options.eventLogTable ?? 'sluice-events';
    const stateTable = options.stateTable ?? 'sluice-state';

    const running: Record<string, LocalPipeline> = {};
    let producerLog: EventLog | undefined;
    for (const stage of options.stages.stages) {
      const local = await startLocalPipeline({
        endpoints,
        region: LOCAL_REGION,
        credentials: LOCAL_CREDENTIALS,
        eventLogTable,
        stateTable,
        pipeline: {
          name: stage.pipeline,
          stream: stage.stream,
          ...(stage.eventTypes ? { eventTypes: stage.eventTypes } : {}),
          start: stage.start,
          bufferSize: stage.bufferSize,
          maxEventsPerMessage: stage.maxEventsPerMessage,
        },
        // SQS queue names take no dots.
        queueName: `sluice-${stage.pipeline.replace(/\./g, '-')}`,
        workerFactory: (resources) =>
          createStageWorker(
            options.stages,
            stage.name,
            {
              queueUrl: resources.queueUrl,
              deadLetterQueueUrl: resources.deadLetterQueueUrl,
              stateTable: resources.stateTable,
              eventLog: resources.eventLog,
              sqs: resources.sqs,
              dynamodb: resources.dynamodb,
            },
            {},
          ) as unknown as LambdaHandler<LambdaSqsEvent>,
        ...(stage.failedHandler ? { failedHandler: stage.failedHandler } : {}),
        batchSize: stage.batchSize,
        workerTimeoutSeconds: Math.ceil(stage.timeoutMs / 1000),
        maxRedeliveryCount: stage.maxRedeliveryCount,
        ...(options.fetcherIntervalMs !== undefined ? { fetcherIntervalMs: options.fetcherIntervalMs } : {}),
        ...(options.fetcherTimeoutSeconds !== undefined
          ? { fetcherTimeoutSeconds: options.fetcherTimeoutSeconds }
          : {}),
        ...(options.fetcherPollIntervalMs !== undefined
          ? { fetcherPollIntervalMs: options.fetcherPollIntervalMs }
          : {}),
        ...(options.settleWindowMs !== undefined ? { settleWindowMs: options.settleWindowMs } : {}),
        ...(options.maximumConcurrency !== undefined
          ? { maximumConcurrency: options.maximumConcurrency }
          : {}),
        ...(options.onError ? { onError: options.onError } : {}),
      });
      cleanups.push(() => local.stop());
      running[stage.name] = local;
      producerLog ??= local.eventLog;
    }
    const eventLog = producerLog as EventLog;
    const store = new PipelineStore({ tableName: stateTable, client: dynamodb });

    /** What keeps one stage busy, or `undefined` when it is idle. */
    const stageBusy = async (stageIndex: number): Promise<string | undefined> => {
      const stage = options.stages.stages[stageIndex];
      const local = stage ? running[stage.name] : undefined;
      if (!stage || !local) return undefined;
      const stats = local.stats();
      const busy = await pipelineBusy({
        pipeline: {
          name: stage.pipeline,
          stream: stage.stream,
          ...(stage.eventTypes ? { eventTypes: stage.eventTypes } : {}),
        },
        worker: stats.worker,
        failed: stats.failed,
        store,
        eventLog,
        sqs,
        queueUrl: local.queueUrl,
        deadLetterQueueUrl: local.deadLetterQueueUrl,
        haltedIsDone: true,
      });
      return busy === undefined ? undefined : `stage ${stage.name}: ${busy}`;
    };
    /** The first stage found busy, in stage order: once a stage is idle it commits nothing more, so a later stage found idle after it has everything it will get. */
    const firstBusyStage = async (): Promise<string | undefined> => {
      for (let index = 0; index < options.stages.stages.length; index += 1) {
        const busy = await stageBusy(index);
        if (busy !== undefined) return busy;
      }
      return undefined;
    };

    return {
      eventLog,
      store,
      stages: running,
      endpoints,
      pids,
      waitForIdle: ({ timeoutMs = 60_000 } = {}) =>
        waitUntilQuiet(
          firstBusyStage,
          timeoutMs,
          (busy) =>
            new SluiceError(
              `stages ${options.stages.name} were not idle after ${timeoutMs} ms: ${busy ?? 'they were idle only briefly'}`,
            ),
        ),
      stop: () => cleanups.runAll(),
    };
  } catch (error) {
    await cleanups.runAll();
    throw error;
  }
}
