/**
 * The waits of a local fetcher (polls of the live edge, backoffs), which a wake-up or a stop can cut
 * short. A cut that comes while no wait is under way (the fetcher is reading or sending) ends the next
 * wait at once instead, so that a wake-up is never lost to a full poll interval.
 *
 * @example
 * ```ts
 * const waits = new CuttableWaits();
 * const fetcher = new Fetcher({ ...options, sleep: (ms) => waits.wait(ms) });
 * waits.cut(); // a commit: read again now
 * waits.stop(); // every wait from now on ends at once
 * ```
 */
export class CuttableWaits {
  private readonly waiting = new Set<() => void>();
  private cutPending = false;
  private stopped = false;

  /** Resolves after `ms`, or once cut or stopped. */
  wait(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      if (this.stopped || ms <= 0 || this.cutPending) {
        this.cutPending = false;
        return resolve();
      }
      const timer = setTimeout(done, ms);
      const waiting = this.waiting;
      function done() {
        clearTimeout(timer);
        waiting.delete(done);
        resolve();
      }
      waiting.add(done);
    });
  }

  /** Ends the waits under way; with none, the next one ends at once. */
  cut(): void {
    if (this.waiting.size === 0) {
      this.cutPending = true;
      return;
    }
    for (const done of [...this.waiting]) done();
  }

  /** Ends every wait, now and from now on. */
  stop(): void {
    this.stopped = true;
    this.cut();
  }
}
