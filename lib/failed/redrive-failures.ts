import { describe } from '../errors';
import { NAME_PATTERN, NAME_RULE } from '../event-log/names';
import { envelopeBody, failedEvent } from '../messages/envelope';
import { SendMessagesError } from '../sqs/errors';
import { type OutgoingMessage, sendMessageBatches } from '../sqs/send-message-batches';
import { FAILURE_STATUS, MAX_LIST_LIMIT, MAX_LIST_SPAN_DAYS } from './constants';
import { RedriveError, type RedriveFailuresProgress } from './errors';
import type { FailureStore } from './failure-store';
import type { FailureRecord } from './records';
import { matchesRedriveFilter } from './redrive-filter';
import { redriveDeduplicationId, redriveIdentity } from './redrive-identity';
import {
  checkRedriveBase,
  checkWhole,
  finishRedriveCheck,
  REDRIVE_RATE,
  type RedriveBaseOptions,
  redrivePacer,
  startRedriveCheck,
} from './redrive-pacing';

/** Options of {@link redriveFailures}. Unknown keys are rejected. Each event goes back as one message. */
export interface RedriveFailuresOptions extends RedriveBaseOptions {
  /** Where the pipeline's failure records are kept (the state table). */
  readonly store: FailureStore;
  /** The pipeline whose failures to send back. */
  readonly pipeline: string;
  /** The most events to move. @default every matching record */
  readonly maxEvents?: number;
}

/** What a redrive from failure records did (or, in a dry run, would do). */
export interface RedriveFailuresResult extends RedriveFailuresProgress {
  readonly dryRun: boolean;
}

const OPTION_KEYS: ReadonlySet<string> = new Set([
  'store',
  'sqs',
  'pipeline',
  'queueUrl',
  'filter',
  'dryRun',
  'maxMessagesPerSecond',
  'maxEvents',
  'sleep',
  'clock',
] satisfies (keyof RedriveFailuresOptions)[]);

const DAY_MS = 86_400_000;

/**
 * Sends failed events back to their pipeline's queue from their failure records, for a fresh start:
 * the redrive for the standard wiring, where the failed-event function consumes the dead-letter queue
 * (so the events are no longer there, but in their records).
 *
 * Every record of the pipeline kept in the store (from the filter's `from`, or as far back as records
 * are kept) that the failed handler has accepted (`handled`) and that matches the filter goes back as
 * one message, with `attempts` 0 and no `lastError`, stamped with a redrive identity derived from the
 * record. The worker runs it again (its marker differs from the first delivery's), and a redelivery of
 * it is still recognised. Once the queue accepted it, the record turns `redriven`, so a second run does
 * not send it again; if the event fails again, it reaches the failed handler again, as a new record.
 *
 * Records still `pending` are left alone: the failed-event function is handing them over, and sending
 * them back too could give one event both an effect and a hand-over.
 *
 * @throws `ValidationError` naming every bad option; `RedriveError` with source `failure records` when the queue refused a
 * message or a record could not be marked.
 *
 * @example
 * ```ts
 * const preview = await redriveFailures({ store, sqs, pipeline: 'billing', queueUrl, filter: { errorName: 'TimeoutError' }, dryRun: true });
 * const result = await redriveFailures({ store, sqs, pipeline: 'billing', queueUrl, filter: { errorName: 'TimeoutError' } });
 * console.log(`${result.moved} events went back`);
 * ```
 */
export async function redriveFailures(options: RedriveFailuresOptions): Promise<RedriveFailuresResult> {
  checkOptions(options);
  const clock = options.clock ?? Date.now;
  const pacer = redrivePacer(
    options.maxMessagesPerSecond ?? REDRIVE_RATE.default,
    clock,
    options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms))),
  );
  const dryRun = options.dryRun === true;
  const { store, pipeline, filter } = options;
  const counts = { examined: 0, moved: 0, pending: 0, alreadyRedriven: 0, dataOmitted: 0 };
  const result = (): RedriveFailuresResult => ({ ...counts, dryRun });
  // Records written after the start (events of this run that failed again) are not read: they had their fresh start.
  const to = clock();
  const oldestKept = Math.max(to - MAX_LIST_SPAN_DAYS * DAY_MS, to - store.retentionSeconds * 1000 - DAY_MS);
  const from = Math.max(oldestKept, filter?.from?.getTime() ?? oldestKept);
  const left = () => (options.maxEvents ?? Number.POSITIVE_INFINITY) - counts.moved;

  let cursor: string | undefined;
  do {
    const page = await store.listFailures(pipeline, {
      from,
      to,
      limit: MAX_LIST_LIMIT,
      ...(cursor === undefined ? {} : { cursor }),
    });
    cursor = page.cursor;
    const chosen: FailureRecord[] = [];
    for (const record of page.failures) {
      counts.examined += 1;
      if (!matchesRedriveFilter({ ...record.event, lastError: record.lastError }, filter)) continue;
      if (record.status === FAILURE_STATUS.redriven) counts.alreadyRedriven += 1;
      else if (record.status !== FAILURE_STATUS.handled) counts.pending += 1;
      else if (record.dataOmitted) counts.dataOmitted += 1;
      else if (chosen.length < left()) chosen.push(record);
    }
    if (dryRun) {
      counts.moved += chosen.length;
    } else {
      for (let start = 0; start < chosen.length; start += pacer.perCall) {
        const chunk = chosen.slice(start, start + pacer.perCall);
        await pacer.wait(chunk.length);
        await sendBack(options, chunk, counts, result);
      }
    }
  } while (cursor !== undefined && left() > 0);
  return result();
}

/** Sends records' events back, then marks each record the queue accepted as redriven. */
async function sendBack(
  options: RedriveFailuresOptions,
  records: readonly FailureRecord[],
  counts: { moved: number },
  progress: () => RedriveFailuresResult,
): Promise<void> {
  const fifo = options.queueUrl.endsWith('.fifo');
  const messages = records.map((record, index) => outgoing(record, String(index), fifo));
  let accepted = new Set(messages.map((message) => message.id));
  let failure: unknown;
  try {
    await sendMessageBatches(
      options.sqs,
      options.queueUrl,
      messages.map(({ redrive: _redrive, ...message }) => message),
      { throwOnFailure: true },
    );
  } catch (error) {
    failure = error;
    accepted =
      error instanceof SendMessagesError
        ? new Set([...error.acceptedIds, ...error.acceptedAfterFailureIds])
        : new Set();
  }
  const unmarked: string[] = [];
  for (const [index, record] of records.entries()) {
    const message = messages[index];
    if (message === undefined || !accepted.has(message.id)) {
      unmarked.push(record.event.id);
      continue;
    }
    try {
      // False when another run marked it first: it sent the same message, which the worker recognises.
      if (await options.store.markRedriven(record, { redrivenAs: message.redrive })) counts.moved += 1;
    } catch (error) {
      failure ??= error;
      unmarked.push(record.event.id);
    }
  }
  if (failure !== undefined) {
    throw new RedriveError(
      { source: 'failure records', queueUrl: options.queueUrl, eventIds: unmarked, progress: progress() },
      { cause: failure },
    );
  }
}

function outgoing(
  record: FailureRecord,
  id: string,
  fifo: boolean,
): OutgoingMessage & { readonly redrive: string } {
  const redrive = redriveIdentity(`record#${record.pipeline}#${record.failedAt}#${record.event.id}`);
  const { event } = record;
  const body = envelopeBody({ pipeline: record.pipeline, stream: event.stream, redrive }, [
    failedEvent(event, 0, undefined),
  ]);
  if (!fifo) return { id, body, redrive };
  return {
    id,
    body,
    redrive,
    groupId: event.partitionKey ?? record.pipeline,
    deduplicationId: redriveDeduplicationId(body),
  };
}

function checkOptions(options: RedriveFailuresOptions): void {
  const problems = startRedriveCheck(options, OPTION_KEYS);
  if (typeof options.store?.listFailures !== 'function')
    problems.push(`store must be a FailureStore (given ${describe(options.store)})`);
  if (typeof options.sqs?.send !== 'function')
    problems.push(`sqs must be an SQSClient (given ${describe(options.sqs)})`);
  if (typeof options.pipeline !== 'string' || !NAME_PATTERN.test(options.pipeline))
    problems.push(`pipeline name ${describe(options.pipeline)} is invalid: ${NAME_RULE}`);
  if (typeof options.queueUrl !== 'string' || !/^https?:\/\/\S+$/.test(options.queueUrl))
    problems.push(`queueUrl must be an http(s) queue URL (given ${describe(options.queueUrl)})`);
  checkRedriveBase(options, problems);
  checkWhole(options.maxEvents, 'maxEvents', 1, Number.MAX_SAFE_INTEGER, problems);
  finishRedriveCheck(options, problems);
}
