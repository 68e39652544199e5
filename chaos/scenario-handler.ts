import { AsyncLocalStorage } from 'node:async_hooks';
import { NonRetryableError, type WorkerEvent } from '../lib';
import { type ChaosData, EVENT_KINDS } from './event-kinds';
import type { HandlerFailures } from './invariants';
import { pause } from './pause';

/** What {@link ScenarioHandler} needs of its scenario. */
export interface ScenarioHandlerOptions {
  /** Where the handler commits its effects. */
  readonly effectsStream: string;
  /** Outputs per event (one effect and the rest parts of it). @default 1 */
  readonly outputsPerEvent?: number;
  /** Whether faults are injected: the failed runs a worker records then have no lower bound. */
  readonly faulty: boolean;
}

/** One failed run of the handler: the event and the error's message. */
interface FailedRun {
  id: string;
  message: string;
}

/**
 * The scenario's handler: it treats each event by its kind (poison, non-retryable, flaky, hang) and
 * returns its effect for the worker's ackCommit, and records its raw runs, successful and failed.
 *
 * @example
 * ```ts
 * const handler = new ScenarioHandler({ effectsStream: 'orders-effects', faulty: false });
 * const outcome = await handler.invocation(() => worker.processEvent(event, context));
 * handler.successes.get(eventId);
 * ```
 */
export class ScenarioHandler {
  /** Successful runs per event. */
  readonly successes = new Map<string, number>();
  /** Failed runs per event, raw and as recorded once their invocation returned. */
  readonly failures = new Map<string, HandlerFailures>();
  private readonly attempts = new Map<string, number>();
  /** The failed runs of the worker invocation in progress, settled when it returns. */
  private readonly current = new AsyncLocalStorage<FailedRun[]>();
  /** Poison events succeed once the handler is fixed (a redrive scenario). */
  private fixed = false;

  constructor(private readonly options: ScenarioHandlerOptions) {}

  /** From now on, poison events succeed: the fix a redrive follows. */
  fix(): void {
    this.fixed = true;
  }

  /**
   * Runs one worker invocation; once it returns, the worker could record the failed runs it saw.
   * Under injected faults a run's record can itself fail (it then spends no attempt): no lower bound there.
   */
  async invocation<T>(run: () => Promise<T>): Promise<T> {
    const failed: FailedRun[] = [];
    const outcome = await this.current.run(failed, run);
    for (const { id, message } of this.options.faulty ? [] : failed) {
      const before = this.failures.get(id) as HandlerFailures;
      this.failures.set(id, {
        ...before,
        settled: (before.settled ?? 0) + 1,
        lastSettledError: message,
      });
    }
    return outcome;
  }

  /** The worker's handler: one run for `event`, counted, its failure recorded before it is thrown on. */
  async handle(event: WorkerEvent<ChaosData>, timeoutSeconds: number) {
    try {
      return await this.run(event, timeoutSeconds);
    } catch (error) {
      const message = (error as Error).message;
      const before = this.failures.get(event.id);
      this.failures.set(event.id, {
        settled: 0,
        ...before,
        count: (before?.count ?? 0) + 1,
        lastError: message,
      });
      this.current.getStore()?.push({ id: event.id, message });
      throw error;
    }
  }

  private async run(event: WorkerEvent<ChaosData>, timeoutSeconds: number) {
    const attempt = (this.attempts.get(event.id) ?? 0) + 1;
    this.attempts.set(event.id, attempt);
    switch (this.fixed && event.data.kind === EVENT_KINDS.poison ? undefined : event.data.kind) {
      case EVENT_KINDS.poison:
        throw new Error(`order ${event.data.n} is poison (attempt ${event.attempt})`);
      case EVENT_KINDS.nonRetryable:
        throw new NonRetryableError(`order ${event.data.n} needs a manual review`);
      case EVENT_KINDS.flaky:
        if (event.attempt === 1) throw new Error(`order ${event.data.n}: the payment service timed out`);
        break;
      case EVENT_KINDS.hang:
        if (attempt === 1) await pause(timeoutSeconds * 1_000 + 1_000);
        break;
      default:
        break;
    }
    this.successes.set(event.id, (this.successes.get(event.id) ?? 0) + 1);
    const effect = { stream: this.options.effectsStream, type: 'effect', data: { source: event.id } };
    const outputs = this.options.outputsPerEvent ?? 1;
    if (outputs === 1) return effect;
    return [
      effect,
      ...Array.from({ length: outputs - 1 }, (_, index) => ({
        ...effect,
        data: { source: event.id, part: index + 1 },
      })),
    ];
  }
}
