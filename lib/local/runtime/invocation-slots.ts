/**
 * A count of invocations allowed at once: `acquire` resolves when one of `limit` slots is free,
 * `release` hands the slot to the longest waiter.
 *
 * @example
 * ```ts
 * const slots = new InvocationSlots(5);
 * await slots.acquire();
 * try { await invoke(); } finally { slots.release(); }
 * ```
 */
export class InvocationSlots {
  private active = 0;
  private waiters: (() => void)[] = [];

  constructor(private readonly limit: number) {}

  acquire(): Promise<void> {
    if (this.active < this.limit) {
      this.active += 1;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.waiters.push(() => {
        this.active += 1;
        resolve();
      });
    });
  }

  release(): void {
    this.active -= 1;
    this.waiters.shift()?.();
  }

  /** Lets every waiter through at once, for a stop: each then sees it should not invoke, and releases. */
  wakeAll(): void {
    for (const wake of this.waiters.splice(0)) wake();
  }
}
