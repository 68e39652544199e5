import { type ActivePipeline, type FetcherContext, retry } from './context';

// Handing over between fetchers (`docs/wake-on-commit.md`, "Handing over"): a run woken for new
// events that finds the lease held leaves them to the holder, unless the holder is leaving; a holder
// marks its lease as leaving, then looks for events committed past its position before it gives the
// lease up, and stays for them, or hands them over, when there are some.

/**
 * Marks the pipeline's lease as leaving, then looks for the first event committed past its position,
 * settled or not: any run woken from now on waits for the lease instead of leaving its events to
 * this holder. Resolves to that event's id, or `undefined` when there is none, or when the run does
 * not look (its lease says so: runs woken meanwhile waited for it).
 *
 * @throws `LeaseLostError` when the lease is no longer held.
 */
export async function lookBeforeLeaving(
  context: FetcherContext,
  item: ActivePipeline,
): Promise<string | undefined> {
  const { source } = context;
  if (!item.looksBeforeLeaving || item.stopAt !== undefined || !source.firstCommittedAfter) return undefined;
  await retry(context, 'mark the lease as leaving', () => context.store.markLeaving(item.lease, true));
  const { stream, eventTypes } = item.pipeline;
  return retry(context, 'look for events before leaving', async () =>
    source.firstCommittedAfter?.(stream, item.position, eventTypes ? { types: eventTypes } : {}),
  );
}

/**
 * A holder that found events past its position stays: its lease is no longer marked as leaving, and
 * the run reads on through `pending` before it may leave again.
 */
export async function stayFor(context: FetcherContext, item: ActivePipeline, pending: string): Promise<void> {
  await retry(context, 'stay after all', () => context.store.markLeaving(item.lease, false));
  if (item.readThrough === undefined || item.readThrough < pending) item.readThrough = pending;
}
