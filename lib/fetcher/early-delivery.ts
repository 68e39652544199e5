import type { ReadAfterPage } from '../event-log/event-source';
import type { StoredEvent } from '../event-log/types';
import { MAX_SENT_AHEAD_RUNS, runCount, type SentAhead, serializeSentAhead } from '../state/sent-ahead';
import { runIds } from '../time/event-id';
import { isDeliveredAt, positionBeforeEvent } from '../time/position';
import { type ActivePipeline, type FetcherContext, type PendingAhead, readEvents } from './context';
import { packEvents } from './packing';
import { sendAll } from './sending';
import type { StepMode } from './step-plan';

// Early delivery (`docs/early-delivery.md`): events sent as soon as a read sees them committed,
// before the stream's settle window has passed them. The checkpoint still moves only to the settled
// horizon; the ids sent ahead of it are kept with it, written before their messages are sent, and
// every later read skips them until the checkpoint has moved past them.

/** The most events past the settled horizon one read looks at. */
export const AHEAD_READ_LIMIT = 1_000;

/** The most characters a stored record may take: the checkpoint item stays within 7 write units. */
export const MAX_SENT_AHEAD_CHARACTERS = 6_000;

/**
 * Whether this run sends the pipeline's events ahead of the settled horizon: a live pipeline of a
 * standard queue (`earlyDelivery`), in a run that tails (not one that returns once caught up).
 */
export function sendsAhead(item: ActivePipeline, mode: StepMode): boolean {
  return (
    item.pipeline.earlyDelivery && !item.pipeline.fifo && item.stopAt === undefined && !mode.untilCaughtUp
  );
}

/**
 * A page without the events already sent ahead: the events, the segments holding any of them (they
 * can no longer go whole) and the events past the horizon.
 */
export function withoutSentAhead(page: ReadAfterPage, sentAhead: SentAhead | undefined): ReadAfterPage {
  if (!sentAhead || sentAhead.ids.length === 0) return page;
  const sent = new Set(sentAhead.ids);
  const events = page.events.filter((event) => !sent.has(event.id));
  const ahead = page.ahead?.filter((event) => !sent.has(event.id));
  if (events.length === page.events.length && ahead?.length === page.ahead?.length) return page;
  const kept = new Set(events.map((event) => event.id));
  const segments = page.segments?.filter((segment) =>
    runIds(segment.lastId, segment.count).every((id) => kept.has(id)),
  );
  return {
    ...page,
    events,
    ...(segments ? { segments } : {}),
    ...(ahead ? { ahead } : {}),
  };
}

/**
 * The messages for the events of `ahead` not yet sent, within `room` messages and the size of the
 * record, or nothing. Records them in `item.sentAhead`, with their plan, for the checkpoint written
 * before the first is sent.
 */
export function planAhead(
  item: ActivePipeline,
  ahead: readonly StoredEvent[],
  room: number,
): PendingAhead | undefined {
  const { pipeline } = item;
  const previous = item.sentAhead?.ids ?? [];
  const runsLeft = MAX_SENT_AHEAD_RUNS - runCount(previous);
  const fresh: StoredEvent[] = [];
  const runs = new Set<string>();
  for (const event of ahead) {
    const run = event.id.slice(0, -2);
    if (!runs.has(run) && runs.size >= runsLeft) break;
    runs.add(run);
    fresh.push(event);
  }
  if (fresh.length === 0) return undefined;
  const packing = {
    maxEventsPerMessage: pipeline.maxEventsPerMessage,
    maxMessageBytes: pipeline.maxMessageBytes,
  };
  const messages = packEvents(pipeline.name, pipeline.stream, fresh, {
    ...packing,
    fifo: false,
    epoch: item.lease.state.epoch,
  });
  if (messages.length > room) return undefined;
  const plan = { ids: fresh.map((event) => event.id), messages: messages.length, ...packing };
  const sentAhead: SentAhead = {
    epoch: item.lease.state.epoch,
    ids: [...previous, ...plan.ids].sort(),
    plan,
  };
  if (serializeSentAhead(sentAhead).length > MAX_SENT_AHEAD_CHARACTERS) return undefined;
  item.sentAhead = sentAhead;
  return { plan, messages };
}

/**
 * The messages of a plan an earlier fetcher wrote ahead of sending: its events found again by id
 * (committed, so still there) and packed the same way, into the same messages. An event no longer
 * found is logged and left out of the record, so that the settled read delivers it if it comes back.
 */
export async function replayAhead(context: FetcherContext, item: ActivePipeline): Promise<PendingAhead> {
  const { pipeline } = item;
  const sentAhead = item.sentAhead as SentAhead;
  const plan = sentAhead.plan as NonNullable<SentAhead['plan']>;
  const wanted = new Set(plan.ids);
  const found = new Map<string, StoredEvent>();
  const last = plan.ids.at(-1) as string;
  let position = positionBeforeEvent(plan.ids[0] as string);
  for (;;) {
    const page = await readEvents(context, item, position, { ahead: AHEAD_READ_LIMIT });
    item.counts.pages += 1;
    for (const event of [...page.events, ...(page.ahead ?? [])])
      if (wanted.has(event.id)) found.set(event.id, event);
    position = page.position;
    if (page.caughtUp || found.size === wanted.size || isDeliveredAt(position, last)) break;
  }
  const events = plan.ids.flatMap((id) => found.get(id) ?? []);
  if (events.length !== plan.ids.length) {
    const missing = plan.ids.filter((id) => !found.has(id));
    context.logger.warn(
      'events sent ahead under a plan are no longer found; the settled read delivers them',
      {
        pipeline: pipeline.name,
        missing,
      },
    );
    const gone = new Set(missing);
    item.sentAhead = {
      ...sentAhead,
      ids: sentAhead.ids.filter((id) => !gone.has(id)),
      plan: { ...plan, ids: events.map((event) => event.id) },
    };
  }
  const messages = packEvents(pipeline.name, pipeline.stream, events, {
    maxEventsPerMessage: plan.maxEventsPerMessage,
    maxMessageBytes: plan.maxMessageBytes,
    fifo: false,
    epoch: sentAhead.epoch,
  });
  return { plan, messages };
}

/** Sends the messages of a plan ahead; once all are accepted the record keeps their ids alone. */
export async function sendAhead(
  context: FetcherContext,
  item: ActivePipeline,
  pending: PendingAhead,
): Promise<void> {
  await sendAll(context, item, pending.messages);
  const sentAhead = item.sentAhead as SentAhead;
  item.sentAhead = { epoch: sentAhead.epoch, ids: sentAhead.ids };
  item.counts.eventsSentAhead =
    (item.counts.eventsSentAhead ?? 0) +
    pending.messages.reduce((sum, message) => sum + message.eventIds.length, 0);
}
