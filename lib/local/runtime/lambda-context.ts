import { randomUUID } from 'node:crypto';
import { describe, ValidationError } from '../../errors';

/** The Lambda context as a handler sees it: the fields Powertools and middy read, and the remaining time. */
export interface LocalLambdaContext {
  readonly awsRequestId: string;
  readonly functionName: string;
  readonly functionVersion: string;
  readonly invokedFunctionArn: string;
  /** A string, as on Lambda. */
  readonly memoryLimitInMB: string;
  readonly logGroupName: string;
  readonly logStreamName: string;
  callbackWaitsForEmptyEventLoop: boolean;
  /** Milliseconds left before the invocation times out; never below zero. */
  getRemainingTimeInMillis(): number;
}

/** A handler as Lambda calls it: the module export of a function, unchanged. */
export type LambdaHandler<TEvent = unknown, TResult = unknown> = (
  event: TEvent,
  context: LocalLambdaContext,
) => Promise<TResult> | TResult;

/** Options of {@link createLambdaContext}. */
export interface LambdaContextOptions {
  readonly functionName: string;
  /** The function's timeout, in milliseconds (1 to 900000, as on Lambda). */
  readonly timeoutMs: number;
  /** @default 128 */
  readonly memoryLimitInMB?: number;
  /** @default 'us-east-1' */
  readonly region?: string;
  /** @default '000000000000' */
  readonly account?: string;
  /** @default a random UUID */
  readonly awsRequestId?: string;
  /** @default Date.now */
  readonly clock?: () => number;
}

/** The longest a Lambda function may run: 15 minutes. */
export const MAX_FUNCTION_TIMEOUT_MS = 900_000;

/**
 * A Lambda-like context for one invocation that starts now and times out after `timeoutMs`.
 *
 * @throws `ValidationError` when the function name or timeout is out of Lambda's range.
 *
 * @example
 * ```ts
 * const context = createLambdaContext({ functionName: 'billing-worker', timeoutMs: 30_000 });
 * await handler(event, context);
 * context.getRemainingTimeInMillis(); // 30000 minus the time it took
 * ```
 */
export function createLambdaContext(options: LambdaContextOptions): LocalLambdaContext {
  const problems: string[] = [];
  if (typeof options.functionName !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(options.functionName))
    problems.push(
      `functionName must be 1 to 64 letters, digits, '-' or '_' (given ${describe(options.functionName)})`,
    );
  if (
    !Number.isFinite(options.timeoutMs) ||
    options.timeoutMs < 1 ||
    options.timeoutMs > MAX_FUNCTION_TIMEOUT_MS
  )
    problems.push(
      `timeoutMs must be from 1 to ${MAX_FUNCTION_TIMEOUT_MS} (given ${describe(options.timeoutMs)})`,
    );
  if (problems.length > 0)
    throw new ValidationError(`invalid Lambda context options: ${problems.join('; ')}`, options);
  const clock = options.clock ?? Date.now;
  const deadline = clock() + options.timeoutMs;
  const region = options.region ?? 'us-east-1';
  const account = options.account ?? '000000000000';
  const day = new Date(clock()).toISOString().slice(0, 10).replaceAll('-', '/');
  return {
    awsRequestId: options.awsRequestId ?? randomUUID(),
    functionName: options.functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${region}:${account}:function:${options.functionName}`,
    memoryLimitInMB: String(options.memoryLimitInMB ?? 128),
    logGroupName: `/aws/lambda/${options.functionName}`,
    logStreamName: `${day}/[$LATEST]${randomUUID().replaceAll('-', '')}`,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - clock()),
  };
}
