import { PIPELINE_STATUS } from '../state/types';
import { checkpoint, keepLease, unwritten } from './checkpoints';
import { type ActivePipeline, type FetcherContext, hook, SimulatedCrash } from './context';
import { planAhead, replayAhead, sendAhead, sendsAhead } from './early-delivery';
import { lookBeforeLeaving, stayFor } from './hand-over';
import { noteExpired, readPage } from './paging';
import { fail, stop } from './run-end';
import { planPage, replayPlan } from './send-plans';
import { queueRoom, readQueueDepth, sendPending } from './sending';
import { afterEmptyPage, idleAfterWake, reachedStopAt, type StepMode } from './step-plan';
import { FETCHER_STEPS, PIPELINE_OUTCOME } from './types';

/**
 * One page of one pipeline. Resolves to whether it moved any events.
 *
 * Write-ahead: the messages packed from a page are named in a send plan, stored with the checkpoint
 * under the fenced lease before the first of them is sent. The checkpoint moves past the page only
 * once all of them are accepted (with the next page's plan, in the same write). A fetcher that dies
 * or loses its lease in between leaves the plan behind, and its successor sends exactly those
 * messages again (same marker keys, same FIFO deduplication ids) before anything new. At bufferSize
 * the rest of a plan waits, and is sent before the next read, so no sent event is read again.
 */
export async function step(context: FetcherContext, item: ActivePipeline, mode: StepMode): Promise<boolean> {
  const { pipeline } = item;
  const { untilCaughtUp } = mode;
  try {
    let room: number | undefined;
    if (item.waitingForRoom) {
      // Paused at bufferSize: one GetQueueAttributes per poll, and no read of the log, until the
      // worker has made room; the lease is kept alive meanwhile.
      const depth = await readQueueDepth(context, item);
      if (depth >= pipeline.bufferSize) {
        await keepLease(context, item);
        return false;
      }
      room = pipeline.bufferSize - depth;
      item.waitingForRoom = false;
      item.stopReason = undefined;
    }
    if (item.leftBehind) {
      item.pending = await replayPlan(context, item, item.leftBehind);
      item.leftBehind = undefined;
    }
    if (item.aheadLeftBehind) {
      item.aheadPending = await replayAhead(context, item);
      item.aheadLeftBehind = false;
    }

    let moved = item.pending !== undefined || item.aheadPending !== undefined;
    let caughtUp = false;
    if (!item.pending && !item.aheadPending) {
      const page = await readPage(context, item, { ahead: sendsAhead(item, mode) });
      await hook(context, FETCHER_STEPS.afterRead, pipeline.name);
      item.counts.pages += 1;
      item.counts.eventsRead += page.events.length;
      if (page.expired) noteExpired(context, item, page.expired);
      caughtUp = page.caughtUp;
      moved = page.events.length > 0;
      if (page.events.length === 0) {
        const move = afterEmptyPage(page, item.written);
        item.position = move.position;
        if (move.readOn) {
          // The read stopped at its bounds among events of other types: save how far it got, so that
          // a long run of them is crossed in steps that survive the end of the run.
          if (move.checkpoint) await checkpoint(context, item);
          return true;
        }
      } else {
        room ??= await queueRoom(context, item);
        if (room <= 0) {
          pauseForRoom(item, untilCaughtUp, 'backpressure: the queue holds bufferSize messages or more');
          return false;
        }
        item.pending = planPage(item, page);
      }
      if (page.ahead && page.ahead.length > 0) {
        // Events past the horizon go now, in the same checkpoint write as the page's plan, if the
        // queue has room for both.
        room ??= await queueRoom(context, item);
        item.aheadPending = planAhead(item, page.ahead, room - (item.pending?.messages.length ?? 0));
        if (item.aheadPending) moved = true;
      }
      if (item.pending || item.aheadPending) await checkpoint(context, item);
    }

    const pending = item.pending;
    if (pending) {
      room ??= await queueRoom(context, item);
      if (room <= 0) {
        pauseForRoom(item, untilCaughtUp, 'backpressure: the queue holds bufferSize messages or more');
        return false;
      }
      if (!(await sendPending(context, item, pending, room))) {
        pauseForRoom(item, untilCaughtUp, 'backpressure: the queue reached bufferSize messages');
        return true;
      }
      item.position = pending.end;
      item.pending = undefined;
      if (!pending.caughtUp) return true;
      caughtUp = true;
    }
    if (item.aheadPending) {
      await sendAhead(context, item, item.aheadPending);
      item.aheadPending = undefined;
    }

    if (reachedStopAt(caughtUp, item.position, item.stopAt)) {
      await checkpoint(context, item, PIPELINE_STATUS.completed);
      item.outcome = PIPELINE_OUTCOME.completed;
      stop(item, 'reached stopAt');
      return moved;
    }
    if (moved) item.lastMovedAt = context.clock();
    if (caughtUp && untilCaughtUp) {
      if (unwritten(item)) await checkpoint(context, item);
      stop(item, 'caught up');
      return moved;
    }
    // Idle: caught up past what woke the run (every commit made before the wake-up has been read,
    // whatever the stream's settle window), and nothing read for untilIdleMs.
    if (
      caughtUp &&
      mode.untilIdleMs !== undefined &&
      idleAfterWake(
        { idleForMs: context.clock() - item.lastMovedAt, position: item.position, startedAt: item.startedAt },
        { untilIdleMs: mode.untilIdleMs, ...(item.readThrough ? { readThrough: item.readThrough } : {}) },
      )
    ) {
      if (unwritten(item)) await checkpoint(context, item);
      // Leaving: a run woken for events committed from here on waits for the lease; those committed
      // before are found now, and the run stays for them.
      const pending = await lookBeforeLeaving(context, item);
      if (pending !== undefined) {
        await stayFor(context, item, pending);
        return moved;
      }
      await hook(context, FETCHER_STEPS.beforeRelease, pipeline.name);
      await context.store.releaseLease(item.lease);
      item.released = true;
      stop(item, 'idle');
      return moved;
    }
    await keepLease(context, item);
    return moved;
  } catch (error) {
    if (error instanceof SimulatedCrash) throw error;
    fail(context, item, error as Error);
    return false;
  }
}

/**
 * At bufferSize: a run that must return once caught up (a backfill, a script) stops the pipeline;
 * a scheduled run pauses it and keeps polling the queue depth, so that it resumes as soon as the
 * worker has made room rather than at the next scheduled run (a minute on AWS).
 */
function pauseForRoom(item: ActivePipeline, untilCaughtUp: boolean, reason: string): void {
  if (untilCaughtUp) {
    stop(item, reason);
    return;
  }
  item.waitingForRoom = true;
  item.stopReason = reason;
}
