/**
 * Polls `check` until it returns a value other than `undefined` or `false`, and resolves to it; rejects
 * naming `what` once `timeoutMs` has passed. For conditions that become true eventually, never as a
 * timing assertion.
 *
 * @example
 * ```ts
 * const messages = await waitFor('three messages in the DLQ', async () => {
 *   const found = await receiveAll(dlqUrl);
 *   return found.length >= 3 ? found : undefined;
 * });
 * ```
 */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  options: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 20_000;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 50));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`, { cause: lastError });
}
