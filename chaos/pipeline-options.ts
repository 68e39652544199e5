import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { PipelineDefinition } from '../lib';
import type { DeadLetterStepHook } from '../lib/failed/types';
import type { FaultCounts, FaultPlan } from '../lib/testing/faults';
import type { WorkerStepHook } from '../lib/worker/types';
import type { ChaosEndpoints } from './environment';
import type { EventKind } from './event-kinds';
import type { FetcherRunCounts } from './fetcher-runs';

/** Options of `ChaosPipeline.create`. */
export interface ChaosPipelineOptions {
  readonly endpoints: ChaosEndpoints;
  readonly seed: number;
  /** Names the tables and queues. */
  readonly prefix: string;
  /** Events committed before the pipeline starts, their ids spread over the past hours. @default 0 */
  readonly history?: number;
  /** @default 3 */
  readonly historyHours?: number;
  /** Marks some events for the handler to fail or stall. @default none */
  readonly kindOf?: (n: number, random: () => number) => EventKind | undefined;
  /** Gives event `n` the partition key `key-(n % partitionKeys)`; FIFO scenarios check order per key. @default none */
  readonly partitionKeys?: number;
  /** Outputs the handler returns per event (one effect and the rest parts of it). @default 1 */
  readonly outputsPerEvent?: number;
  /** The source stream's retention (DynamoDB TTL), for its producers and the fetchers. @default kept for ever */
  readonly retentionSeconds?: number;
  /** Called with each part's clients once they are made (to count or slow their requests). */
  readonly instrument?: (part: string, clients: { dynamodb: DynamoDBClient; sqs: SQSClient }) => void;
  /** Faults on every client of the pipeline (fetcher, worker, DLQ consumer, event sources); not on the checker's. */
  readonly faults?: Omit<FaultPlan, 'seed'>;
  /**
   * Pipeline settings over the defaults (only `start: 'earliest'` is set). A scenario sets one only
   * where it is about that setting, and says so in its description.
   */
  readonly pipeline?: Partial<Omit<PipelineDefinition, 'name' | 'stream' | 'queueUrl'>>;
  /** @default the worker's default (5) */
  readonly maxRedeliveryCount?: number;
  /** The worker's function timeout. @default CHAOS_TIMING.workerTimeoutSeconds */
  readonly workerTimeoutSeconds?: number;
  /** @default VISIBILITY_TIMEOUT_FACTOR × the worker's timeout, as deployed */
  readonly visibilityTimeoutSeconds?: number;
  readonly workerOnStep?: WorkerStepHook;
  readonly deadLetterOnStep?: DeadLetterStepHook;
  /** How long the failed-handler claims last. @default 10000 */
  readonly claimDurationMs?: number;
  /** @default 4 */
  readonly maximumConcurrency?: number;
}

/** Counts of the moving parts, for the report. */
export interface ChaosActivity extends FetcherRunCounts {
  readonly workerInvocations: number;
  readonly workerFailedBatches: number;
  readonly workerTimeouts: number;
  readonly deadLetterInvocations: number;
  readonly duplicatesSkipped: number;
  readonly faults: FaultCounts;
}
