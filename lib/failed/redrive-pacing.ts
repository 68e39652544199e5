import type { SQSClient } from '@aws-sdk/client-sqs';
import { describe, ValidationError } from '../errors';
import { type RedriveFilter, validateRedriveFilter } from './redrive-filter';

/** The most messages per second a redrive may send, and its default. */
export const REDRIVE_RATE = { default: 10, max: 3_000 } as const;

/** The options every redrive takes: where events go back, which, and how fast. */
export interface RedriveBaseOptions {
  readonly sqs: SQSClient;
  /** The pipeline's queue, where matching events go back. */
  readonly queueUrl: string;
  /** Which events to move. @default every event */
  readonly filter?: RedriveFilter;
  /** Count what would move and change nothing. @default false */
  readonly dryRun?: boolean;
  /**
   * The most messages sent to the queue per second, so that a large redrive does not flood the
   * workers: SendMessageBatch calls are spaced to keep to it. More than 0, at most 3000.
   * @default 10
   */
  readonly maxMessagesPerSecond?: number;
  /** Waits between SendMessageBatch calls; replace it in tests. @default a `setTimeout` promise */
  readonly sleep?: (ms: number) => Promise<void>;
  /** @default Date.now */
  readonly clock?: () => number;
}

/** Spaces a redrive's sends to keep to a rate of messages per second. */
export interface RedrivePacer {
  /** Waits until `count` more messages may be sent without passing the rate. */
  wait(count: number): Promise<void>;
  /** The most messages one send call may carry at this rate (1 to 10). */
  readonly perCall: number;
}

/**
 * A pacer for `rate` messages per second: each call waits until the messages sent before it are
 * spread over the time the rate allows them.
 *
 * @example
 * ```ts
 * const pacer = redrivePacer(10, Date.now, (ms) => new Promise((resolve) => setTimeout(resolve, ms)));
 * await pacer.wait(batch.length);
 * ```
 */
export function redrivePacer(
  rate: number,
  clock: () => number,
  sleep: (ms: number) => Promise<void>,
): RedrivePacer {
  let nextSendAt = Number.NEGATIVE_INFINITY;
  return {
    perCall: Math.max(1, Math.min(10, Math.floor(rate))),
    async wait(count) {
      const delay = nextSendAt - clock();
      if (delay > 0) await sleep(delay);
      nextSendAt = Math.max(clock(), nextSendAt) + (count * 1000) / rate;
    },
  };
}

/** Adds a problem when a redrive's `maxMessagesPerSecond` is not a number above 0, at most 3000. */
export function checkRedriveRate(rate: unknown, problems: string[]): void {
  if (
    rate !== undefined &&
    !(typeof rate === 'number' && Number.isFinite(rate) && rate > 0 && rate <= REDRIVE_RATE.max)
  ) {
    problems.push(
      `maxMessagesPerSecond must be a number above 0, at most ${REDRIVE_RATE.max} (given ${describe(rate)})`,
    );
  }
}

/** Adds a problem when `value` is given and is not a whole number from `min` to `max`. */
export function checkWhole(value: unknown, name: string, min: number, max: number, problems: string[]): void {
  if (value === undefined) return;
  if (!Number.isInteger(value) || (value as number) < min || (value as number) > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `${min} or more` : `from ${min} to ${max}`;
    problems.push(`${name} must be a whole number ${range} (given ${describe(value)})`);
  }
}

/**
 * Starts checking a redrive's options: throws unless they are an object, and returns the problem of
 * any key not in `known`. The redrive adds its own problems, then those of {@link checkRedriveBase},
 * and ends with {@link finishRedriveCheck}.
 */
export function startRedriveCheck(options: object, known: ReadonlySet<string>): string[] {
  if (typeof options !== 'object' || options === null) {
    throw new ValidationError(`redrive options must be an object (given ${describe(options)})`, options);
  }
  const problems: string[] = [];
  const unknown = Object.keys(options).filter((key) => !known.has(key));
  if (unknown.length > 0) {
    problems.push(`unknown option(s) ${unknown.join(', ')}; known: ${[...known].join(', ')}`);
  }
  return problems;
}

/** Adds the problems of the filter, `dryRun` and `maxMessagesPerSecond` every redrive takes. */
export function checkRedriveBase(options: RedriveBaseOptions, problems: string[]): void {
  problems.push(...validateRedriveFilter(options.filter));
  if (options.dryRun !== undefined && typeof options.dryRun !== 'boolean')
    problems.push(`dryRun must be true or false (given ${describe(options.dryRun)})`);
  checkRedriveRate(options.maxMessagesPerSecond, problems);
}

/**
 * Adds the problems of `sleep` and `clock`, then throws a `ValidationError` naming every problem
 * found, if there is any.
 */
export function finishRedriveCheck(options: RedriveBaseOptions, problems: string[]): void {
  for (const name of ['sleep', 'clock'] as const) {
    if (options[name] !== undefined && typeof options[name] !== 'function')
      problems.push(`${name} must be a function (given ${describe(options[name])})`);
  }
  if (problems.length > 0)
    throw new ValidationError(`invalid redrive options: ${problems.join('; ')}`, options);
}
