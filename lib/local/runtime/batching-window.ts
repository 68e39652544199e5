import { MAX_BATCH_ENTRIES } from '../../sqs/constants';

// How an SQS event source gathers one batch: the first receive long polls; once a message has come,
// further receives fill the batch until the batching window closes, the batch is full, or it nears
// Lambda's payload limit. Pure decisions, carried out by `SqsEventSourceMapping`.

/** Lambda's payload limit for a synchronous invocation: a batch stops growing before it. */
export const MAX_PAYLOAD_BYTES = 6 * 1024 * 1024;

/** The settings of the mapping that shape a batch. */
export interface BatchingSettings {
  readonly batchSize: number;
  readonly maximumBatchingWindowSeconds: number;
  readonly fifo: boolean;
  readonly pollWaitTimeSeconds: number;
}

/** A batch being gathered. */
export interface GatheredSoFar {
  readonly count: number;
  readonly bytes: number;
  /** When the batching window closes (epoch ms); unused before the first message. */
  readonly windowEndMs: number;
}

/** The receive to make next. */
export interface NextReceive {
  readonly maxMessages: number;
  readonly waitTimeSeconds: number;
  /** Whether the batch has no message yet: this receive is the long poll that a stop may cut short. */
  readonly first: boolean;
}

/**
 * The next receive of a batch, or `undefined` when the batch is complete: full, at the payload limit,
 * or past its window.
 *
 * @example
 * ```ts
 * nextReceive({ batchSize: 100, maximumBatchingWindowSeconds: 1, fifo: false, pollWaitTimeSeconds: 20 }, { count: 0, bytes: 0, windowEndMs: 0 }, Date.now());
 * // { maxMessages: 10, waitTimeSeconds: 20, first: true }
 * ```
 */
export function nextReceive(
  settings: BatchingSettings,
  batch: GatheredSoFar,
  nowMs: number,
): NextReceive | undefined {
  if (batch.count >= settings.batchSize || batch.bytes >= MAX_PAYLOAD_BYTES) return undefined;
  const first = batch.count === 0;
  const remainingMs = batch.windowEndMs - nowMs;
  if (!first && remainingMs <= 0) return undefined;
  return {
    maxMessages: Math.min(MAX_BATCH_ENTRIES, settings.batchSize - batch.count),
    // Once the batch has a message, the wait is what the window has left, and SQS waits 20 s at most.
    waitTimeSeconds: first
      ? settings.pollWaitTimeSeconds
      : Math.max(0, Math.min(20, Math.floor(remainingMs / 1000))),
    first,
  };
}

/**
 * When the batching window opened by the first messages closes (epoch ms), or `undefined` when the
 * batch is complete with them: a FIFO queue, or no window.
 *
 * @example
 * ```ts
 * windowEndAfterFirst({ batchSize: 100, maximumBatchingWindowSeconds: 2, fifo: false, pollWaitTimeSeconds: 20 }, 1_000); // 3000
 * ```
 */
export function windowEndAfterFirst(settings: BatchingSettings, nowMs: number): number | undefined {
  if (settings.fifo || settings.maximumBatchingWindowSeconds === 0) return undefined;
  return nowMs + settings.maximumBatchingWindowSeconds * 1000;
}

/**
 * How long to wait before receiving again after a receive inside the window found nothing, or 0 when
 * that receive already waited (a long poll of a second or more).
 *
 * @example
 * ```ts
 * pauseAfterEmptyReceive({ waitTimeSeconds: 0, windowEndMs: 1_030 }, 1_000); // 30
 * ```
 */
export function pauseAfterEmptyReceive(
  receive: { readonly waitTimeSeconds: number; readonly windowEndMs: number },
  nowMs: number,
): number {
  if (receive.waitTimeSeconds !== 0) return 0;
  // At most 50 ms, and never past the window.
  return Math.min(50, receive.windowEndMs - nowMs);
}
