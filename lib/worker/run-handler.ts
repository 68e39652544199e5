import { runLimited } from '../collections/run-limited';
import { ValidationError } from '../errors';
import { summarizeError } from '../failed/truncate';
import { NonRetryableError, RetryableError } from '../retry/errors';
import { MAX_VISIBILITY_TIMEOUT_SECONDS } from '../sqs/constants';
import {
  addOutputs,
  type BatchDependencies,
  type EventResult,
  lanesOf,
  type MessageWork,
} from './batch-work';
import type { HandlerContext, ManualContext, StandardSchema, WorkerEvent } from './types';

/**
 * Runs the handler over a batch's messages, in the user's mode (one event at a time, the whole
 * batch, or manual acknowledgement), and leaves each event's result and outputs on its message.
 * Schema failures never reach the handler; no event starts once the remaining time is below the
 * margin; on FIFO queues a failure to be retried stops its group for this batch.
 */
export async function runHandler<TData>(
  work: MessageWork<TData>[],
  deps: BatchDependencies<TData>,
): Promise<void> {
  const outputsFor = new Map<string, MessageWork<TData>>();
  for (const message of work) for (const event of message.events) outputsFor.set(event.id, message);
  const context = (currentEventId?: string): HandlerContext => ({
    pipeline: deps.pipeline,
    requestId: deps.requestId,
    remainingTimeMs: deps.remainingTimeMs,
    commit(events, forEventId) {
      const eventId = forEventId ?? currentEventId ?? '';
      const owner = outputsFor.get(eventId);
      if (!owner)
        throw new ValidationError(
          `commit() needs the id of an event of this batch to commit with (given ${forEventId ?? 'none'})`,
          forEventId,
        );
      addOutputs(owner, eventId, events);
    },
  });
  const tooLate = () => deps.remainingTimeMs() < deps.deadlineMarginMs;

  // Schema failures never reach the handler, and are not retried.
  const runnable = new Map<MessageWork<TData>, WorkerEvent<TData>[]>();
  for (const message of work) {
    const ready: WorkerEvent<TData>[] = [];
    for (const event of message.events) {
      const invalid = await validate(event, deps.schemas);
      if (invalid) message.results.set(event.id, failureOf(invalid));
      else ready.push(event);
    }
    runnable.set(message, ready);
  }

  if ('handle' in deps.mode) {
    const handle = deps.mode.handle;
    const runOne = async (message: MessageWork<TData>, event: WorkerEvent<TData>): Promise<boolean> => {
      if (tooLate()) {
        message.results.set(event.id, { kind: 'unstarted' });
        return false;
      }
      try {
        const returned = await handle(event, context(event.id));
        if (returned) addOutputs(message, event.id, returned);
        message.results.set(event.id, { kind: 'succeeded' });
        return true;
      } catch (error) {
        const failure = failureOf(error);
        message.results.set(event.id, failure);
        // An event that goes to the failed handler now does not hold its group back.
        return !(failure.retryable && event.attempt < deps.maxRedeliveryCount);
      }
    };
    const isFifo = work.some((message) => message.groupId !== undefined);
    if (isFifo) {
      // One lane per message group, in batch order; a failure to be retried stops its group for
      // this batch.
      await runLimited([...lanesOf(work).values()], deps.concurrency, async (lane) => {
        let blocked = false;
        for (const message of lane) {
          for (const event of message.events) {
            // An event that failed its schema goes to the failed handler now: later events go on.
            if (message.results.has(event.id)) continue;
            if (blocked) message.results.set(event.id, { kind: 'unstarted' });
            else if (!(await runOne(message, event))) blocked = true;
          }
        }
      });
    } else {
      const jobs = work.flatMap((message) =>
        (runnable.get(message) ?? []).map((event) => ({ message, event })),
      );
      await runLimited(jobs, deps.concurrency, ({ message, event }) => runOne(message, event));
    }
    return;
  }

  const events = work.flatMap((message) => runnable.get(message) ?? []);
  const messageOf = (eventId: string) => outputsFor.get(eventId) as MessageWork<TData>;
  if (events.length === 0) return;
  if (tooLate()) {
    for (const event of events) messageOf(event.id).results.set(event.id, { kind: 'unstarted' });
    return;
  }
  if ('handleBatch' in deps.mode) {
    try {
      await deps.mode.handleBatch(events, context());
      for (const event of events) messageOf(event.id).results.set(event.id, { kind: 'succeeded' });
    } catch (error) {
      for (const event of events) messageOf(event.id).results.set(event.id, failureOf(error));
      for (const message of work) message.outputs.clear();
    }
    return;
  }

  const known = new Set(events.map((event) => event.id));
  const settle = (ids: string | readonly string[], result: EventResult) => {
    const list = typeof ids === 'string' ? [ids] : ids;
    const unknown = list.filter((id) => !known.has(id));
    if (unknown.length > 0)
      throw new ValidationError(`these ids are not events of this batch: ${unknown.join(', ')}`, unknown);
    for (const id of list) {
      const message = messageOf(id);
      const previous = message.results.get(id);
      if (previous && previous.kind !== result.kind) {
        throw new ValidationError(
          `event ${id} was already ${previous.kind === 'succeeded' ? 'acknowledged' : 'failed'}`,
          id,
        );
      }
      message.results.set(id, result);
    }
  };
  const manualContext: ManualContext = {
    ...context(),
    ack: (ids) => settle(ids, { kind: 'succeeded' }),
    fail: (ids, options = {}) =>
      settle(ids, {
        kind: 'failed',
        error: summarizeError(options.reason ?? 'failed by the handler'),
        retryable: options.retryable ?? true,
        ...(options.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: options.retryAfterSeconds }),
      }),
  };
  try {
    await deps.mode.manual(events, manualContext);
  } catch (error) {
    for (const event of events)
      if (!messageOf(event.id).results.has(event.id))
        messageOf(event.id).results.set(event.id, failureOf(error));
  }
  for (const event of events) {
    const message = messageOf(event.id);
    if (!message.results.has(event.id)) {
      message.results.set(event.id, {
        kind: 'failed',
        error: { name: 'Error', message: 'the handler neither acknowledged nor failed this event' },
        retryable: true,
      });
    }
  }
}

async function validate<TData>(
  event: WorkerEvent<TData>,
  schemas: Readonly<Record<string, StandardSchema>> | undefined,
): Promise<Error | undefined> {
  const schema = schemas?.[event.type];
  if (!schema) return undefined;
  const result = await schema['~standard'].validate(event.data);
  if (!result.issues) return undefined;
  const detail = result.issues
    .map(
      (issue) =>
        `${issue.path && issue.path.length > 0 ? `${issue.path.map((part) => (typeof part === 'object' && part && 'key' in part ? String((part as { key: unknown }).key) : String(part))).join('.')}: ` : ''}${issue.message}`,
    )
    .join('; ');
  return new NonRetryableError(
    `event ${event.id} of type '${event.type}' does not match its schema: ${detail}`,
  );
}

/** The result of an event whose handler threw `thrown`, whatever it is: this never throws. */

export function failureOf(thrown: unknown): Extract<EventResult, { kind: 'failed' }> {
  const error = summarizeError(thrown);
  if (thrown instanceof NonRetryableError) return { kind: 'failed', error, retryable: false };
  const retryAfterMs = thrown instanceof RetryableError ? thrown.retryAfterMs : undefined;
  return {
    kind: 'failed',
    error,
    retryable: true,
    ...(retryAfterMs === undefined
      ? {}
      : { retryAfterSeconds: Math.min(MAX_VISIBILITY_TIMEOUT_SECONDS, Math.ceil(retryAfterMs / 1000)) }),
  };
}
