import type { SQSClient } from '@aws-sdk/client-sqs';
import { describe, ValidationError } from '../errors';
import { type BackoffPolicy, validateBackoff } from '../worker/backoff';
import { PULL_CONSUMER_DEFAULTS, PULL_CONSUMER_LIMITS } from './constants';
import type { ConsumerLogger, FinallyFailedHandler, PullConsumerOptions } from './types';

/** A consumer's options with every default filled in. */
export interface PullConsumerSettings<TData = unknown> {
  readonly sqs: SQSClient;
  readonly queueUrl: string;
  readonly deadLetterQueueUrl: string | undefined;
  readonly maxRedeliveryCount: number;
  readonly backoff: BackoffPolicy;
  readonly visibilityTimeoutSeconds: number;
  readonly heartbeatIntervalSeconds: number;
  readonly waitTimeSeconds: number;
  readonly onFinallyFailed: FinallyFailedHandler<TData> | undefined;
  readonly logger: ConsumerLogger;
  readonly random: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  readonly now: () => number;
}

const OPTION_KEYS: readonly string[] = [
  'sqs',
  'queueUrl',
  'deadLetterQueueUrl',
  'maxRedeliveryCount',
  'backoff',
  'visibilityTimeoutSeconds',
  'heartbeatIntervalSeconds',
  'waitTimeSeconds',
  'onFinallyFailed',
  'logger',
  'random',
  'sleep',
  'now',
] satisfies (keyof PullConsumerOptions)[];

const BACKOFF_KEYS: readonly string[] = [
  'baseDelaySeconds',
  'maxDelaySeconds',
  'factor',
  'jitter',
] satisfies (keyof BackoffPolicy)[];

const LOGGER_METHODS = ['debug', 'info', 'warn', 'error'] as const;

/** Warnings and errors to the console; debug and info dropped. */
const CONSOLE_LOGGER: ConsumerLogger = Object.freeze({
  debug: () => {},
  info: () => {},
  warn: (message: string, ...extra: unknown[]) => console.warn(message, ...extra),
  error: (message: string, ...extra: unknown[]) => console.error(message, ...extra),
});

/**
 * Every problem with `PullConsumer` options, each naming the value given; empty when they are fine.
 *
 * @example
 * ```ts
 * validatePullConsumerOptions({ sqs, queueUrl, visibilityTimeoutSeconds: 0 });
 * // ['visibilityTimeoutSeconds must be a whole number from 1 to 43200 (given 0)', ...]
 * ```
 */
export function validatePullConsumerOptions(options: PullConsumerOptions): string[] {
  if (typeof options !== 'object' || options === null || Array.isArray(options))
    return [`options must be an object (given ${describe(options)})`];
  const problems: string[] = [];
  for (const key of Object.keys(options)) {
    if (!OPTION_KEYS.includes(key))
      problems.push(`unknown option ${JSON.stringify(key)} (known: ${OPTION_KEYS.join(', ')})`);
  }

  const sqs: unknown = options.sqs;
  if (typeof sqs !== 'object' || sqs === null || typeof (sqs as { send?: unknown }).send !== 'function')
    problems.push(`sqs must be an SQSClient (given ${describeValue(sqs)})`);

  const { queueUrl, deadLetterQueueUrl } = options;
  if (!isQueueUrl(queueUrl)) problems.push(`queueUrl must be a queue URL (given ${describe(queueUrl)})`);
  else if (isFifoUrl(queueUrl))
    problems.push(
      `queueUrl must be a standard queue: FIFO queues are not supported, as re-sending part of a message would break the order of its message group (given ${describe(queueUrl)})`,
    );
  if (deadLetterQueueUrl !== undefined) {
    if (!isQueueUrl(deadLetterQueueUrl))
      problems.push(`deadLetterQueueUrl must be a queue URL (given ${describe(deadLetterQueueUrl)})`);
    else if (deadLetterQueueUrl === queueUrl)
      problems.push(`deadLetterQueueUrl must differ from queueUrl (both are ${describe(queueUrl)})`);
    else if (isFifoUrl(deadLetterQueueUrl))
      problems.push(`deadLetterQueueUrl must be a standard queue (given ${describe(deadLetterQueueUrl)})`);
  }

  checkWholeNumber(problems, 'maxRedeliveryCount', options.maxRedeliveryCount);
  checkWholeNumber(problems, 'visibilityTimeoutSeconds', options.visibilityTimeoutSeconds);
  checkWholeNumber(problems, 'waitTimeSeconds', options.waitTimeSeconds);

  const visibility = options.visibilityTimeoutSeconds ?? PULL_CONSUMER_DEFAULTS.visibilityTimeoutSeconds;
  const heartbeat = options.heartbeatIntervalSeconds ?? PULL_CONSUMER_DEFAULTS.heartbeatIntervalSeconds;
  if (typeof heartbeat !== 'number' || !Number.isFinite(heartbeat) || heartbeat <= 0)
    problems.push(
      `heartbeatIntervalSeconds must be a number of seconds more than 0 (given ${describeValue(options.heartbeatIntervalSeconds)})`,
    );
  else if (isWithin(visibility, PULL_CONSUMER_LIMITS.visibilityTimeoutSeconds) && heartbeat >= visibility)
    problems.push(
      `heartbeatIntervalSeconds (${heartbeat}) must be less than visibilityTimeoutSeconds (${visibility}), or messages become visible between heartbeats`,
    );

  const backoff: unknown = options.backoff;
  if (backoff !== undefined) {
    if (typeof backoff !== 'object' || backoff === null || Array.isArray(backoff))
      problems.push(`backoff must be an object (given ${describe(backoff)})`);
    else {
      for (const key of Object.keys(backoff)) {
        if (!BACKOFF_KEYS.includes(key))
          problems.push(
            `unknown option ${JSON.stringify(`backoff.${key}`)} (known: ${BACKOFF_KEYS.join(', ')})`,
          );
      }
      problems.push(...validateBackoff(backoff as BackoffPolicy));
    }
  }

  for (const key of ['onFinallyFailed', 'random', 'sleep', 'now'] as const) {
    const value: unknown = options[key];
    if (value !== undefined && typeof value !== 'function')
      problems.push(`${key} must be a function (given ${describeValue(value)})`);
  }
  if (deadLetterQueueUrl === undefined && options.onFinallyFailed === undefined)
    problems.push(
      'give deadLetterQueueUrl, onFinallyFailed, or both: without either, an event that fails maxRedeliveryCount times would be dropped without a trace',
    );

  const logger: unknown = options.logger;
  if (logger !== undefined) {
    const missing =
      typeof logger === 'object' && logger !== null
        ? LOGGER_METHODS.filter((method) => typeof (logger as Record<string, unknown>)[method] !== 'function')
        : LOGGER_METHODS;
    if (missing.length > 0)
      problems.push(
        `logger must have the methods debug, info, warn and error (missing ${missing.join(', ')})`,
      );
  }
  return problems;
}

/** Checks the options and fills in the defaults, or throws a `ValidationError` naming every problem. */
export function resolvePullConsumerOptions<TData>(
  options: PullConsumerOptions<TData>,
): PullConsumerSettings<TData> {
  const problems = validatePullConsumerOptions(options as PullConsumerOptions);
  if (problems.length > 0)
    throw new ValidationError(`invalid PullConsumer options: ${problems.join('; ')}`, options);
  return {
    sqs: options.sqs,
    queueUrl: options.queueUrl,
    deadLetterQueueUrl: options.deadLetterQueueUrl,
    maxRedeliveryCount: options.maxRedeliveryCount ?? PULL_CONSUMER_DEFAULTS.maxRedeliveryCount,
    backoff: { ...options.backoff },
    visibilityTimeoutSeconds:
      options.visibilityTimeoutSeconds ?? PULL_CONSUMER_DEFAULTS.visibilityTimeoutSeconds,
    heartbeatIntervalSeconds:
      options.heartbeatIntervalSeconds ?? PULL_CONSUMER_DEFAULTS.heartbeatIntervalSeconds,
    waitTimeSeconds: options.waitTimeSeconds ?? PULL_CONSUMER_DEFAULTS.waitTimeSeconds,
    onFinallyFailed: options.onFinallyFailed,
    logger: options.logger ?? CONSOLE_LOGGER,
    random: options.random ?? Math.random,
    sleep: options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms))),
    now: options.now ?? Date.now,
  };
}

function checkWholeNumber(problems: string[], key: keyof typeof PULL_CONSUMER_LIMITS, value: unknown): void {
  if (value === undefined) return;
  const { min, max } = PULL_CONSUMER_LIMITS[key];
  if (!isWithin(value, PULL_CONSUMER_LIMITS[key]))
    problems.push(`${key} must be a whole number from ${min} to ${max} (given ${describeValue(value)})`);
}

function isWithin(value: unknown, limits: { min: number; max: number }): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= limits.min && value <= limits.max;
}

function isQueueUrl(value: unknown): value is string {
  return typeof value === 'string' && /^https?:\/\/\S+$/.test(value);
}

function isFifoUrl(url: string): boolean {
  return url.endsWith('.fifo');
}

/** Like `describe`, but keeps NaN, Infinity and functions readable. */
function describeValue(value: unknown): string {
  if (typeof value === 'number') return String(value);
  if (typeof value === 'function') return 'a function';
  return describe(value);
}
