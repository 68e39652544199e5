import {
  DynamoDBClient,
  ListTablesCommand,
  ProvisionedThroughputExceededException,
} from '@aws-sdk/client-dynamodb';
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { CommitError, SluiceError, ValidationError } from '../../lib/errors';
import {
  isTransientError,
  NonRetryableError,
  RETRY_PRESETS,
  RetriesExhaustedError,
  RetryableError,
  type RetryInfo,
  type RetryPolicy,
  type RetryPresetName,
  retryAfterMsOf,
  type WithRetryOptions,
  withRetry,
} from '../../lib/retry';

// --- factories ---------------------------------------------------------------------------------

/** A sleep that records each wait and resolves at once. */
function recordingSleep(): { delays: number[]; sleep: (ms: number) => Promise<void> } {
  const delays: number[] = [];
  return { delays, sleep: async (ms) => void delays.push(ms) };
}

/** A clock that only moves when told, with a sleep that moves it. */
function fakeClock(startMs = 1_700_000_000_000): {
  now: () => number;
  advance: (ms: number) => void;
  delays: number[];
  sleep: (ms: number) => Promise<void>;
} {
  let nowMs = startMs;
  const delays: number[] = [];
  return {
    now: () => nowMs,
    advance: (ms) => {
      nowMs += ms;
    },
    delays,
    sleep: async (ms) => {
      delays.push(ms);
      nowMs += ms;
    },
  };
}

/** An operation that fails with the given errors in turn, then returns `value`; it records attempt numbers. */
function failingThen<T>(errors: readonly unknown[], value: T) {
  const attempts: number[] = [];
  const operation = vi.fn(async (attempt: { number: number }) => {
    attempts.push(attempt.number);
    const error = errors[attempt.number - 1];
    if (error !== undefined) throw error;
    return value;
  });
  return { operation, attempts };
}

/** An operation that always fails, with a fresh error each time (numbered by attempt). */
function alwaysFailing(makeError: (attempt: number) => unknown = (n) => new RetryableError(`busy (${n})`)) {
  return vi.fn(async (attempt: { number: number }): Promise<never> => {
    throw makeError(attempt.number);
  });
}

/** An error shaped the way AWS SDK v3 shapes service errors. */
function sdkError(
  name: string,
  fields: {
    message?: string;
    fault?: 'client' | 'server';
    status?: number;
    retryable?: { throttling?: boolean };
    headers?: Record<string, string>;
  } = {},
): Error {
  return Object.assign(new Error(fields.message ?? name), {
    name,
    $fault: fields.fault ?? 'client',
    $metadata: {
      httpStatusCode: fields.status ?? 400,
      requestId: 'REQ123',
      attempts: 3,
      totalRetryDelay: 180,
    },
    ...(fields.retryable === undefined ? {} : { $retryable: fields.retryable }),
    ...(fields.headers === undefined
      ? {}
      : { $response: { statusCode: fields.status ?? 400, headers: fields.headers, body: undefined } }),
  });
}

/** A Node.js system error, as `net` and `http` raise them. */
function systemError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code, syscall: 'connect', errno: -1 });
}

function throttling(): Error {
  return sdkError('ThrottlingException', { message: 'Rate exceeded', status: 400 });
}

// --- presets -----------------------------------------------------------------------------------

describe('RETRY_PRESETS', () => {
  const sequences: [RetryPresetName, number, number[]][] = [
    ['fast', 3, [1_000, 2_000]],
    ['standard', 5, [2_000, 4_000, 8_000, 16_000]],
    ['rateLimit', 8, [5_000, 15_000, 45_000, 135_000, 300_000, 300_000, 300_000]],
    ['dns', 4, [10_000, 20_000, 40_000]],
    ['verification', 10, [30_000, 45_000, 67_500, 101_250, 151_875, 227_813, 341_719, 512_578, 600_000]],
    ['aws', 4, [100, 200, 400]],
  ];

  it.each(sequences)(
    'waits the %s delays without jitter, then gives up after %i attempts',
    async (preset, maxAttempts, expected) => {
      // Prepare
      const { delays, sleep } = recordingSleep();
      const operation = alwaysFailing();

      // Act
      const failure = await withRetry(operation, { preset, jitter: 'none', sleep }).catch(
        (error: unknown) => error,
      );

      // Assess
      expect(failure).toBeInstanceOf(RetriesExhaustedError);
      expect((failure as RetriesExhaustedError).attempts).toBe(maxAttempts);
      expect(operation).toHaveBeenCalledTimes(maxAttempts);
      expect(delays).toEqual(expected);
    },
  );

  it('holds the published numbers, frozen', () => {
    // Assess
    expect(RETRY_PRESETS).toEqual({
      fast: { maxAttempts: 3, initialDelayMs: 1_000, maxDelayMs: 5_000, backoffFactor: 2 },
      standard: { maxAttempts: 5, initialDelayMs: 2_000, maxDelayMs: 60_000, backoffFactor: 2 },
      rateLimit: { maxAttempts: 8, initialDelayMs: 5_000, maxDelayMs: 300_000, backoffFactor: 3 },
      dns: { maxAttempts: 4, initialDelayMs: 10_000, maxDelayMs: 120_000, backoffFactor: 2 },
      verification: { maxAttempts: 10, initialDelayMs: 30_000, maxDelayMs: 600_000, backoffFactor: 1.5 },
      aws: { maxAttempts: 4, initialDelayMs: 100, maxDelayMs: 2_000, backoffFactor: 2 },
    });
    expect(Object.isFrozen(RETRY_PRESETS)).toBe(true);
    expect(() => {
      (RETRY_PRESETS.standard as { maxAttempts: number }).maxAttempts = 50;
    }).toThrow(TypeError);
  });
});

// --- jitter ------------------------------------------------------------------------------------

describe('withRetry jitter', () => {
  it('keeps equal-jitter delays between half the backoff delay and all of it', async () => {
    await fc.assert(
      fc.asyncProperty(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), async (r) => {
        // Prepare
        const { delays, sleep } = recordingSleep();

        // Act
        await withRetry(alwaysFailing(), { preset: 'standard', sleep, random: () => r }).catch(() => {});

        // Assess
        const backoff = [2_000, 4_000, 8_000, 16_000];
        expect(delays).toHaveLength(backoff.length);
        delays.forEach((delay, i) => {
          expect(delay).toBeGreaterThanOrEqual(backoff[i]! / 2);
          expect(delay).toBeLessThanOrEqual(backoff[i]!);
        });
      }),
    );
  });

  it('uses equal jitter by default, so the smallest random number still waits half the delay', async () => {
    // Prepare
    const { delays, sleep } = recordingSleep();

    // Act
    await withRetry(alwaysFailing(), { preset: 'fast', sleep, random: () => 0 }).catch(() => {});

    // Assess
    expect(delays).toEqual([500, 1_000]);
  });

  it('spreads full-jitter delays over the whole backoff delay, zero included', async () => {
    // Prepare
    const low = recordingSleep();
    const high = recordingSleep();

    // Act
    await withRetry(alwaysFailing(), {
      preset: 'fast',
      jitter: 'full',
      sleep: low.sleep,
      random: () => 0,
    }).catch(() => {});
    await withRetry(alwaysFailing(), {
      preset: 'fast',
      jitter: 'full',
      sleep: high.sleep,
      random: () => 0.999,
    }).catch(() => {});

    // Assess
    expect(low.delays).toEqual([0, 0]);
    expect(high.delays).toEqual([999, 1_998]);
  });
});

// --- outcomes ----------------------------------------------------------------------------------

describe('withRetry outcomes', () => {
  it('returns the value after transient failures, telling onRetry about each one', async () => {
    // Prepare
    const first = throttling();
    const second = systemError('ECONNRESET', 'socket hang up');
    const { operation, attempts } = failingThen([first, second], 'done');
    const { sleep } = recordingSleep();
    const retries: RetryInfo[] = [];

    // Act
    const result = await withRetry(operation, {
      preset: 'fast',
      jitter: 'none',
      sleep,
      onRetry: (info) => retries.push(info),
    });

    // Assess
    expect(result).toBe('done');
    expect(attempts).toEqual([1, 2, 3]);
    expect(retries).toEqual([
      { attempt: 1, delayMs: 1_000, error: first },
      { attempt: 2, delayMs: 2_000, error: second },
    ]);
  });

  it('returns at once when the first attempt succeeds', async () => {
    // Prepare
    const { operation } = failingThen([], 42);
    const { delays, sleep } = recordingSleep();

    // Act
    const result = await withRetry(operation, { sleep });

    // Assess
    expect(result).toBe(42);
    expect(operation).toHaveBeenCalledTimes(1);
    expect(delays).toEqual([]);
  });

  it('fails when a NonRetryableError is thrown, at once and unwrapped', async () => {
    // Prepare
    const error = new NonRetryableError('order 17 does not exist', { cause: throttling() });
    const operation = alwaysFailing(() => error);
    const { delays, sleep } = recordingSleep();

    // Act
    const failure = await withRetry(operation, { sleep, shouldRetry: () => true }).catch((e: unknown) => e);

    // Assess
    expect(failure).toBe(error);
    expect(operation).toHaveBeenCalledTimes(1);
    expect(delays).toEqual([]);
  });

  it('fails when AWS reports a client fault, at once and unwrapped', async () => {
    // Prepare
    const error = sdkError('ValidationException', {
      message: 'One or more parameter values were invalid: Missing the key pk in the item',
    });
    const operation = alwaysFailing(() => error);
    const { sleep } = recordingSleep();

    // Act
    const failure = await withRetry(operation, { preset: 'aws', sleep }).catch((e: unknown) => e);

    // Assess
    expect(failure).toBe(error);
    expect(operation).toHaveBeenCalledTimes(1);
  });

  it('fails when the attempts run out, with a RetriesExhaustedError naming the operation and the last error', async () => {
    // Prepare
    const operation = alwaysFailing((n) =>
      sdkError('InternalServerError', { fault: 'server', status: 500, message: `boom ${n}` }),
    );
    const { sleep } = recordingSleep();

    // Act
    const failure = await withRetry(operation, { preset: 'fast', name: 'fetch order 17', sleep }).catch(
      (e: unknown) => e,
    );

    // Assess
    expect(failure).toBeInstanceOf(RetriesExhaustedError);
    expect(failure).toBeInstanceOf(SluiceError);
    const exhausted = failure as RetriesExhaustedError;
    expect(exhausted.name).toBe('RetriesExhaustedError');
    expect(exhausted.operationName).toBe('fetch order 17');
    expect(exhausted.attempts).toBe(3);
    expect(exhausted.reason).toBe('attempts');
    expect((exhausted.lastError as Error).message).toBe('boom 3');
    expect(exhausted.cause).toBe(exhausted.lastError);
    expect(exhausted.message).toBe(
      "operation 'fetch order 17' failed after 3 attempts (last error: InternalServerError: boom 3)",
    );
  });

  it('fails when a single-attempt policy fails once, without waiting', async () => {
    // Prepare
    const operation = alwaysFailing();
    const { delays, sleep } = recordingSleep();
    const policy: RetryPolicy = { maxAttempts: 1, initialDelayMs: 0, maxDelayMs: 0, backoffFactor: 1 };

    // Act
    const failure = await withRetry(operation, { preset: policy, sleep }).catch((e: unknown) => e);

    // Assess
    expect((failure as RetriesExhaustedError).attempts).toBe(1);
    expect((failure as RetriesExhaustedError).message).toBe(
      'operation failed after 1 attempt (last error: RetryableError: busy (1))',
    );
    expect(delays).toEqual([]);
  });

  it('retries what a custom shouldRetry accepts, passing it the attempt number', async () => {
    // Prepare
    const conflict = sdkError('ConditionalCheckFailedException', {
      message: 'The conditional request failed',
    });
    const { operation } = failingThen([conflict, conflict], 'written');
    const { sleep } = recordingSleep();
    const shouldRetry = vi.fn(
      (error: unknown) => (error as Error).name === 'ConditionalCheckFailedException',
    );

    // Act
    const result = await withRetry(operation, { preset: 'aws', sleep, shouldRetry });

    // Assess
    expect(result).toBe('written');
    expect(shouldRetry.mock.calls).toEqual([
      [conflict, 1],
      [conflict, 2],
    ]);
  });

  it('fails when a custom shouldRetry refuses a transient error, rethrowing it unwrapped', async () => {
    // Prepare
    const error = throttling();
    const operation = alwaysFailing(() => error);

    // Act
    const failure = await withRetry(operation, { shouldRetry: () => false }).catch((e: unknown) => e);

    // Assess
    expect(failure).toBe(error);
    expect(operation).toHaveBeenCalledTimes(1);
  });

  it('accepts an operation that throws before returning a promise', async () => {
    // Prepare
    let calls = 0;
    const { sleep } = recordingSleep();
    const operation = (): Promise<string> => {
      calls++;
      if (calls === 1) throw new RetryableError('not ready');
      return Promise.resolve('ready');
    };

    // Act
    const result = await withRetry(operation, { sleep });

    // Assess
    expect(result).toBe('ready');
  });
});

// --- Retry-After -------------------------------------------------------------------------------

describe('withRetry and Retry-After', () => {
  it("waits at least a RetryableError's retryAfterMs, even above the policy's longest delay", async () => {
    // Prepare
    const { operation } = failingThen([new RetryableError('slow down', { retryAfterMs: 30_000 })], 'ok');
    const { delays, sleep } = recordingSleep();

    // Act
    await withRetry(operation, { preset: 'aws', jitter: 'none', sleep });

    // Assess
    expect(delays).toEqual([30_000]);
  });

  it('waits at least the seconds of a Retry-After header on an SDK error', async () => {
    // Prepare
    const error = sdkError('TooManyRequestsException', {
      status: 429,
      message: 'Rate exceeded',
      headers: { 'retry-after': '7', 'x-amzn-requestid': 'REQ123' },
    });
    const { operation } = failingThen([error], 'ok');
    const { delays, sleep } = recordingSleep();

    // Act
    await withRetry(operation, { preset: 'aws', sleep, random: () => 0.5 });

    // Assess
    expect(delays).toHaveLength(1);
    expect(delays[0]).toBeGreaterThanOrEqual(7_000);
  });

  it('keeps the backoff delay when Retry-After asks for less', async () => {
    // Prepare
    const { operation } = failingThen([new RetryableError('busy', { retryAfterMs: 10 })], 'ok');
    const { delays, sleep } = recordingSleep();

    // Act
    await withRetry(operation, { preset: 'standard', jitter: 'none', sleep });

    // Assess
    expect(delays).toEqual([2_000]);
  });

  it('fails when Retry-After asks for a wait past the deadline, without sleeping', async () => {
    // Prepare
    const clock = fakeClock();
    const operation = alwaysFailing(() => new RetryableError('busy', { retryAfterMs: 60_000 }));

    // Act
    const failure = await withRetry(operation, {
      preset: 'aws',
      sleep: clock.sleep,
      now: clock.now,
      deadlineMs: clock.now() + 10_000,
    }).catch((e: unknown) => e);

    // Assess
    expect(failure).toBeInstanceOf(RetriesExhaustedError);
    expect((failure as RetriesExhaustedError).reason).toBe('deadline');
    expect(clock.delays).toEqual([]);
    expect(operation).toHaveBeenCalledTimes(1);
  });

  it('fails when a RetryableError is given a negative retryAfterMs', () => {
    // Act & Assess
    expect(() => new RetryableError('busy', { retryAfterMs: -5 })).toThrow(ValidationError);
    expect(() => new RetryableError('busy', { retryAfterMs: Number.NaN })).toThrow(/given NaN/);
  });
});

describe('retryAfterMsOf', () => {
  const now = Date.parse('2024-05-01T12:00:00Z');

  it.each<[string, unknown, number | undefined]>([
    ['a RetryableError with retryAfterMs', new RetryableError('busy', { retryAfterMs: 2_500 }), 2_500],
    ['a RetryableError without', new RetryableError('busy'), undefined],
    ['Retry-After in seconds', sdkError('SlowDown', { status: 503, headers: { 'retry-after': '7' } }), 7_000],
    [
      'Retry-After with capitals',
      sdkError('SlowDown', { status: 503, headers: { 'Retry-After': ' 3 ' } }),
      3_000,
    ],
    [
      'Retry-After as an HTTP date',
      sdkError('SlowDown', { status: 503, headers: { 'retry-after': 'Wed, 01 May 2024 12:00:12 GMT' } }),
      12_000,
    ],
    [
      'Retry-After as a date in the past',
      sdkError('SlowDown', { status: 503, headers: { 'retry-after': 'Wed, 01 May 2024 11:00:00 GMT' } }),
      0,
    ],
    [
      'a malformed Retry-After',
      sdkError('SlowDown', { status: 503, headers: { 'retry-after': '1.5' } }),
      undefined,
    ],
    ['an SDK error without the header', sdkError('SlowDown', { status: 503, headers: {} }), undefined],
    ['an SDK error without a response', throttling(), undefined],
    ['a plain Error', new Error('boom'), undefined],
    ['a string', 'retry-after: 7', undefined],
  ])('reads %s', (_, error, expected) => {
    // Act & Assess
    expect(retryAfterMsOf(error, now)).toBe(expected);
  });
});

// --- deadline and abort ------------------------------------------------------------------------

describe('withRetry deadline', () => {
  it('fails when the next wait would reach the deadline, giving up at once instead of sleeping', async () => {
    // Prepare
    const clock = fakeClock();
    const start = clock.now();
    const operation = vi.fn(async () => {
      clock.advance(300); // each attempt takes 300 ms
      throw throttling();
    });

    // Act
    const failure = await withRetry(operation, {
      preset: 'standard',
      jitter: 'none',
      name: 'drain queue',
      sleep: clock.sleep,
      now: clock.now,
      deadlineMs: start + 5_000,
    }).catch((e: unknown) => e);

    // Assess
    expect(failure).toBeInstanceOf(RetriesExhaustedError);
    const exhausted = failure as RetriesExhaustedError;
    expect(exhausted.reason).toBe('deadline');
    expect(exhausted.attempts).toBe(2);
    expect(exhausted.message).toMatch(
      /^operation 'drain queue' gave up after 2 attempts: the deadline stopped it/,
    );
    expect(exhausted.message).toContain('ThrottlingException: Rate exceeded');
    expect(clock.delays).toEqual([2_000]);
    expect(clock.now()).toBeLessThanOrEqual(start + 5_000);
  });

  it('fails when the deadline has already passed, without attempting', async () => {
    // Prepare
    const clock = fakeClock();
    const operation = vi.fn(async () => 'never');

    // Act
    const failure = await withRetry(operation, {
      now: clock.now,
      deadlineMs: clock.now() - 250,
    }).catch((e: unknown) => e);

    // Assess
    expect(failure).toBeInstanceOf(RetriesExhaustedError);
    expect((failure as RetriesExhaustedError).attempts).toBe(0);
    expect((failure as RetriesExhaustedError).message).toBe(
      'operation was not attempted: its deadline had passed 250 ms before the first attempt',
    );
    expect(operation).not.toHaveBeenCalled();
  });
});

describe('withRetry abort', () => {
  it('fails when the signal aborts during a wait, with its reason, even if the sleep ignores the signal', async () => {
    // Prepare
    const controller = new AbortController();
    const reason = new Error('invocation is shutting down');
    const sleep = vi.fn((): Promise<void> => {
      queueMicrotask(() => controller.abort(reason));
      return new Promise<void>(() => {}); // a wait that never ends by itself
    });

    // Act
    const failure = await withRetry(alwaysFailing(), { signal: controller.signal, sleep }).catch(
      (e: unknown) => e,
    );

    // Assess
    expect(failure).toBe(reason);
    expect(sleep).toHaveBeenCalledTimes(1);
  });

  it('fails when the signal aborts during the built-in wait, cancelling its timer', async () => {
    // Prepare
    const controller = new AbortController();
    const reason = new Error('stop');
    const startedAt = performance.now();

    // Act
    const failure = await withRetry(alwaysFailing(), {
      preset: 'verification', // a 15 to 30 second wait
      signal: controller.signal,
      onRetry: () => queueMicrotask(() => controller.abort(reason)),
    }).catch((e: unknown) => e);

    // Assess
    expect(failure).toBe(reason);
    expect(performance.now() - startedAt).toBeLessThan(1_000);
  });

  it('fails when the signal aborts during an attempt that ignores it, and hands the signal to the attempt', async () => {
    // Prepare
    const controller = new AbortController();
    const seen: (AbortSignal | undefined)[] = [];
    const operation = (attempt: { signal?: AbortSignal }): Promise<never> => {
      seen.push(attempt.signal);
      queueMicrotask(() => controller.abort());
      return new Promise<never>(() => {});
    };

    // Act
    const failure = await withRetry(operation, { signal: controller.signal }).catch((e: unknown) => e);

    // Assess
    expect(failure).toBeInstanceOf(DOMException);
    expect((failure as DOMException).name).toBe('AbortError');
    expect(seen).toEqual([controller.signal]);
  });

  it('fails when the signal is already aborted, without attempting', async () => {
    // Prepare
    const reason = new Error('cancelled');
    const operation = vi.fn(async () => 'never');

    // Act
    const failure = await withRetry(operation, { signal: AbortSignal.abort(reason) }).catch(
      (e: unknown) => e,
    );

    // Assess
    expect(failure).toBe(reason);
    expect(operation).not.toHaveBeenCalled();
  });
});

// --- options -----------------------------------------------------------------------------------

describe('withRetry options', () => {
  const policy = (fields: Partial<Record<keyof RetryPolicy, unknown>>): RetryPolicy =>
    ({ maxAttempts: 3, initialDelayMs: 100, maxDelayMs: 1_000, backoffFactor: 2, ...fields }) as RetryPolicy;

  it.each<[string, WithRetryOptions, string]>([
    [
      'maxAttempts is 0',
      { preset: policy({ maxAttempts: 0 }) },
      'maxAttempts must be an integer between 1 and 100 (given 0)',
    ],
    ['maxAttempts is 101', { preset: policy({ maxAttempts: 101 }) }, 'between 1 and 100 (given 101)'],
    ['maxAttempts is fractional', { preset: policy({ maxAttempts: 2.5 }) }, 'between 1 and 100 (given 2.5)'],
    [
      'initialDelayMs is negative',
      { preset: policy({ initialDelayMs: -1 }) },
      'initialDelayMs must be a finite number of milliseconds, 0 or more (given -1)',
    ],
    [
      'maxDelayMs is Infinity',
      { preset: policy({ maxDelayMs: Number.POSITIVE_INFINITY }) },
      'maxDelayMs must be a finite number of milliseconds, 0 or more (given Infinity)',
    ],
    [
      'initialDelayMs exceeds maxDelayMs',
      { preset: policy({ initialDelayMs: 5_000 }) },
      'initialDelayMs must not exceed maxDelayMs (given 5000 and 1000)',
    ],
    [
      'backoffFactor is below 1',
      { preset: policy({ backoffFactor: 0.5 }) },
      'backoffFactor must be a finite number, 1 or more (given 0.5)',
    ],
    [
      'a policy field is unknown',
      { preset: { ...policy({}), retries: 3 } as RetryPolicy },
      'unknown retry policy field "retries"',
    ],
    [
      'the preset name is unknown',
      { preset: 'slow' as RetryPresetName },
      'preset must be one of fast, standard, rateLimit, dns, verification, aws or a retry policy (given "slow")',
    ],
    [
      'jitter is unknown',
      { jitter: 'random' as 'full' },
      `jitter must be one of 'full', 'equal', 'none' (given "random")`,
    ],
    [
      'deadlineMs is NaN',
      { deadlineMs: Number.NaN },
      'deadlineMs must be a time in milliseconds since the epoch (given NaN)',
    ],
    ['an option is unknown', { retries: 3 } as WithRetryOptions, 'unknown option "retries"'],
    [
      'sleep is not a function',
      { sleep: 100 } as unknown as WithRetryOptions,
      'sleep must be a function (given 100)',
    ],
  ])('fails when %s', async (_, options, message) => {
    // Prepare
    const operation = vi.fn(async () => 'never');

    // Act
    const failure = await withRetry(operation, options).catch((e: unknown) => e);

    // Assess
    expect(failure).toBeInstanceOf(ValidationError);
    expect((failure as ValidationError).message).toContain(message);
    expect((failure as ValidationError).value).toBe(options);
    expect(operation).not.toHaveBeenCalled();
  });

  it('fails when several options are bad, naming every one', async () => {
    // Act
    const failure = await withRetry(async () => 'never', {
      preset: policy({ maxAttempts: 0, backoffFactor: 0 }),
      jitter: 'some' as 'full',
    }).catch((e: unknown) => e);

    // Assess
    expect((failure as Error).message).toBe(
      'invalid retry options: maxAttempts must be an integer between 1 and 100 (given 0); ' +
        'backoffFactor must be a finite number, 1 or more (given 0); ' +
        `jitter must be one of 'full', 'equal', 'none' (given "some")`,
    );
  });
});

// --- isTransientError --------------------------------------------------------------------------

describe('isTransientError', () => {
  const fetchFailed = Object.assign(new TypeError('fetch failed'), {
    cause: systemError('ECONNREFUSED', 'connect ECONNREFUSED 10.0.0.1:443'),
  });

  it.each<[string, unknown]>([
    ['a RetryableError', new RetryableError('try again')],
    ['ThrottlingException', throttling()],
    [
      'ProvisionedThroughputExceededException',
      sdkError('ProvisionedThroughputExceededException', {
        message: 'The level of configured provisioned throughput for the table was exceeded.',
      }),
    ],
    [
      'RequestLimitExceeded',
      sdkError('RequestLimitExceeded', {
        message: 'Throughput exceeds the current throughput limit for your account.',
      }),
    ],
    [
      'TooManyRequestsException',
      sdkError('TooManyRequestsException', { status: 429, message: 'Rate Exceeded.' }),
    ],
    ['RequestThrottled', sdkError('RequestThrottled', { status: 400 })],
    [
      'SlowDown',
      sdkError('SlowDown', { fault: 'server', status: 503, message: 'Please reduce your request rate.' }),
    ],
    ['Throttling', sdkError('Throttling', { message: 'Rate exceeded' })],
    ['ThrottledException', sdkError('ThrottledException')],
    ['TransactionInProgressException', sdkError('TransactionInProgressException')],
    [
      'an unknown client error marked as throttling',
      sdkError('SomethingBusy', { retryable: { throttling: true } }),
    ],
    ['an unknown client error with status 429', sdkError('Busy', { status: 429 })],
    ['an error the SDK marks $retryable', sdkError('IdempotentParameterMismatch', { retryable: {} })],
    [
      'InternalServerError',
      sdkError('InternalServerError', { fault: 'server', status: 500, message: 'Internal server error' }),
    ],
    ['ServiceUnavailable', sdkError('ServiceUnavailable', { fault: 'server', status: 503 })],
    ['an unknown error with status 502', sdkError('UnknownError', { status: 502 })],
    [
      'TimeoutError',
      Object.assign(new Error('Connection timed out after 1000 ms'), { name: 'TimeoutError' }),
    ],
    [
      'RequestTimeout',
      sdkError('RequestTimeout', {
        status: 400,
        message:
          'Your socket connection to the server was not read from or written to within the timeout period.',
      }),
    ],
    ['ECONNRESET', systemError('ECONNRESET', 'socket hang up')],
    ['ECONNREFUSED', systemError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:9')],
    ['EPIPE', systemError('EPIPE', 'write EPIPE')],
    ['ETIMEDOUT', systemError('ETIMEDOUT', 'connect ETIMEDOUT 10.0.0.1:443')],
    ['EAI_AGAIN', systemError('EAI_AGAIN', 'getaddrinfo EAI_AGAIN dynamodb.us-east-1.amazonaws.com')],
    ['fetch failing on a refused connection', fetchFailed],
  ])('is true for %s', (_, error) => {
    expect(isTransientError(error)).toBe(true);
  });

  it.each<[string, unknown]>([
    ['a NonRetryableError', new NonRetryableError('give up')],
    ['a NonRetryableError caused by throttling', new NonRetryableError('give up', { cause: throttling() })],
    [
      'ValidationException',
      sdkError('ValidationException', { message: 'One or more parameter values were invalid' }),
    ],
    [
      'ConditionalCheckFailedException',
      sdkError('ConditionalCheckFailedException', { message: 'The conditional request failed' }),
    ],
    [
      'ResourceNotFoundException',
      sdkError('ResourceNotFoundException', { message: 'Requested resource not found' }),
    ],
    ['AccessDeniedException', sdkError('AccessDeniedException', { status: 403 })],
    ['AbortError', Object.assign(new Error('Request aborted'), { name: 'AbortError' })],
    ['an AbortSignal reason', AbortSignal.abort().reason],
    ['a Sluice ValidationError', new ValidationError('bad input', 'x')],
    [
      'a Sluice error caused by throttling',
      new CommitError('refused', { eventIds: [], reasons: [] }, { cause: throttling() }),
    ],
    [
      'a RetriesExhaustedError',
      new RetriesExhaustedError({ attempts: 3, lastError: throttling(), reason: 'attempts' }),
    ],
    ['a plain Error', new Error('boom')],
    ['a TypeError', new TypeError("Cannot read properties of undefined (reading 'id')")],
    ['a string', 'ThrottlingException'],
    ['null', null],
    ['undefined', undefined],
  ])('is false for %s', (_, error) => {
    expect(isTransientError(error)).toBe(false);
  });
});

// --- a real SDK client -------------------------------------------------------------------------

describe('withRetry around a real DynamoDB client', () => {
  it('succeeds on the third attempt after two throttled calls', async () => {
    // Prepare: a client pointed at a closed port whose requests never leave the process: a middleware
    // in the finalizeRequest step throws DynamoDB's own throttling error twice, then answers for the
    // service by returning { output, response } without calling next.
    const client = new DynamoDBClient({
      endpoint: 'http://127.0.0.1:9',
      region: 'us-east-1',
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
      maxAttempts: 1,
    });
    let calls = 0;
    client.middlewareStack.add(
      () => async () => {
        calls++;
        if (calls <= 2) {
          throw new ProvisionedThroughputExceededException({
            message: 'The level of configured provisioned throughput for the table was exceeded.',
            $metadata: { httpStatusCode: 400, requestId: `REQ${calls}` },
          });
        }
        return {
          output: { $metadata: { httpStatusCode: 200 }, TableNames: [] },
          response: { statusCode: 200, headers: {}, body: undefined },
        } as never;
      },
      { step: 'finalizeRequest', name: 'fakeThrottlingMiddleware', priority: 'low' },
    );
    const { delays, sleep } = recordingSleep();
    const retried: unknown[] = [];

    // Act
    const output = await withRetry(() => client.send(new ListTablesCommand({})), {
      preset: 'aws',
      sleep,
      onRetry: ({ error }) => retried.push(error),
    });

    // Assess
    expect(output.TableNames).toEqual([]);
    expect(calls).toBe(3);
    expect(retried).toHaveLength(2);
    expect(retried[0]).toBeInstanceOf(ProvisionedThroughputExceededException);
    expect(delays).toHaveLength(2);
    expect(delays[0]).toBeGreaterThanOrEqual(50);
    expect(delays[0]).toBeLessThanOrEqual(100);
    expect(delays[1]).toBeGreaterThanOrEqual(100);
    expect(delays[1]).toBeLessThanOrEqual(200);
    client.destroy();
  });
});
