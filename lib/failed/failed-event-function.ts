import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy, { type MiddyfiedHandler } from '@middy/core';
import { describe, ValidationError } from '../errors';
import { EventLog } from '../event-log/event-log';
import { NAME_PATTERN, NAME_RULE } from '../event-log/names';
import { type Environment, readVariable, tableName } from '../settings/read-variable';
import { FAILED_EVENT_ENVIRONMENT } from '../settings/variables';
import { CLAIM_DURATION_RANGE } from './constants';
import { handleDeadLetters } from './dlq-consumer';
import { FailureStore } from './failure-store';
import type { SqsRecordLike } from './records';
import type { FailedHandler } from './types';

/** The variables {@link createFailedEventFunction} reads: see the settings module. */
export { FAILED_EVENT_ENVIRONMENT };

/** A Lambda SQS event, as far as the function reads it. */
export interface SqsEventLike {
  readonly Records: readonly SqsRecordLike[];
}

/** The partial-batch response Lambda reads with `ReportBatchItemFailures` on. */
export interface SqsBatchResponse {
  readonly batchItemFailures: { itemIdentifier: string }[];
}

/** The parts of the Lambda context the function reads. */
export interface FailedEventLambdaContext {
  readonly awsRequestId: string;
  getRemainingTimeInMillis(): number;
}

/** Options of {@link createFailedEventFunction}. Unknown keys are rejected. */
export interface FailedEventFunctionOptions<TData = unknown> {
  /** The user's handler for events that kept failing. */
  readonly failedHandler: FailedHandler<TData>;
  /** @default the `SLUICE_PIPELINE` environment variable */
  readonly pipeline?: string;
  /** @default a `FailureStore` on the table named by `SLUICE_STATE_TABLE`, with a default DynamoDB client */
  readonly store?: FailureStore;
  /**
   * Where the failed handler's `context.commit` commits, with each failure's mark.
   * @default an EventLog on `SLUICE_EVENT_LOG_TABLE` when set; else `context.commit` throws
   */
  readonly eventLog?: EventLog;
  /** A Powertools Logger; the middleware adds the Lambda context to its entries. @default service `sluice-failed` */
  readonly logger?: Logger;
  /** Where the variables are read. @default process.env */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

const OPTION_KEYS: ReadonlySet<string> = new Set([
  'failedHandler',
  'pipeline',
  'store',
  'eventLog',
  'logger',
  'env',
] satisfies (keyof FailedEventFunctionOptions)[]);

/** Time added to the invocation's remaining time for a claim, so that it outlasts the invocation. */
const CLAIM_MARGIN_MS = 60_000;

/**
 * Builds the Lambda handler for a pipeline's dead-letter queue: a middy handler, with Powertools Logger
 * (`injectLambdaContext`), that runs {@link handleDeadLetters} on each batch and returns the partial
 * batch response. Turn `ReportBatchItemFailures` on for its event source. Call it at module scope: a
 * bad setting then fails the cold start, with an error naming every bad value.
 *
 * Each event is claimed for the invocation's remaining time plus a minute, so that no other
 * invocation takes it over while this one can still be running.
 *
 * @throws `ValidationError` naming every missing or bad option and environment variable.
 *
 * @example
 * ```ts
 * // functions/billing-failed.ts
 * export const handler = createFailedEventFunction({
 *   failedHandler: async (failures) => {
 *     for (const { event, lastError } of failures) await pageOnCall(`${event.type} ${event.id}: ${lastError.message}`);
 *   },
 * });
 * ```
 */
export function createFailedEventFunction<TData = unknown>(
  options: FailedEventFunctionOptions<TData>,
): MiddyfiedHandler<SqsEventLike, SqsBatchResponse, Error, FailedEventLambdaContext> {
  const { pipeline, store, eventLog } = readSettings(options);
  const logger = options.logger ?? new Logger({ serviceName: 'sluice-failed' });
  const failedHandler = options.failedHandler;
  const handler = middy<SqsEventLike, SqsBatchResponse, Error, FailedEventLambdaContext>(
    async (event: SqsEventLike, context: FailedEventLambdaContext): Promise<SqsBatchResponse> => {
      const result = await handleDeadLetters(event.Records ?? [], {
        pipeline,
        store,
        failedHandler,
        requestId: context.awsRequestId,
        logger,
        claimDurationMs: claimDurationFor(context),
        ...(eventLog ? { eventLog } : {}),
      });
      logger.info('dead-letter batch done', {
        pipeline,
        messages: event.Records?.length ?? 0,
        handled: result.handled,
        skippedAsDuplicates: result.skippedAsDuplicates,
        claimedElsewhere: result.claimedElsewhere,
        malformed: result.malformed,
        completedBefore: result.completedBefore,
        redelivered: result.batchItemFailures.length,
      });
      return { batchItemFailures: result.batchItemFailures };
    },
  );
  // `use` adds to this handler in place; the logger middleware adds the Lambda context to every entry.
  handler.use(injectLambdaContext(logger));
  return handler;
}

function claimDurationFor(context: FailedEventLambdaContext): number | undefined {
  const remaining =
    typeof context?.getRemainingTimeInMillis === 'function' ? context.getRemainingTimeInMillis() : NaN;
  if (!Number.isFinite(remaining)) return undefined;
  return Math.min(
    CLAIM_DURATION_RANGE.max,
    Math.max(CLAIM_DURATION_RANGE.min, Math.ceil(remaining) + CLAIM_MARGIN_MS),
  );
}

function readSettings<TData>(options: FailedEventFunctionOptions<TData>): {
  pipeline: string;
  store: FailureStore;
  eventLog?: EventLog;
} {
  if (typeof options !== 'object' || options === null) {
    throw new ValidationError(`options must be an object (given ${describe(options)})`, options);
  }
  const env = options.env ?? process.env;
  const problems: string[] = [];
  const unknown = Object.keys(options).filter((key) => !OPTION_KEYS.has(key));
  if (unknown.length > 0) {
    problems.push(`unknown option(s) ${unknown.join(', ')}; known: ${[...OPTION_KEYS].join(', ')}`);
  }
  if (typeof options.failedHandler !== 'function') {
    problems.push(`failedHandler must be a function (given ${describe(options.failedHandler)})`);
  }

  const pipelineVariable = FAILED_EVENT_ENVIRONMENT.pipeline;
  const pipeline = options.pipeline ?? env[pipelineVariable];
  if (pipeline === undefined) {
    problems.push(
      `${pipelineVariable} must be set to the pipeline's name, or the pipeline option given (neither is)`,
    );
  } else if (!NAME_PATTERN.test(pipeline)) {
    const source = options.pipeline === undefined ? pipelineVariable : 'pipeline';
    problems.push(`${source} ${describe(pipeline)} is not a pipeline name: ${NAME_RULE}`);
  }

  const tableVariable = FAILED_EVENT_ENVIRONMENT.stateTable;
  const store = givenOrOnTable(options.store, env, problems, {
    kind: FailureStore,
    mismatch: 'store must be a FailureStore',
    variable: tableVariable,
    unsetProblem: `${tableVariable} must be set to the name of the state table, or the store option given (neither is)`,
  });
  const eventLogVariable = FAILED_EVENT_ENVIRONMENT.eventLogTable;
  const eventLog = givenOrOnTable(options.eventLog, env, problems, {
    kind: EventLog,
    mismatch: 'eventLog must be an EventLog',
    variable: eventLogVariable,
  });

  if (problems.length > 0 || pipeline === undefined || store === undefined) {
    const given = {
      [pipelineVariable]: env[pipelineVariable],
      [tableVariable]: env[tableVariable],
      [eventLogVariable]: env[eventLogVariable],
      pipeline: options.pipeline,
    };
    throw new ValidationError(`invalid failed-event function settings: ${problems.join('; ')}`, given);
  }
  return { pipeline, store, ...(eventLog ? { eventLog } : {}) };
}

/**
 * The instance given as an option, or, when none is, one of `kind` on the table an environment variable
 * names. A value of another kind, or a bad table name, adds a problem; so does an unset variable when
 * `unsetProblem` says it must be set. Nothing is opened once there is any problem, since the settings
 * are then refused whole.
 */
function givenOrOnTable<T>(
  given: unknown,
  env: Environment,
  problems: string[],
  spec: {
    readonly kind: new (options: { readonly tableName: string }) => T;
    /** The problem with a given value of another kind, to finish with the value. */
    readonly mismatch: string;
    readonly variable: string;
    readonly unsetProblem?: string;
  },
): T | undefined {
  if (given !== undefined) {
    if (given instanceof spec.kind) return given;
    problems.push(`${spec.mismatch} (given ${describe(given)})`);
    return undefined;
  }
  const table = readVariable(env, spec.variable, tableName(), problems);
  if (env[spec.variable] === undefined) {
    if (spec.unsetProblem !== undefined) problems.push(spec.unsetProblem);
    return undefined;
  }
  return table !== undefined && problems.length === 0 ? new spec.kind({ tableName: table }) : undefined;
}
