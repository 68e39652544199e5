/**
 * The time scale of the scenarios. The worker's function timeout is a user's setting (30 s by
 * default); here it is 5 s, so that a crashed batch comes back within a scenario. Everything the
 * deployed wiring derives from it is derived the same way: the queue's visibility timeout is
 * `VISIBILITY_TIMEOUT_FACTOR` times it, and the worker's deadline margin keeps its default share of it
 * (5 s of 30 s). Every other setting is the default a user gets: packing (up to 100 events per
 * message), page size, `bufferSize`, `maxRedeliveryCount`, backoff, and the queue's `maxReceiveCount`
 * from `maxReceiveCountFor`.
 */
export const CHAOS_TIMING = {
  workerTimeoutSeconds: 5,
  /** The worker's default deadline margin (5,000 ms) for its default timeout (30 s). */
  deadlineMarginShare: 5_000 / 30_000,
} as const;

/** The worker's default `maxRedeliveryCount`, which the deployed construct also uses. */
export const DEFAULT_MAX_REDELIVERY_COUNT = 5;
/** The event source's batch size as deployed (and Lambda's FIFO maximum). */
export const EVENT_SOURCE_BATCH_SIZE = 10;
