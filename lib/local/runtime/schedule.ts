import { randomUUID } from 'node:crypto';
import { describe, ValidationError } from '../../errors';
import { createLambdaContext, type LambdaHandler } from './lambda-context';
import { OptionProblems } from './option-problems';

/** The event EventBridge sends a function on a schedule. */
export interface ScheduledEvent {
  readonly version: '0';
  readonly id: string;
  readonly 'detail-type': 'Scheduled Event';
  readonly source: 'aws.events';
  readonly account: string;
  readonly time: string;
  readonly region: string;
  readonly resources: string[];
  readonly detail: Record<string, never>;
}

/** Options of a {@link FixedRateSchedule}. Unknown keys are rejected. */
export interface FixedRateScheduleOptions {
  /** The function, as its module exports it. */
  readonly handler: LambdaHandler<ScheduledEvent>;
  /** An EventBridge rate expression: `rate(1 minute)`, `rate(5 minutes)`, `rate(1 hour)`, `rate(2 days)`. @default 'rate(1 minute)' */
  readonly rate?: string;
  /** The interval in milliseconds, for tests and demos; overrides `rate`. */
  readonly intervalMs?: number;
  /** Also invoke at once on `start()`, not only after the first interval. @default false */
  readonly runOnStart?: boolean;
  /** @default 'local-schedule' */
  readonly functionName?: string;
  /** The function timeout: the context's remaining time counts down from it. @default 60 */
  readonly functionTimeoutSeconds?: number;
  /** @default 'us-east-1' */
  readonly region?: string;
  /** Told of each invocation that threw. @default logs with console.error */
  readonly onError?: (error: unknown) => void;
}

/** Counts of a schedule. */
export interface ScheduleStats {
  /** Times the rate came round. */
  ticks: number;
  invocations: number;
  /** Ticks skipped because the previous invocation was still running. */
  skipped: number;
  errors: number;
  running: boolean;
  /** The most invocations that ran at once: never above 1. */
  peakConcurrency: number;
}

const OPTION_KEYS = new Set<string>([
  'handler',
  'rate',
  'intervalMs',
  'runOnStart',
  'functionName',
  'functionTimeoutSeconds',
  'region',
  'onError',
]);

const UNIT_MS: Readonly<Record<string, number>> = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };

/**
 * The interval of an EventBridge rate expression, in milliseconds.
 *
 * @throws `ValidationError` naming the expression when it is not one.
 *
 * @example
 * ```ts
 * rateToMilliseconds('rate(5 minutes)'); // 300000
 * ```
 */
export function rateToMilliseconds(rate: string): number {
  const match = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(rate);
  const value = Number(match?.[1]);
  const unit = match?.[2]?.replace(/s$/, '');
  if (!match || !unit || !Number.isInteger(value) || value < 1 || (value === 1 && match[2]?.endsWith('s'))) {
    throw new ValidationError(
      `rate must be an EventBridge rate expression such as 'rate(1 minute)' or 'rate(5 minutes)' (given ${describe(rate)})`,
      rate,
    );
  }
  return value * (UNIT_MS[unit] ?? 60_000);
}

/**
 * A fixed-rate ticker, as an EventBridge schedule rule drives a function: it invokes the handler with
 * a scheduled event and a Lambda-like context every interval, and never runs two invocations at once
 * (a tick that comes while the previous invocation runs is skipped, as with a reserved concurrency
 * of 1). Unlike Lambda, an invocation that outlasts its timeout is not killed: it is told its time is
 * up through `getRemainingTimeInMillis()`, and ticks are skipped until it returns.
 *
 * @example
 * ```ts
 * const schedule = new FixedRateSchedule({
 *   handler: fetcherHandler,
 *   rate: 'rate(1 minute)',
 *   functionTimeoutSeconds: 60,
 * });
 * schedule.start();
 * await schedule.stop(); // waits for a running invocation
 * ```
 */
export class FixedRateSchedule {
  readonly intervalMs: number;
  private readonly handler: LambdaHandler<ScheduledEvent>;
  private readonly runOnStart: boolean;
  private readonly functionName: string;
  private readonly functionTimeoutMs: number;
  private readonly region: string;
  private readonly onError: (error: unknown) => void;
  private timer?: NodeJS.Timeout;
  private current?: Promise<void>;
  private readonly counters: ScheduleStats = {
    ticks: 0,
    invocations: 0,
    skipped: 0,
    errors: 0,
    running: false,
    peakConcurrency: 0,
  };
  private active = 0;

  constructor(options: FixedRateScheduleOptions) {
    const problems = new OptionProblems();
    problems.unknownKeys(options, OPTION_KEYS);
    problems.handler(options?.handler);
    let intervalMs = 60_000;
    if (options?.intervalMs !== undefined) {
      if (problems.wholeNumber('intervalMs', options.intervalMs, 1, 86_400_000))
        intervalMs = options.intervalMs;
    } else if (options?.rate !== undefined) {
      try {
        intervalMs = rateToMilliseconds(options.rate);
      } catch (error) {
        problems.add((error as Error).message);
      }
    }
    const timeout = options?.functionTimeoutSeconds;
    problems.wholeNumber('functionTimeoutSeconds', timeout, 1, 900);
    problems.throwIfAny('invalid schedule options', options);
    this.handler = options.handler;
    this.intervalMs = intervalMs;
    this.runOnStart = options.runOnStart ?? false;
    this.functionName = options.functionName ?? 'local-schedule';
    this.functionTimeoutMs = (timeout ?? 60) * 1000;
    this.region = options.region ?? 'us-east-1';
    this.onError = options.onError ?? ((error) => console.error(`${this.functionName} failed`, error));
  }

  /**
   * Starts ticking.
   *
   * @example
   * ```ts
   * schedule.start();
   * ```
   */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.tick(), this.intervalMs);
    if (this.runOnStart) this.tick();
  }

  /**
   * Stops ticking and waits for a running invocation to return.
   *
   * @example
   * ```ts
   * await schedule.stop();
   * ```
   */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.current;
  }

  /**
   * Ticks now, as the rate would: invokes unless an invocation is running. Resolves when the
   * invocation it started (if any) returns.
   *
   * @example
   * ```ts
   * await schedule.tick();
   * ```
   */
  tick(): Promise<void> {
    this.counters.ticks += 1;
    if (this.current) {
      this.counters.skipped += 1;
      return Promise.resolve();
    }
    const time = new Date();
    const account = '000000000000';
    const event: ScheduledEvent = {
      version: '0',
      id: randomUUID(),
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      account,
      time: `${time.toISOString().slice(0, 19)}Z`,
      region: this.region,
      resources: [`arn:aws:events:${this.region}:${account}:rule/${this.functionName}-schedule`],
      detail: {},
    };
    const context = createLambdaContext({
      functionName: this.functionName,
      timeoutMs: this.functionTimeoutMs,
      region: this.region,
    });
    this.counters.invocations += 1;
    this.active += 1;
    this.counters.running = true;
    this.counters.peakConcurrency = Math.max(this.counters.peakConcurrency, this.active);
    const run = (async () => {
      // Yield first, so that `current` is set before a handler that throws at once clears it.
      await Promise.resolve();
      try {
        await this.handler(event, context);
      } catch (error) {
        this.counters.errors += 1;
        this.onError(error);
      } finally {
        this.active -= 1;
        this.counters.running = false;
        this.current = undefined;
      }
    })();
    this.current = run;
    return run;
  }

  /**
   * A copy of the counters.
   *
   * @example
   * ```ts
   * schedule.stats().skipped;
   * ```
   */
  stats(): ScheduleStats {
    return { ...this.counters };
  }
}
