import { DEFAULT_MAX_REDELIVERY_COUNT, MAX_REDELIVERY_COUNT_RANGE } from '../settings/redelivery';
import { MAX_DELAY_SECONDS, MAX_VISIBILITY_TIMEOUT_SECONDS } from '../sqs/constants';

/** Defaults of `PullConsumer.create()` options. */
export const PULL_CONSUMER_DEFAULTS = Object.freeze({
  maxRedeliveryCount: DEFAULT_MAX_REDELIVERY_COUNT,
  visibilityTimeoutSeconds: 30,
  heartbeatIntervalSeconds: 10,
  waitTimeSeconds: 1,
} as const);

/** Bounds of `PullConsumer.create()` options, inclusive. */
export const PULL_CONSUMER_LIMITS = Object.freeze({
  /** The one range of `maxRedeliveryCount` (see `MAX_REDELIVERY_COUNT_RANGE`). */
  maxRedeliveryCount: MAX_REDELIVERY_COUNT_RANGE,
  /** SQS's longest visibility timeout is 12 hours. */
  visibilityTimeoutSeconds: { min: 1, max: MAX_VISIBILITY_TIMEOUT_SECONDS },
  /** SQS's longest long poll is 20 seconds. */
  waitTimeSeconds: { min: 0, max: 20 },
} as const);

/** The most events one `reserve()` call may ask for. */
export const MAX_RESERVE_EVENTS = 10_000;

/** `retryAfterSeconds` of `fail()` runs from 0 to SQS's longest message delay (15 minutes). */
export const MAX_RETRY_AFTER_SECONDS = MAX_DELAY_SECONDS;

/** How long `stop({ drain: true })` waits for reserved events to be settled, by default. */
export const DEFAULT_DRAIN_TIMEOUT_SECONDS = 30;

/** How many settled event ids a consumer remembers, to name them in errors when they are settled again. */
export const SETTLED_MEMORY = 10_000;
