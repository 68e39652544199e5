import { type CallContext, changeVisibility } from '../sqs/batch-calls';
import { ConsumerError, toConsumerError } from './errors';
import type { Heartbeat } from './heartbeat';
import { batchEntryOf, type InFlight } from './in-flight';
import type { StopResult } from './types';

const DRAIN_POLL_MS = 25;

/** What stopping a consumer acts on. */
export interface ShutdownParts {
  readonly context: CallContext;
  /** Cuts short a receive under way. */
  readonly abort: AbortController;
  /** The `reserve()` calls under way. */
  readonly reserving: ReadonlySet<Promise<unknown>>;
  readonly inFlight: InFlight;
  /** The settlements under way. */
  readonly settlement: { readonly running: ReadonlySet<Promise<unknown>> };
  readonly heartbeat: Heartbeat;
}

/**
 * Stops a consumer (see `PullConsumer.stop()`): cuts a receive short (after a drain of up to
 * `timeoutMs`, with `drain`), stops the heartbeat, waits for settlements under way, and releases the
 * messages still held (visibility 0) so that another consumer can take them at once.
 *
 * @throws `ConsumerError` when SQS refused to release a message; the messages are let go all the same.
 */
export async function shutDown(parts: ShutdownParts, drain: boolean, timeoutMs: number): Promise<StopResult> {
  const { abort, context, heartbeat, inFlight, reserving, settlement } = parts;
  if (!drain) abort.abort(ConsumerError.stopped(context.queueUrl));
  await Promise.allSettled([...reserving]);
  if (drain) {
    const deadline = Date.now() + timeoutMs;
    while ((inFlight.hasUnsettledEvents() || settlement.running.size > 0) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, Math.min(DRAIN_POLL_MS, deadline - Date.now())));
    }
    abort.abort(ConsumerError.stopped(context.queueUrl));
  }
  await heartbeat.stop();
  await Promise.allSettled([...settlement.running]);

  const releasing = [...inFlight.messages.values()].filter((held) => !held.settling);
  const releasedEventIds = releasing.flatMap((held) =>
    held.events
      .filter((event) => !event.duplicate && event.state === 'reserved')
      .map((event) => event.event.id),
  );
  const failures = await changeVisibility(context, releasing.map(batchEntryOf), 0);
  for (const held of releasing) inFlight.letGo(held, 'released');
  inFlight.counters.eventsReleased += releasedEventIds.length;
  if (failures.length > 0) {
    const refused = releasing.filter((held) => failures.some((failure) => failure.key === held.messageId));
    throw toConsumerError(context.queueUrl, [
      {
        operation: 'ChangeMessageVisibilityBatch (release)',
        messageIds: refused.map((held) => held.messageId),
        eventIds: refused.flatMap((held) => held.events.map((event) => event.event.id)),
        detail: `${failures[0]?.code}: ${failures[0]?.message}; the message(s) will come back once their visibility runs out`,
        cause: failures[0]?.cause,
      },
    ]);
  }
  return { releasedEventIds, releasedMessageIds: releasing.map((held) => held.messageId) };
}
