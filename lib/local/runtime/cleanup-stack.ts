/** One step of a stop: stops or closes one thing that was started. */
export type CleanupStep = () => Promise<void> | void;

/**
 * What a local runtime has started, to undo in reverse order on stop (or when starting fails half
 * way). A step that fails is reported and the others still run; stopping twice stops once.
 *
 * @example
 * ```ts
 * const cleanups = new CleanupStack((error) => console.error('stop failed', error));
 * const emulators = await startEmulators();
 * cleanups.push(() => emulators.stop());
 * await cleanups.runAll();
 * ```
 */
export class CleanupStack {
  private readonly steps: CleanupStep[] = [];
  private running?: Promise<void>;

  constructor(private readonly onError: (error: unknown) => void) {}

  push(step: CleanupStep): void {
    this.steps.push(step);
  }

  /** Runs every step, the last pushed first. Later calls get the same promise. */
  runAll(): Promise<void> {
    this.running ??= this.run();
    return this.running;
  }

  private async run(): Promise<void> {
    for (const step of this.steps.splice(0).reverse()) {
      try {
        await step();
      } catch (error) {
        this.onError(error);
      }
    }
  }
}
