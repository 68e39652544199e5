import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Resolves once `condition` holds, checking every `intervalMs`; rejects after `timeoutMs`.
 *
 * @example
 * ```ts
 * await waitFor(() => mapping.stats().inFlight === 0);
 * ```
 */
export async function waitFor(
  condition: () => boolean,
  options: { readonly timeoutMs?: number; readonly intervalMs?: number } = {},
): Promise<void> {
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  while (!condition()) {
    if (Date.now() > deadline)
      throw new Error(`a condition did not hold within ${options.timeoutMs ?? 60_000} ms`);
    await sleep(options.intervalMs ?? 10);
  }
}
