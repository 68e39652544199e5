import { CorruptEventError } from '../errors';
import type { PositionRange, ReadAfterPage } from '../event-log/event-source';
import { comparePositions, formatPosition, positionAfterEvent, positionBeforeEvent } from '../time/position';
import { type ActivePipeline, type FetcherContext, readEvents } from './context';
import { AHEAD_READ_LIMIT, withoutSentAhead } from './early-delivery';
import { UNREADABLE_EVENT_TYPE } from './refused-events';
import { deadLetter } from './sending';

// Reading a pipeline's next page from the event log: around items the log cannot read back, and
// noting events read past the stream's retention.

/**
 * The next page after the pipeline's position. An item the log cannot read back (a corrupt segment)
 * would fail every read from here on: the page stops just before it, and once it is next, each of
 * its events goes to the dead-letter queue with the reason, and the read moves past it.
 */
export async function readPage(
  context: FetcherContext,
  item: ActivePipeline,
  options: { readonly ahead: boolean } = { ahead: false },
): Promise<ReadAfterPage> {
  let until = item.stopAt;
  for (;;) {
    const bound = until;
    try {
      const page = await readEvents(
        context,
        item,
        item.position,
        bound ? { until: bound } : options.ahead ? { ahead: AHEAD_READ_LIMIT } : {},
      );
      const unsent = withoutSentAhead(page, item.sentAhead);
      return bound === item.stopAt ? unsent : { ...unsent, caughtUp: false };
    } catch (error) {
      if (!(error instanceof CorruptEventError)) throw error;
      const before = positionBeforeEvent(error.eventId);
      if (comparePositions(item.position, before) < 0) {
        until = item.stopAt && comparePositions(item.stopAt, before) < 0 ? item.stopAt : before;
        continue;
      }
      // Every event the item holds past the position goes, each with the reason; the read resumes
      // after the item's last event.
      for (const id of error.eventIds) {
        if (comparePositions(positionAfterEvent(id), item.position) <= 0) continue;
        const unreadable = { id, type: UNREADABLE_EVENT_TYPE, data: null };
        await deadLetter(context, item, unreadable, error, item.lease.state.epoch);
      }
      return { events: [], position: positionAfterEvent(error.eventIds.at(-1) as string), caughtUp: false };
    }
  }
}

/** Keeps the widest expired range a run met, and says so the first time. */
export function noteExpired(context: FetcherContext, item: ActivePipeline, range: PositionRange): void {
  if (!item.expired) {
    context.logger.error(
      'events expired before this pipeline read them; any that were deleted are lost to it',
      {
        pipeline: item.pipeline.name,
        from: formatPosition(range.from),
        to: formatPosition(range.to),
      },
    );
  }
  const to = item.expired && comparePositions(item.expired.to, range.to) > 0 ? item.expired.to : range.to;
  item.expired = { from: item.expired?.from ?? range.from, to };
}
