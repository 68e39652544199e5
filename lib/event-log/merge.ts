/**
 * Merges async iterables that are each sorted by `key` into one sorted sequence. Each source is read
 * lazily: one item ahead, so that a limit stops further reads.
 */
export async function* mergeSorted<T>(
  sources: readonly AsyncIterable<T>[],
  key: (item: T) => string,
  descending = false,
): AsyncGenerator<T> {
  const iterators = sources.map((source) => source[Symbol.asyncIterator]());
  const heads = await Promise.all(iterators.map((iterator) => iterator.next()));
  try {
    while (true) {
      let best = -1;
      let bestKey = '';
      for (let index = 0; index < heads.length; index += 1) {
        const head = heads[index] as IteratorResult<T>;
        if (head.done) continue;
        const headKey = key(head.value);
        if (best === -1 || (descending ? headKey > bestKey : headKey < bestKey)) {
          best = index;
          bestKey = headKey;
        }
      }
      if (best === -1) return;
      const chosen = heads[best] as IteratorYieldResult<T>;
      yield chosen.value;
      heads[best] = await (iterators[best] as AsyncIterator<T>).next();
    }
  } finally {
    await Promise.all(
      iterators.map((iterator, index) => (heads[index]?.done ? undefined : iterator.return?.())),
    );
  }
}
