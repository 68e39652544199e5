import { describe, ValidationError } from '../errors';
import { exponentialDelay } from './backoff';
import { NonRetryableError, RetriesExhaustedError } from './errors';
import { isTransientError, retryAfterMsOf } from './is-transient';
import { RETRY_PRESETS, type RetryPolicy, type RetryPresetName } from './presets';

/** How `withRetry` spreads its waits so that many callers failing together do not retry together. */
export type RetryJitter = 'full' | 'equal' | 'none';

/** What `withRetry` passes to the operation on each attempt. */
export interface RetryAttempt {
  /** The attempt's number: 1 for the first call, 2 for the first retry. */
  readonly number: number;
  /** The `signal` given to `withRetry`, to pass on to the calls the operation makes. */
  readonly signal?: AbortSignal;
}

/** What `onRetry` is told before each wait. */
export interface RetryInfo {
  /** The number of the attempt that just failed. */
  readonly attempt: number;
  /** How long `withRetry` will wait before the next attempt, in milliseconds. */
  readonly delayMs: number;
  /** The error the attempt failed with. */
  readonly error: unknown;
}

/**
 * Options of `withRetry`. Unknown keys are rejected.
 *
 * @example
 * ```ts
 * const options: WithRetryOptions = { preset: 'aws', name: 'put checkpoint', jitter: 'full' };
 * ```
 */
export interface WithRetryOptions {
  /**
   * A preset's name or a policy of one's own.
   * @default 'standard' (5 attempts, 2 s doubling up to 60 s)
   */
  readonly preset?: RetryPresetName | RetryPolicy;
  /**
   * The operation's name, for error messages.
   * @default none: messages say "operation"
   */
  readonly name?: string;
  /**
   * Whether a failed attempt is worth another. A `NonRetryableError` stops the retries whatever it says.
   * @default isTransientError
   */
  readonly shouldRetry?: (error: unknown, attempt: number) => boolean;
  /**
   * `'equal'` waits half the backoff delay plus a random part of the other half, so waits are never
   * zero yet spread; `'full'` waits a random part of the whole delay; `'none'` waits exactly the delay.
   * @default 'equal'
   */
  readonly jitter?: RetryJitter;
  /**
   * A time, in milliseconds since the epoch, after which no attempt starts and no wait runs: when the
   * next wait would reach it, `withRetry` gives up at once with a `RetriesExhaustedError`.
   * @default none: only `maxAttempts` limits the retries
   */
  readonly deadlineMs?: number;
  /**
   * The longest a failure's own `Retry-After` (or `RetryableError.retryAfterMs`) may make `withRetry`
   * wait, in milliseconds: a longer one waits this long instead, so a server asking for an hour cannot
   * hold the caller for an hour. The backoff delay still applies below it.
   * @default none: a `Retry-After` is waited in full (bounded by `deadlineMs`, when given)
   */
  readonly maxRetryAfterMs?: number;
  /**
   * Stops the retries: an abort ends the wait for an attempt or a delay at once, and `withRetry`
   * rejects with the signal's reason. The signal is also handed to the operation.
   * @default none
   */
  readonly signal?: AbortSignal;
  /**
   * Called before each wait, to log or count retries. An error it throws ends the retries.
   * @default none
   */
  readonly onRetry?: (info: RetryInfo) => void;
  /**
   * Waits, rejecting with the signal's reason when it aborts. For tests.
   * @default a timer
   */
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /**
   * A random number in [0, 1), for jitter. For tests.
   * @default Math.random
   */
  readonly random?: () => number;
  /**
   * The current time in milliseconds since the epoch, for deadlines and HTTP-date `Retry-After`s. For tests.
   * @default Date.now
   */
  readonly now?: () => number;
}

const OPTION_KEYS: ReadonlySet<string> = new Set([
  'preset',
  'name',
  'shouldRetry',
  'jitter',
  'deadlineMs',
  'maxRetryAfterMs',
  'signal',
  'onRetry',
  'sleep',
  'random',
  'now',
] satisfies (keyof WithRetryOptions)[]);

const POLICY_KEYS: ReadonlySet<string> = new Set([
  'maxAttempts',
  'initialDelayMs',
  'maxDelayMs',
  'backoffFactor',
] satisfies (keyof RetryPolicy)[]);

const JITTERS: readonly RetryJitter[] = ['full', 'equal', 'none'];

const MAX_ATTEMPTS_LIMIT = 100;

interface ResolvedOptions {
  readonly policy: RetryPolicy;
  readonly name: string | undefined;
  readonly shouldRetry: (error: unknown, attempt: number) => boolean;
  readonly jitter: RetryJitter;
  readonly deadlineMs: number | undefined;
  readonly maxRetryAfterMs: number | undefined;
  readonly signal: AbortSignal | undefined;
  readonly onRetry: ((info: RetryInfo) => void) | undefined;
  readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  readonly random: () => number;
  readonly now: () => number;
}

/**
 * Runs an async operation, and runs it again while it fails with errors worth retrying, waiting longer
 * each time (exponential backoff with jitter).
 *
 * - A failure `shouldRetry` rejects (by default, one `isTransientError` does not recognise) and any
 *   `NonRetryableError` are rethrown as they are.
 * - When the attempts run out, or `deadlineMs` leaves no room for the next, it throws a
 *   `RetriesExhaustedError` whose `cause` is the last failure.
 * - The wait before retry `n` is `min(maxDelayMs, initialDelayMs * backoffFactor ** (n - 1))`, jittered,
 *   then raised to what the failure asks for (`RetryableError.retryAfterMs`, a `Retry-After` header),
 *   itself capped at `maxRetryAfterMs` when given.
 * - Invalid options are rejected with a `ValidationError` naming each bad value, before any attempt.
 *
 * @example
 * ```ts
 * const { Item } = await withRetry(
 *   ({ signal }) => dynamodb.send(new GetItemCommand({ TableName, Key }), { abortSignal: signal }),
 *   { preset: 'aws', name: 'read checkpoint', deadlineMs: Date.now() + 5_000 },
 * );
 * ```
 */
export async function withRetry<T>(
  operation: (attempt: RetryAttempt) => Promise<T>,
  options: WithRetryOptions = {},
): Promise<T> {
  const resolved = resolveOptions(operation, options);
  const { policy, name, signal, deadlineMs, now } = resolved;

  throwIfAborted(signal);
  const remainingAtStartMs = deadlineMs === undefined ? undefined : deadlineMs - now();
  if (remainingAtStartMs !== undefined && remainingAtStartMs <= 0) {
    throw new RetriesExhaustedError({
      name,
      attempts: 0,
      lastError: undefined,
      reason: 'deadline',
      remainingMs: remainingAtStartMs,
    });
  }

  for (let attempt = 1; ; attempt++) {
    let error: unknown;
    try {
      // Promise.resolve: an operation that is not an async function may still return a plain value.
      const call = Promise.resolve(
        operation(signal === undefined ? { number: attempt } : { number: attempt, signal }),
      );
      return await untilAborted(call, signal);
    } catch (caught) {
      error = caught;
    }

    throwIfAborted(signal);
    if (error instanceof NonRetryableError || !resolved.shouldRetry(error, attempt)) throw error;
    if (attempt >= policy.maxAttempts) {
      throw new RetriesExhaustedError({ name, attempts: attempt, lastError: error, reason: 'attempts' });
    }

    const delayMs = nextDelayMs(resolved, attempt, error);
    if (deadlineMs !== undefined) {
      const remainingMs = deadlineMs - now();
      if (delayMs >= remainingMs) {
        throw new RetriesExhaustedError({
          name,
          attempts: attempt,
          lastError: error,
          reason: 'deadline',
          delayMs,
          remainingMs,
        });
      }
    }
    resolved.onRetry?.({ attempt, delayMs, error });
    await untilAborted(resolved.sleep(delayMs, signal), signal);
    throwIfAborted(signal);
  }
}

/** The wait after failed attempt `attempt`: backoff, then jitter, then raised to the failure's Retry-After. */
function nextDelayMs(options: ResolvedOptions, attempt: number, error: unknown): number {
  const { initialDelayMs, maxDelayMs, backoffFactor } = options.policy;
  const backoffMs = Math.round(
    exponentialDelay({ initial: initialDelayMs, factor: backoffFactor, max: maxDelayMs }, attempt),
  );
  let delayMs: number;
  switch (options.jitter) {
    case 'none':
      delayMs = backoffMs;
      break;
    case 'full':
      delayMs = Math.floor(options.random() * backoffMs);
      break;
    case 'equal': {
      const half = backoffMs / 2;
      delayMs = Math.floor(half + options.random() * half);
      break;
    }
  }
  delayMs = Math.min(backoffMs, Math.max(0, delayMs));
  const askedMs = retryAfterMsOf(error, options.now());
  if (askedMs === undefined) return delayMs;
  const retryAfterMs = Math.min(askedMs, options.maxRetryAfterMs ?? Number.POSITIVE_INFINITY);
  return Math.max(delayMs, Math.ceil(retryAfterMs));
}

function resolveOptions(operation: unknown, options: WithRetryOptions): ResolvedOptions {
  const problems: string[] = [];
  if (typeof operation !== 'function')
    problems.push(`operation must be a function (given ${show(operation)})`);
  if (typeof options !== 'object' || options === null) {
    throw new ValidationError(`withRetry options must be an object (given ${show(options)})`, options);
  }
  for (const key of Object.keys(options)) {
    if (!OPTION_KEYS.has(key)) {
      problems.push(`unknown option ${show(key)}; known options are ${[...OPTION_KEYS].join(', ')}`);
    }
  }

  const policy = resolvePolicy(options.preset, problems);
  if (options.name !== undefined && typeof options.name !== 'string') {
    problems.push(`name must be a string (given ${show(options.name)})`);
  }
  if (options.jitter !== undefined && !JITTERS.includes(options.jitter)) {
    problems.push(
      `jitter must be one of ${JITTERS.map((j) => `'${j}'`).join(', ')} (given ${show(options.jitter)})`,
    );
  }
  if (options.deadlineMs !== undefined && !Number.isFinite(options.deadlineMs)) {
    problems.push(
      `deadlineMs must be a time in milliseconds since the epoch (given ${show(options.deadlineMs)})`,
    );
  }
  if (options.maxRetryAfterMs !== undefined && !isDelay(options.maxRetryAfterMs)) {
    problems.push(
      `maxRetryAfterMs must be a finite number of milliseconds, 0 or more (given ${show(options.maxRetryAfterMs)})`,
    );
  }
  if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) {
    problems.push(`signal must be an AbortSignal (given ${show(options.signal)})`);
  }
  for (const key of ['shouldRetry', 'onRetry', 'sleep', 'random', 'now'] as const) {
    const value = options[key];
    if (value !== undefined && typeof value !== 'function') {
      problems.push(`${key} must be a function (given ${show(value)})`);
    }
  }

  if (problems.length > 0 || policy === undefined) {
    throw new ValidationError(`invalid retry options: ${problems.join('; ')}`, options);
  }
  return {
    policy,
    name: options.name,
    shouldRetry: options.shouldRetry ?? isTransientError,
    jitter: options.jitter ?? 'equal',
    deadlineMs: options.deadlineMs,
    maxRetryAfterMs: options.maxRetryAfterMs,
    signal: options.signal,
    onRetry: options.onRetry,
    sleep: options.sleep ?? sleep,
    random: options.random ?? Math.random,
    now: options.now ?? Date.now,
  };
}

/** The policy a `preset` option names or gives, or undefined after recording why it is invalid. */
function resolvePolicy(preset: unknown, problems: string[]): RetryPolicy | undefined {
  if (preset === undefined) return RETRY_PRESETS.standard;
  if (typeof preset === 'string') {
    if (Object.hasOwn(RETRY_PRESETS, preset)) return RETRY_PRESETS[preset as RetryPresetName];
    problems.push(
      `preset must be one of ${Object.keys(RETRY_PRESETS).join(', ')} or a retry policy (given ${show(preset)})`,
    );
    return undefined;
  }
  if (typeof preset !== 'object' || preset === null) {
    problems.push(`preset must be a preset name or a retry policy (given ${show(preset)})`);
    return undefined;
  }

  const before = problems.length;
  for (const key of Object.keys(preset)) {
    if (!POLICY_KEYS.has(key)) {
      problems.push(
        `unknown retry policy field ${show(key)}; known fields are ${[...POLICY_KEYS].join(', ')}`,
      );
    }
  }
  const { maxAttempts, initialDelayMs, maxDelayMs, backoffFactor } = preset as Partial<
    Record<string, unknown>
  >;
  if (
    !(
      Number.isInteger(maxAttempts) &&
      (maxAttempts as number) >= 1 &&
      (maxAttempts as number) <= MAX_ATTEMPTS_LIMIT
    )
  ) {
    problems.push(
      `maxAttempts must be an integer between 1 and ${MAX_ATTEMPTS_LIMIT} (given ${show(maxAttempts)})`,
    );
  }
  const initialValid = isDelay(initialDelayMs);
  const maxValid = isDelay(maxDelayMs);
  if (!initialValid) {
    problems.push(
      `initialDelayMs must be a finite number of milliseconds, 0 or more (given ${show(initialDelayMs)})`,
    );
  }
  if (!maxValid) {
    problems.push(
      `maxDelayMs must be a finite number of milliseconds, 0 or more (given ${show(maxDelayMs)})`,
    );
  }
  if (initialValid && maxValid && initialDelayMs > maxDelayMs) {
    problems.push(`initialDelayMs must not exceed maxDelayMs (given ${initialDelayMs} and ${maxDelayMs})`);
  }
  if (!(typeof backoffFactor === 'number' && Number.isFinite(backoffFactor) && backoffFactor >= 1)) {
    problems.push(`backoffFactor must be a finite number, 1 or more (given ${show(backoffFactor)})`);
  }
  return problems.length === before ? (preset as RetryPolicy) : undefined;
}

/** Renders a value for a message; unlike JSON, keeps NaN and Infinity readable. */
function show(value: unknown): string {
  return typeof value === 'number' ? String(value) : describe(value);
}

function isDelay(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0;
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw signal.reason;
}

/** Settles as `promise` does, or rejects with the signal's reason as soon as it aborts. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  if (signal.aborted) {
    promise.catch(() => {});
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/** Waits `ms` milliseconds, or rejects with the signal's reason when it aborts first. */
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
