import type { ReadAfterPage } from '../event-log/event-source';
import type { StoredSegment } from '../event-log/segment';
import type { StoredEvent } from '../event-log/types';
import type { SendPlan } from '../state/types';
import { positionAfterEvent } from '../time/position';
import { type ActivePipeline, type FetcherContext, hook, type PendingSend, readEvents } from './context';
import { withoutSentAhead } from './early-delivery';
import { packEvents } from './packing';
import { currentPlanOf, replayEnd, replayReadDone } from './step-plan';
import { FETCHER_STEPS } from './types';

// Send plans: the messages packed from a page, named in the checkpoint before the first is sent
// (`docs/fetcher-send-plan.md`), and the same messages again from a plan an earlier fetcher left.

/** Packs a page into messages, and the plan that names them. */
export function planPage(item: ActivePipeline, page: ReadAfterPage): PendingSend {
  const { pipeline } = item;
  const packing = {
    maxEventsPerMessage: pipeline.maxEventsPerMessage,
    maxMessageBytes: pipeline.maxMessageBytes,
    fifo: pipeline.fifo,
    epoch: item.lease.state.epoch,
  };
  const messages = packEvents(pipeline.name, pipeline.stream, page.events, packing, page.segments);
  return {
    plan: {
      through: (page.events.at(-1) as StoredEvent).id,
      events: page.events.length,
      messages: messages.length,
      sent: 0,
      ...packing,
    },
    messages,
    next: 0,
    end: page.position,
    caughtUp: page.caughtUp,
  };
}

/**
 * The messages of a plan a fetcher left behind: the same range read again and packed the same way.
 * The log holds the same events there (it only grows past the settled horizon), so they come out
 * the same; if not, the difference is logged and what is there now is sent.
 */
export async function replayPlan(
  context: FetcherContext,
  item: ActivePipeline,
  plan: SendPlan,
): Promise<PendingSend> {
  const { pipeline } = item;
  const until = positionAfterEvent(plan.through);
  const events: StoredEvent[] = [];
  const segments: StoredSegment[] = [];
  let position = item.position;
  for (;;) {
    const page = await readEvents(context, item, position, { until });
    item.counts.pages += 1;
    item.counts.eventsRead += page.events.length;
    // The plan was made without the events sent ahead, which the stored record still names.
    const unsent = withoutSentAhead(page, item.sentAhead);
    events.push(...unsent.events);
    segments.push(...(unsent.segments ?? []));
    position = page.position;
    if (replayReadDone(page, plan.through)) break;
  }
  await hook(context, FETCHER_STEPS.afterRead, pipeline.name);
  const messages = packEvents(pipeline.name, pipeline.stream, events, plan, segments);
  if (events.length !== plan.events || messages.length !== plan.messages) {
    context.logger.warn(
      'the events under a send plan changed since it was written; sending what is there now',
      {
        pipeline: pipeline.name,
        through: plan.through,
        planned: { events: plan.events, messages: plan.messages },
        found: { events: events.length, messages: messages.length },
      },
    );
  }
  return {
    plan,
    messages,
    next: Math.min(plan.sent, messages.length),
    end: replayEnd(position, plan.through),
    caughtUp: false,
  };
}

/** The send plan the checkpoint should hold now: the pending messages and how far they went. */
export function currentPlan(item: ActivePipeline): SendPlan | undefined {
  return currentPlanOf(item.pending);
}
