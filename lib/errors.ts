/**
 * The error types Sluice throws. Every error names the problem and the value that caused it, and
 * carries the data a caller needs to act on it.
 *
 * @example
 * ```ts
 * import { EventTooLargeError } from 'sluice';
 * try {
 *   await eventLog.commit({ stream: 'orders', type: 'order.placed', data: hugeDocument });
 * } catch (error) {
 *   if (error instanceof EventTooLargeError) console.error(error.sizeBytes, error.limitBytes);
 * }
 * ```
 */
export class SluiceError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SluiceError';
  }
}

/** Input that breaks a rule: a malformed name, id, time bucket, position or option. */
export class ValidationError extends SluiceError {
  /** The value that broke the rule. */
  readonly value: unknown;

  constructor(message: string, value: unknown, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ValidationError';
    this.value = value;
  }
}

/**
 * A definition or request that breaks several rules at once: `problems` lists each, naming the value
 * given, so that one error says everything that needs fixing. `InvalidPipelineError`,
 * `InvalidStagesError` and `InvalidBackfillRequestError` are this, for what they check.
 *
 * @example
 * ```ts
 * if (error instanceof InvalidDefinitionError) for (const problem of error.problems) console.error(problem);
 * ```
 */
export class InvalidDefinitionError extends ValidationError {
  readonly problems: readonly string[];

  /** @param what what was checked, as the message names it, such as `pipeline definition`. */
  constructor(what: string, problems: readonly string[], value: unknown) {
    super(`invalid ${what}: ${problems.join('; ')}`, value);
    this.name = 'InvalidDefinitionError';
    this.problems = problems;
  }
}

/** A string that is not a time bucket (`yyyyMMddHH0000`, UTC). */
export class InvalidTimeBucketError extends ValidationError {
  constructor(value: unknown) {
    super(
      `time bucket must be an hour in UTC written yyyyMMddHH0000, like 20240131230000 (given ${describe(value)})`,
      value,
    );
    this.name = 'InvalidTimeBucketError';
  }
}

/** A string that is not a Sluice event id (a version 7 UUID in lower case). */
export class InvalidEventIdError extends ValidationError {
  constructor(value: unknown) {
    super(
      `event id must be a lower-case version 7 UUID, like 018f3a6c-1d2e-7000-8000-000000000000 (given ${describe(value)})`,
      value,
    );
    this.name = 'InvalidEventIdError';
  }
}

/** A position whose parts are malformed or disagree with each other. */
export class InvalidPositionError extends ValidationError {
  constructor(reason: string, value: unknown) {
    super(`invalid position: ${reason} (given ${describe(value)})`, value);
    this.name = 'InvalidPositionError';
  }
}

/** A range whose start lies after its end, or whose bounds are malformed. */
export class InvalidRangeError extends ValidationError {
  constructor(reason: string, value: unknown) {
    super(`invalid range: ${reason} (given ${describe(value)})`, value);
    this.name = 'InvalidRangeError';
  }
}

/** A stream or event type name that breaks the naming rule. */
export class InvalidNameError extends ValidationError {
  constructor(kind: 'stream' | 'event type', rule: string, value: unknown) {
    super(`${kind} name ${describe(value)} is invalid: ${rule}`, value);
    this.name = 'InvalidNameError';
  }
}

/** An event whose stored item would exceed DynamoDB's item size limit. */
export class EventTooLargeError extends ValidationError {
  readonly stream: string;
  readonly type: string;
  readonly sizeBytes: number;
  readonly limitBytes: number;

  constructor(details: { stream: string; type: string; sizeBytes: number; limitBytes: number }) {
    super(
      `event of type '${details.type}' on stream '${details.stream}' is ${details.sizeBytes} bytes stored, over the limit of ${details.limitBytes} bytes; store large payloads elsewhere (S3) and commit a reference`,
      details,
    );
    this.name = 'EventTooLargeError';
    this.stream = details.stream;
    this.type = details.type;
    this.sizeBytes = details.sizeBytes;
    this.limitBytes = details.limitBytes;
  }
}

/** An atomic commit with more events, or more bytes, than one DynamoDB transaction can hold. */
export class TransactionTooLargeError extends ValidationError {
  readonly eventCount: number;
  readonly sizeBytes: number;
  readonly maxEvents: number;
  readonly maxBytes: number;

  constructor(details: { eventCount: number; sizeBytes: number; maxEvents: number; maxBytes: number }) {
    super(
      `an atomic commit holds at most ${details.maxEvents} events and ${details.maxBytes} bytes (given ${details.eventCount} events, ${details.sizeBytes} bytes); split it, or use commitBatched() if the events need not land all or nothing`,
      details,
    );
    this.name = 'TransactionTooLargeError';
    this.eventCount = details.eventCount;
    this.sizeBytes = details.sizeBytes;
    this.maxEvents = details.maxEvents;
    this.maxBytes = details.maxBytes;
  }
}

/** A table (or queue) Sluice was pointed at does not exist: the name, region or endpoint is wrong. */
export class MissingResourceError extends SluiceError {
  /** What it is, such as `state table`. */
  readonly kind: string;
  readonly resourceName: string;

  constructor(kind: string, resourceName: string, options?: { cause?: unknown }) {
    const detail = options?.cause instanceof Error ? ` (${options.cause.message})` : '';
    super(
      `the ${kind} '${resourceName}' does not exist${detail}: create it, or check its name, region and endpoint`,
      options,
    );
    this.name = 'MissingResourceError';
    this.kind = kind;
    this.resourceName = resourceName;
  }
}

/** A commit that DynamoDB refused: nothing of it was written. */
export class CommitError extends SluiceError {
  /** The ids the refused events would have had. */
  readonly eventIds: readonly string[];
  /** One reason per event, in commit order, where DynamoDB gave them (`None` for events that were not at fault). */
  readonly reasons: readonly string[];
  /**
   * For `commitWith`: one reason per write of the caller's own, in the order given (`None` for those
   * not at fault), such as `ConditionalCheckFailed` when the condition of one of them did not hold.
   * Empty for other commits, and when DynamoDB gave no reasons.
   */
  readonly otherWriteReasons: readonly string[];

  constructor(
    message: string,
    details: {
      eventIds: readonly string[];
      reasons: readonly string[];
      otherWriteReasons?: readonly string[];
    },
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'CommitError';
    this.eventIds = details.eventIds;
    this.reasons = details.reasons;
    this.otherWriteReasons = details.otherWriteReasons ?? [];
  }
}

/**
 * A commit whose outcome is unknown: it did not finish within its deadline (it was abandoned so that it
 * cannot land after tailing readers have passed its ids), or its request failed in a way that does not
 * say whether DynamoDB applied it (a lost response, a server error). Nothing more of it can land once
 * this is thrown. Check each of `eventIds` with `eventLog.get()`, and commit again only the events that
 * are missing (they get new ids); committing all again would store the landed ones twice.
 *
 * @example
 * ```ts
 * catch (error) {
 *   if (error instanceof CommitOutcomeUnknownError) {
 *     const landed = await log.get('orders', error.eventIds[0]);
 *     if (!landed) await log.commit(event);
 *   }
 * }
 * ```
 */
export class CommitOutcomeUnknownError extends SluiceError {
  /** The ids the events have if they landed. */
  readonly eventIds: readonly string[];
  readonly elapsedMs: number;

  constructor(
    details: { eventIds: readonly string[]; elapsedMs: number; deadlineMs: number; reason?: string },
    options?: { cause?: unknown },
  ) {
    const what = `commit of ${details.eventIds.length} event(s)`;
    const ids = details.eventIds.slice(0, 5).join(', ') + (details.eventIds.length > 5 ? ', ...' : '');
    super(
      details.reason === undefined
        ? `${what} was abandoned after ${details.elapsedMs} ms, over its deadline of ${details.deadlineMs} ms; it may or may not have been written: check with get() (ids ${ids})`
        : `${what} ${details.reason}; it may or may not have been written: check with get() (ids ${ids})`,
      options,
    );
    this.name = 'CommitOutcomeUnknownError';
    this.eventIds = details.eventIds;
    this.elapsedMs = details.elapsedMs;
  }
}

/** A stream's settle window and commit deadline, which every writer and reader of it uses. */
export interface StreamTimingValues {
  readonly settleWindowMs: number;
  readonly commitDeadlineMs: number;
}

/**
 * An `EventLog` was given a settle window or commit deadline for a stream that differs from the one
 * stored with the stream. Both are one setting per stream, shared by every writer and reader: a writer
 * with a longer deadline than readers allow for, or a reader with a shorter window than writers count
 * on, would skip events. Nothing was written.
 *
 * @example
 * ```ts
 * // The stream was first used with the defaults (1500 ms, 1000 ms):
 * await new EventLog({ tableName, commitDeadlineMs: 3_000, settleWindowMs: 4_000 }).commit(event); // throws
 * ```
 */
export class StreamTimingConflictError extends ValidationError {
  readonly stream: string;
  /** What the stream has. */
  readonly stored: StreamTimingValues;
  /** What this `EventLog` was given. */
  readonly declared: Partial<StreamTimingValues>;

  constructor(details: {
    stream: string;
    stored: StreamTimingValues;
    declared: Partial<StreamTimingValues>;
  }) {
    const given = (['settleWindowMs', 'commitDeadlineMs'] as const)
      .filter((key) => details.declared[key] !== undefined && details.declared[key] !== details.stored[key])
      .map((key) => `${key} ${details.declared[key]}`)
      .join(' and ');
    super(
      `stream '${details.stream}' has settleWindowMs ${details.stored.settleWindowMs} and commitDeadlineMs ${details.stored.commitDeadlineMs}, stored with the stream and used by all its writers and readers, but this EventLog was given ${given}; leave them out to use the stream's, or give the same`,
      details,
    );
    this.name = 'StreamTimingConflictError';
    this.stream = details.stream;
    this.stored = details.stored;
    this.declared = details.declared;
  }
}

/** What became of one event of a `commitBatched()` call. */
export type BatchCommitOutcome =
  /** Stored under `id`. */
  | { readonly status: 'committed'; readonly id: string }
  /** Refused: nothing of it was written. */
  | { readonly status: 'failed'; readonly error: Error }
  /** Its commit stalled or lost its response: it may be stored under `id`; check with `get()`. */
  | { readonly status: 'unknown'; readonly id: string; readonly error: Error }
  /** Not tried: the batch stopped at an earlier failure. Commit it again. */
  | { readonly status: 'not-attempted' };

/**
 * A `commitBatched()` call that stopped part-way. It says what became of every event, in input order:
 * which ids were committed, which events failed and why, which may or may not have landed, and which
 * were never tried; `cause` is the first failure.
 *
 * @example
 * ```ts
 * try {
 *   await log.commitBatched(rows);
 * } catch (error) {
 *   if (!(error instanceof BatchCommitError)) throw error;
 *   const retry = rows.filter((_, index) => error.outcomes[index]?.status !== 'committed');
 * }
 * ```
 */
export class BatchCommitError extends SluiceError {
  /** One outcome per event given, in the same order. */
  readonly outcomes: readonly BatchCommitOutcome[];
  /** The ids of the events that were stored, in input order. */
  readonly committedIds: readonly string[];

  constructor(outcomes: readonly BatchCommitOutcome[], options?: { cause?: unknown }) {
    const indexes = (status: BatchCommitOutcome['status']) =>
      outcomes.flatMap((outcome, index) => (outcome.status === status ? [index] : []));
    const failed = indexes('failed');
    const unknown = indexes('unknown');
    const skipped = indexes('not-attempted');
    const committed = outcomes.flatMap((outcome) => (outcome.status === 'committed' ? [outcome.id] : []));
    const first = failed[0] ?? unknown[0];
    const firstOutcome = first === undefined ? undefined : outcomes[first];
    const reason =
      firstOutcome && 'error' in firstOutcome ? `; event ${first}: ${firstOutcome.error.message}` : '';
    super(
      `commitBatched stopped part-way: ${committed.length} of ${outcomes.length} events committed, ${failed.length} failed (nothing written) at ${listIndexes(failed)}, ${unknown.length} of unknown outcome at ${listIndexes(unknown)}, ${skipped.length} not attempted${reason}; \`outcomes\` holds each event's id or error`,
      options,
    );
    this.name = 'BatchCommitError';
    this.outcomes = outcomes;
    this.committedIds = committed;
  }
}

function listIndexes(indexes: readonly number[]): string {
  if (indexes.length === 0) return 'none';
  const shown = indexes.slice(0, 10).join(', ');
  return `event${indexes.length === 1 ? '' : 's'} ${shown}${indexes.length > 10 ? ', ...' : ''}`;
}

/** Renders a value for an error message: strings quoted, long values cut. */
export function describe(value: unknown): string {
  let text: string;
  if (typeof value === 'string') text = JSON.stringify(value);
  else if (value === undefined) text = 'undefined';
  else if (typeof value === 'bigint') text = `${value}n`;
  // JSON would show NaN and the infinities as null.
  else if (typeof value === 'number') text = String(value);
  else {
    try {
      text = JSON.stringify(value) ?? String(value);
    } catch {
      text = String(value);
    }
  }
  return text.length > 200 ? `${text.slice(0, 197)}...` : text;
}

/** A stored item that the event log cannot read back as an event. */
export class CorruptEventError extends SluiceError {
  /** The first event the unreadable item holds. */
  readonly eventId: string;
  /**
   * Every event the unreadable item holds, in id order: one for an item of one event, all of a
   * segment's (their ids follow from the segment's key) for a segment.
   */
  readonly eventIds: readonly string[];

  constructor(
    details: { stream: string; eventId: string; reason: string; eventIds?: readonly string[] },
    options?: { cause?: unknown },
  ) {
    super(
      `event ${details.eventId} on stream '${details.stream}' cannot be read: ${details.reason}`,
      options,
    );
    this.name = 'CorruptEventError';
    this.eventId = details.eventId;
    this.eventIds = details.eventIds ?? [details.eventId];
  }
}
