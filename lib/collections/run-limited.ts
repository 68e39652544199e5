/**
 * Runs `run` on each item in order, at most `limit` at once: each of `limit` lanes takes the next item
 * as soon as its last one has ended. Once `stopWhen()` is true no further item starts; those under way
 * run to their end. Resolves to how many items started: always a prefix of `items`.
 *
 * @example
 * ```ts
 * await runLimited(messages, 10, (message) => handle(message));
 * let failed = false;
 * const started = await runLimited(calls, 4, async (call) => { failed ||= !(await send(call)); }, {
 *   stopWhen: () => failed,
 * });
 * ```
 */
export async function runLimited<T>(
  items: readonly T[],
  limit: number,
  run: (item: T) => Promise<unknown>,
  options: { readonly stopWhen?: () => boolean } = {},
): Promise<number> {
  const stopWhen = options.stopWhen ?? (() => false);
  let next = 0;
  const lane = async () => {
    while (next < items.length && !stopWhen()) {
      const item = items[next] as T;
      next += 1;
      await run(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return next;
}
