/** Benchmark events numbered from here on are live ones, committed while the system runs. */
export const FIRST_LIVE_EVENT = 1_000_000_000;

/**
 * Follows what a system's handler has seen: which backlog events (duplicates counted once) and, for
 * live events, how long after their commit the handler started on them.
 *
 * @example
 * ```ts
 * const tracker = new HandledTracker({ backlog: 3_000 });
 * // in the handler: tracker.handled(event.data.n, eventIdToEpochMs(event.id));
 * await tracker.backlogHandled;
 * ```
 */
export class HandledTracker {
  /** Resolves once every backlog event has reached the handler. */
  readonly backlogHandled: Promise<void>;
  private readonly backlog: number;
  private readonly seen = new Set<number>();
  private readonly latencies = new Map<number, number>();
  private resolveBacklog: () => void = () => undefined;
  private liveExpected = Number.POSITIVE_INFINITY;
  private liveWaiter: (() => void) | undefined;

  constructor(options: { readonly backlog: number }) {
    this.backlog = options.backlog;
    this.backlogHandled = new Promise((resolve) => {
      this.resolveBacklog = resolve;
    });
  }

  /** Call at the start of the handler, with the event's number and its commit time (epoch ms). */
  handled(n: number, committedAtMs: number): void {
    if (n >= FIRST_LIVE_EVENT) {
      if (!this.latencies.has(n)) this.latencies.set(n, Date.now() - committedAtMs);
      if (this.latencies.size >= this.liveExpected) this.liveWaiter?.();
      return;
    }
    this.seen.add(n);
    if (this.seen.size >= this.backlog) this.resolveBacklog();
  }

  /** Resolves once `count` live events have been handled, or after `timeoutMs`. */
  async liveHandled(count: number, timeoutMs: number): Promise<void> {
    this.liveExpected = count;
    if (this.latencies.size >= count) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.liveWaiter = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  /** Commit-to-handler latencies of the live events handled so far, in milliseconds. */
  latenciesMs(): number[] {
    return [...this.latencies.values()];
  }
}
