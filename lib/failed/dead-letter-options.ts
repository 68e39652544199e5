import { describe, ValidationError } from '../errors';
import type { EventLog } from '../event-log/event-log';
import { NAME_PATTERN, NAME_RULE } from '../event-log/names';
import { wholeMillisecondsProblem } from '../validation/whole-milliseconds';
import type { MarkerStore } from '../worker/marker-store';
import { CLAIM_DURATION_RANGE } from './constants';
import type { FailureStore } from './failure-store';
import type { FailedEventLogger, SqsRecordLike } from './records';
import type { DeadLetterStepHook, FailedHandler } from './types';

/** Options of `handleDeadLetters()`. Unknown keys are rejected. */
export interface HandleDeadLettersOptions<TData = unknown> {
  /** The pipeline whose dead-letter queue this is: its claims and records are kept under this name. */
  readonly pipeline: string;
  /** The user's handler, called once per batch with every event not handed over before. */
  readonly failedHandler: FailedHandler<TData>;
  /** Where claims and failure records are kept. */
  readonly store: FailureStore;
  /** @default a random UUID (the Lambda request id, on Lambda) */
  readonly requestId?: string;
  /** @default no logging */
  readonly logger?: FailedEventLogger;
  /**
   * How long an event stays claimed while the failed handler runs, in milliseconds (1000 to 3600000).
   * Make it longer than the handler can take: a claim that expires mid-call lets another consumer hand
   * the event over too. On Lambda, the remaining time of the invocation plus a margin.
   * @default 900000 (15 minutes, the longest a Lambda function runs)
   */
  readonly claimDurationMs?: number;
  /** @default Date.now */
  readonly clock?: () => number;
  /** Named crash points for tests; see {@link DeadLetterStepHook}. @default none */
  readonly onStep?: DeadLetterStepHook;
  /** Where `context.commit` commits, with each failure's mark. @default none: `context.commit` throws */
  readonly eventLog?: EventLog;
  /**
   * The worker's idempotency markers, read to leave out the events of a message SQS moved to the DLQ
   * that had already succeeded. @default `store.markerStore()`, on the same state table
   */
  readonly markers?: MarkerStore;
}

const OPTION_KEYS: ReadonlySet<string> = new Set([
  'pipeline',
  'failedHandler',
  'store',
  'requestId',
  'logger',
  'claimDurationMs',
  'clock',
  'onStep',
  'eventLog',
  'markers',
] satisfies (keyof HandleDeadLettersOptions)[]);

/**
 * Checks the records and options of one `handleDeadLetters()` call, before anything is read or written.
 *
 * @throws `ValidationError` naming every problem.
 */
export function checkDeadLetterOptions(
  records: readonly SqsRecordLike[],
  options: HandleDeadLettersOptions<never>,
): void {
  const problems: string[] = [];
  if (!Array.isArray(records))
    problems.push(`records must be an array of SQS records (given ${describe(records)})`);
  if (typeof options !== 'object' || options === null) {
    throw new ValidationError(`options must be an object (given ${describe(options)})`, options);
  }
  const unknown = Object.keys(options).filter((key) => !OPTION_KEYS.has(key));
  if (unknown.length > 0) {
    problems.push(`unknown option(s) ${unknown.join(', ')}; known: ${[...OPTION_KEYS].join(', ')}`);
  }
  if (typeof options.pipeline !== 'string' || !NAME_PATTERN.test(options.pipeline)) {
    problems.push(`pipeline name ${describe(options.pipeline)} is invalid: ${NAME_RULE}`);
  }
  if (typeof options.failedHandler !== 'function') {
    problems.push(`failedHandler must be a function (given ${describe(options.failedHandler)})`);
  }
  if (typeof options.store?.claim !== 'function') {
    problems.push(`store must be a FailureStore (given ${describe(options.store)})`);
  }
  const duration = options.claimDurationMs;
  const durationProblem =
    duration === undefined
      ? undefined
      : wholeMillisecondsProblem('claimDurationMs', duration, CLAIM_DURATION_RANGE);
  if (durationProblem) problems.push(durationProblem);
  if (options.clock !== undefined && typeof options.clock !== 'function') {
    problems.push(`clock must be a function returning epoch milliseconds (given ${describe(options.clock)})`);
  }
  if (options.markers !== undefined && typeof options.markers?.getMany !== 'function') {
    problems.push(`markers must be a MarkerStore (given ${describe(options.markers)})`);
  }
  if (options.onStep !== undefined && typeof options.onStep !== 'function') {
    problems.push(`onStep must be a function (given ${describe(options.onStep)})`);
  }
  if (options.requestId !== undefined && typeof options.requestId !== 'string') {
    problems.push(`requestId must be a string (given ${describe(options.requestId)})`);
  }
  if (Array.isArray(records)) {
    records.forEach((record, index) => {
      if (typeof record?.messageId !== 'string' || typeof record?.body !== 'string') {
        problems.push(`records[${index}] must have a string messageId and body (given ${describe(record)})`);
      }
    });
  }
  if (problems.length > 0)
    throw new ValidationError(`invalid dead-letter batch: ${problems.join('; ')}`, options);
}
