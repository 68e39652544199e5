import { describe, ValidationError } from '../errors';
import { SEND_DEFAULTS, SEND_OPTION_LIMITS } from './constants';

/** Options of `sendMessageBatches()`. */
export interface SendMessageBatchesOptions {
  /**
   * The most times one message is sent when SQS reports a server-side failure for it, or the whole
   * call fails with a transient error (throttling, 5xx, network). From 1 to 100. These retries come on
   * top of the SDK client's own retry strategy, which still applies inside each call.
   * @default 5
   */
  readonly maxAttempts?: number;
  /** Delay before the first retry; it doubles with every further retry, up to `maxDelayMs`. 0 to 60000. @default 100 */
  readonly initialDelayMs?: number;
  /**
   * The longest delay between two attempts; at least `initialDelayMs`, at most 300000.
   * @default 2000, or `initialDelayMs` when that is longer
   */
  readonly maxDelayMs?: number;
  /** Waits between attempts; replace it in tests. @default a `setTimeout` promise */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Throw a `SendMessagesError` instead of returning failures. @default false */
  readonly throwOnFailure?: boolean;
  /**
   * The most calls under way at once, from 1 to 10. Above 1, a call may start before the one before
   * it has landed, so messages of later calls may land first: only for messages without a `groupId`
   * (a FIFO queue's order depends on one call after another). After a final failure no further call
   * starts; what calls already under way land is reported in `acceptedAfterFailureIds`.
   * @default 1
   */
  readonly callsInFlight?: number;
}

const OPTION_KEYS: readonly string[] = [
  'maxAttempts',
  'initialDelayMs',
  'maxDelayMs',
  'sleep',
  'throwOnFailure',
  'callsInFlight',
] satisfies (keyof SendMessageBatchesOptions)[];

/** The options of one `sendMessageBatches()` call, checked, with their defaults filled in. */
export interface SendSettings {
  readonly maxAttempts: number;
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
  readonly sleep: (ms: number) => Promise<void>;
  readonly throwOnFailure: boolean;
  readonly callsInFlight: number;
}

/**
 * Checks the options of one `sendMessageBatches()` call and fills in their defaults.
 *
 * @throws `ValidationError` naming every bad option.
 */
export function resolveSendOptions(options: SendMessageBatchesOptions): SendSettings {
  if (typeof options !== 'object' || options === null || Array.isArray(options))
    throw new ValidationError(
      `sendMessageBatches options must be an object (given ${describe(options)})`,
      options,
    );
  const problems: string[] = [];
  for (const key of Object.keys(options)) {
    if (!OPTION_KEYS.includes(key))
      problems.push(`unknown option ${JSON.stringify(key)} (known: ${OPTION_KEYS.join(', ')})`);
  }
  const initialDelayMs = options.initialDelayMs ?? SEND_DEFAULTS.initialDelayMs;
  const numbers = {
    maxAttempts: options.maxAttempts ?? SEND_DEFAULTS.maxAttempts,
    initialDelayMs,
    // Left out, the cap never undercuts a longer initial delay.
    maxDelayMs:
      options.maxDelayMs ??
      (Number.isInteger(initialDelayMs)
        ? Math.max(SEND_DEFAULTS.maxDelayMs, initialDelayMs)
        : SEND_DEFAULTS.maxDelayMs),
    callsInFlight: options.callsInFlight ?? SEND_DEFAULTS.callsInFlight,
  };
  for (const key of ['maxAttempts', 'initialDelayMs', 'maxDelayMs', 'callsInFlight'] as const) {
    const { min, max } = SEND_OPTION_LIMITS[key];
    const value = numbers[key];
    if (!Number.isInteger(value) || value < min || value > max)
      problems.push(`${key} must be a whole number from ${min} to ${max} (given ${describe(options[key])})`);
  }
  if (
    options.maxDelayMs !== undefined &&
    Number.isInteger(numbers.initialDelayMs) &&
    numbers.maxDelayMs < numbers.initialDelayMs
  )
    problems.push(
      `maxDelayMs (${numbers.maxDelayMs}) must be at least initialDelayMs (${numbers.initialDelayMs})`,
    );
  if (options.sleep !== undefined && typeof options.sleep !== 'function')
    problems.push(`sleep must be a function (given ${describe(options.sleep)})`);
  if (options.throwOnFailure !== undefined && typeof options.throwOnFailure !== 'boolean')
    problems.push(`throwOnFailure must be true or false (given ${describe(options.throwOnFailure)})`);
  if (problems.length > 0)
    throw new ValidationError(`invalid sendMessageBatches options: ${problems.join('; ')}`, options);
  return {
    ...numbers,
    sleep: options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms))),
    throwOnFailure: options.throwOnFailure ?? SEND_DEFAULTS.throwOnFailure,
  };
}
