/**
 * The errors Sluice throws: a small hierarchy in which every error carries a machine-readable `code`
 * and the fields a caller needs to act on it, so that no caller has to read a message to tell one
 * case from another. Messages still name the problem and the value that caused it, for people.
 *
 * ```text
 * SluiceError                   code: SluiceErrorCode, on every error below
 * ├─ ValidationError            value, field?, rule?; code 'invalid-value', 'invalid-time-bucket',
 * │  │                          'invalid-event-id', 'invalid-position', 'invalid-range', 'invalid-name'
 * │  ├─ InvalidDefinitionError  problems[], definition: 'pipeline' | 'stages' | 'backfill request'
 * │  └─ TooLargeError           what: 'event' | 'transaction' | 'message' | 'event in message';
 * │                             sizeBytes, limitBytes
 * ├─ ConflictError              kind: 'checkpoint-moved' | 'checkpoint-regression' |
 * │                             'checkpoint-in-future' | 'seek-contention' | 'cursor-moved' |
 * │                             'backfill-id-taken' | 'stream-timing'
 * ├─ LeaseLostError             lease: 'fetcher' | 'sync' | 'failed-event claim'
 * ├─ MissingResourceError       resource: 'state table' | 'table stream' | 'queue' | 'pipeline';
 * │                             code 'resource-missing' or 'resource-unusable'
 * ├─ CommitError, CommitOutcomeUnknownError, BatchCommitError, CorruptEventError   (the event log)
 * ├─ MalformedMessageError      (messages)
 * ├─ DeliveryError              code 'event-not-deliverable' | 'no-dead-letter-queue' (the fetcher)
 * ├─ SendMessagesError          (sqs)
 * ├─ ConsumerError              code 'consumer-call-failed' | 'consumer-stopped' | 'event-not-reserved'
 * ├─ RedriveError               source: 'dead-letter queue' | 'failure records'
 * ├─ LaggingConsumerError       (stages)
 * ├─ RetryableError, NonRetryableError ─ HttpStatusError, RetriesExhaustedError   (retries)
 * ├─ PaginationError            (sync)
 * └─ LocalEnvironmentError      code 'java-missing' | 'emulator-start-failed' | 'peer-dependency-missing'
 * ```
 *
 * Errors that differ only in what went wrong share a class and differ by `code`, or by the field
 * their family is told apart by (`kind`, `lease`, `resource`, `what`, `definition`, `source`); a
 * separate class stays where callers act on the class itself (`RetryableError` and
 * `NonRetryableError`, which handlers throw) or where its fields are its own (the commit errors).
 * `docs/errors.md` lists every class, code and field, and the classes each replaced.
 *
 * @example
 * ```ts
 * import { TooLargeError } from 'sluice';
 * try {
 *   await eventLog.commit({ stream: 'orders', type: 'order.placed', data: hugeDocument });
 * } catch (error) {
 *   if (error instanceof TooLargeError && error.what === 'event') console.error(error.sizeBytes, error.limitBytes);
 * }
 * ```
 */

/**
 * Every `code` a `SluiceError` can carry, one per case a caller may want to act on:
 *
 * - `operation-failed`: an operation failed for a reason without a code of its own; the message says which.
 * - `invalid-value`, `invalid-time-bucket`, `invalid-event-id`, `invalid-position`, `invalid-range`,
 *   `invalid-name`: a `ValidationError`, input that breaks a rule.
 * - `invalid-definition`: an `InvalidDefinitionError`, a definition or request with `problems`.
 * - `too-large`: a `TooLargeError`, over a size limit (`what` says which).
 * - `conflict`: a `ConflictError`, a write refused by what is stored (`kind` says which).
 * - `lease-lost`: a `LeaseLostError`, a lease, lock or claim no longer held (`lease` says which).
 * - `resource-missing`, `resource-unusable`: a `MissingResourceError`, a resource that does not
 *   exist, or cannot be used (access denied, for one).
 * - `commit-refused`, `commit-outcome-unknown`, `batch-commit-stopped`, `corrupt-event`: the event
 *   log's `CommitError`, `CommitOutcomeUnknownError`, `BatchCommitError` and `CorruptEventError`.
 * - `malformed-message`: a `MalformedMessageError`, a message body that is not a Sluice envelope.
 * - `event-not-deliverable`, `no-dead-letter-queue`: a `DeliveryError` of the fetcher.
 * - `messages-not-accepted`: a `SendMessagesError`, messages SQS did not accept.
 * - `consumer-call-failed`, `consumer-stopped`, `event-not-reserved`: a `ConsumerError`.
 * - `redrive-stopped`: a `RedriveError`.
 * - `consumer-lagging`: a `LaggingConsumerError`.
 * - `retryable`, `non-retryable`, `http-status`, `retries-exhausted`: the retry errors
 *   (`HttpStatusError` is a `NonRetryableError`).
 * - `pagination`: a `PaginationError`, a paginated source that misbehaved.
 * - `java-missing`, `emulator-start-failed`, `peer-dependency-missing`: a `LocalEnvironmentError`.
 */
export type SluiceErrorCode =
  | 'operation-failed'
  | ValidationCode
  | 'invalid-definition'
  | 'too-large'
  | 'conflict'
  | 'lease-lost'
  | 'resource-missing'
  | 'resource-unusable'
  | 'commit-refused'
  | 'commit-outcome-unknown'
  | 'batch-commit-stopped'
  | 'corrupt-event'
  | 'malformed-message'
  | 'event-not-deliverable'
  | 'no-dead-letter-queue'
  | 'messages-not-accepted'
  | 'consumer-call-failed'
  | 'consumer-stopped'
  | 'event-not-reserved'
  | 'redrive-stopped'
  | 'consumer-lagging'
  | 'retryable'
  | 'non-retryable'
  | 'http-status'
  | 'retries-exhausted'
  | 'pagination'
  | 'java-missing'
  | 'emulator-start-failed'
  | 'peer-dependency-missing';

/**
 * The root of every error Sluice throws. `code` says which case it is (see `SluiceErrorCode`).
 *
 * @example
 * ```ts
 * catch (error) {
 *   if (error instanceof SluiceError && error.code === 'lease-lost') return; // another fetcher has it
 *   throw error;
 * }
 * ```
 */
export class SluiceError extends Error {
  /** Which case this is, for code to act on: messages are for people. */
  readonly code: SluiceErrorCode;

  constructor(message: string, options?: { cause?: unknown; code?: SluiceErrorCode }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SluiceError';
    this.code = options?.code ?? 'operation-failed';
  }
}

/** The codes of a `ValidationError` (an `InvalidDefinitionError` or `TooLargeError` has its own). */
export type ValidationCode =
  | 'invalid-value'
  | 'invalid-time-bucket'
  | 'invalid-event-id'
  | 'invalid-position'
  | 'invalid-range'
  | 'invalid-name';

/**
 * Input that breaks a rule: a malformed name, id, time bucket, position, range or option. `code`
 * says what kind of input (`invalid-value` for an option or argument), `value` is what was given,
 * `field` what it was given as and `rule` the rule it broke, where known.
 *
 * @example
 * ```ts
 * try {
 *   parsePosition(text);
 * } catch (error) {
 *   if (error instanceof ValidationError && error.code === 'invalid-position') console.error(error.rule, error.value);
 * }
 * ```
 */
export class ValidationError extends SluiceError {
  declare readonly code: ValidationCode | 'invalid-definition' | 'too-large';
  /** The value that broke the rule. */
  readonly value: unknown;
  /** What the value was given as, such as `stream` or `event type`, where known. */
  readonly field: string | undefined;
  /** The rule the value broke, where known. */
  readonly rule: string | undefined;

  constructor(
    message: string,
    value: unknown,
    options?: {
      cause?: unknown;
      code?: ValidationCode | 'invalid-definition' | 'too-large';
      field?: string;
      rule?: string;
    },
  ) {
    super(message, { cause: options?.cause, code: options?.code ?? 'invalid-value' });
    this.name = 'ValidationError';
    this.value = value;
    this.field = options?.field;
    this.rule = options?.rule;
  }

  /** A string that is not a time bucket (`yyyyMMddHH0000`, UTC): code `invalid-time-bucket`. */
  static invalidTimeBucket(value: unknown): ValidationError {
    const rule = 'an hour in UTC written yyyyMMddHH0000';
    return new ValidationError(
      `time bucket must be ${rule}, like 20240131230000 (given ${describe(value)})`,
      value,
      { code: 'invalid-time-bucket', rule },
    );
  }

  /** A string that is not a Sluice event id (a version 7 UUID in lower case): code `invalid-event-id`. */
  static invalidEventId(value: unknown): ValidationError {
    const rule = 'a lower-case version 7 UUID';
    return new ValidationError(
      `event id must be ${rule}, like 018f3a6c-1d2e-7000-8000-000000000000 (given ${describe(value)})`,
      value,
      { code: 'invalid-event-id', rule },
    );
  }

  /** A position whose parts are malformed or disagree with each other: code `invalid-position`. */
  static invalidPosition(rule: string, value: unknown): ValidationError {
    return new ValidationError(`invalid position: ${rule} (given ${describe(value)})`, value, {
      code: 'invalid-position',
      rule,
    });
  }

  /** A range whose start lies after its end, or whose bounds are malformed: code `invalid-range`. */
  static invalidRange(rule: string, value: unknown): ValidationError {
    return new ValidationError(`invalid range: ${rule} (given ${describe(value)})`, value, {
      code: 'invalid-range',
      rule,
    });
  }

  /** A stream or event type name that breaks the naming rule: code `invalid-name`, `field` says which. */
  static invalidName(field: 'stream' | 'event type', rule: string, value: unknown): ValidationError {
    return new ValidationError(`${field} name ${describe(value)} is invalid: ${rule}`, value, {
      code: 'invalid-name',
      field,
      rule,
    });
  }
}

/** What an `InvalidDefinitionError` checked. */
export type DefinitionKind = 'pipeline' | 'stages' | 'backfill request';

const DEFINITION_LABELS: Readonly<Record<DefinitionKind, string>> = {
  pipeline: 'pipeline definition',
  stages: 'stages definition',
  'backfill request': 'backfill request',
};

/**
 * A definition or request that breaks several rules at once: `problems` lists each, naming the value
 * given, so that one error says everything that needs fixing; `definition` says what was checked (a
 * pipeline definition, a stages definition or a backfill request). Code `invalid-definition`.
 *
 * @example
 * ```ts
 * try {
 *   resolvePipeline(JSON.parse(body));
 * } catch (error) {
 *   if (error instanceof InvalidDefinitionError && error.definition === 'pipeline') console.error(error.problems);
 * }
 * ```
 */
export class InvalidDefinitionError extends ValidationError {
  declare readonly code: 'invalid-definition';
  readonly definition: DefinitionKind;
  readonly problems: readonly string[];

  constructor(definition: DefinitionKind, problems: readonly string[], value: unknown) {
    super(`invalid ${DEFINITION_LABELS[definition]}: ${problems.join('; ')}`, value, {
      code: 'invalid-definition',
    });
    this.name = 'InvalidDefinitionError';
    this.definition = definition;
    this.problems = problems;
  }
}

/** What a `TooLargeError` found too large, with what is known of it. */
export type TooLargeDetails =
  /** An event whose stored item would exceed DynamoDB's item size limit. */
  | { what: 'event'; stream: string; type: string; sizeBytes: number; limitBytes: number }
  /** An atomic commit with more events, or more bytes, than one DynamoDB transaction can hold. */
  | { what: 'transaction'; eventCount: number; sizeBytes: number; maxEvents: number; maxBytes: number }
  /** A message whose body and attributes exceed what SQS accepts in one message. */
  | { what: 'message'; messageId: string; sizeBytes: number; limitBytes: number }
  /** An event too large for one SQS message, even alone (the fetcher's packing). */
  | { what: 'event in message'; eventId: string; sizeBytes: number; limitBytes: number };

/**
 * Something over a size limit: an event over DynamoDB's item limit (`what: 'event'`), an atomic
 * commit over a transaction's (`'transaction'`, which also has `eventCount` and `maxEvents`), a
 * message over SQS's (`'message'`), or an event too large for a message even alone
 * (`'event in message'`). `sizeBytes` is its size, `limitBytes` the limit. Code `too-large`.
 *
 * @example
 * ```ts
 * catch (error) {
 *   if (error instanceof TooLargeError && error.what === 'event') await storeInS3(error.stream, error.type);
 * }
 * ```
 */
export class TooLargeError extends ValidationError {
  declare readonly code: 'too-large';
  readonly what: TooLargeDetails['what'];
  /** Its size, in bytes (for a transaction: every event's, together). */
  readonly sizeBytes: number;
  readonly limitBytes: number;
  /** For an event: its stream and type. */
  readonly stream: string | undefined;
  readonly type: string | undefined;
  /** For an event in a message: its id. */
  readonly eventId: string | undefined;
  /** For a message: the caller's id of it. */
  readonly messageId: string | undefined;
  /** For a transaction: how many events it held, and the most it may. */
  readonly eventCount: number | undefined;
  readonly maxEvents: number | undefined;
  /** For a transaction: the same as `limitBytes`. */
  readonly maxBytes: number | undefined;

  constructor(details: TooLargeDetails) {
    super(tooLargeMessage(details), details, { code: 'too-large' });
    this.name = 'TooLargeError';
    this.what = details.what;
    this.sizeBytes = details.sizeBytes;
    this.limitBytes = details.what === 'transaction' ? details.maxBytes : details.limitBytes;
    this.stream = details.what === 'event' ? details.stream : undefined;
    this.type = details.what === 'event' ? details.type : undefined;
    this.eventId = details.what === 'event in message' ? details.eventId : undefined;
    this.messageId = details.what === 'message' ? details.messageId : undefined;
    this.eventCount = details.what === 'transaction' ? details.eventCount : undefined;
    this.maxEvents = details.what === 'transaction' ? details.maxEvents : undefined;
    this.maxBytes = details.what === 'transaction' ? details.maxBytes : undefined;
  }
}

function tooLargeMessage(details: TooLargeDetails): string {
  switch (details.what) {
    case 'event':
      return `event of type '${details.type}' on stream '${details.stream}' is ${details.sizeBytes} bytes stored, over the limit of ${details.limitBytes} bytes; store large payloads elsewhere (S3) and commit a reference`;
    case 'transaction':
      return `an atomic commit holds at most ${details.maxEvents} events and ${details.maxBytes} bytes (given ${details.eventCount} events, ${details.sizeBytes} bytes); split it, or use commitBatched() if the events need not land all or nothing`;
    case 'message':
      return `message ${JSON.stringify(details.messageId)} is ${details.sizeBytes} bytes (body plus message attributes), over the SQS limit of ${details.limitBytes} bytes; store large payloads elsewhere (S3) and send a reference`;
    case 'event in message':
      return `event ${details.eventId} takes ${details.sizeBytes} bytes in a message, over the SQS limit of ${details.limitBytes} bytes; it cannot be sent`;
  }
}

/** A stream's settle window and commit deadline, which every writer and reader of it uses. */
export interface StreamTimingValues {
  readonly settleWindowMs: number;
  readonly commitDeadlineMs: number;
}

/** What a `ConflictError` conflicted with, and what is known of it. */
export type ConflictDetails =
  /** The checkpoint changed since it was read (a seek): the write was refused. */
  | { kind: 'checkpoint-moved'; pipeline: string; expectedVersion: number; actualVersion?: number }
  /** A checkpoint write that would move the checkpoint backwards; only a seek may do that. */
  | { kind: 'checkpoint-regression'; pipeline: string; from: string; position: string }
  /**
   * A checkpoint write that would put the pipeline ahead of DynamoDB's clock (the writer's clock runs
   * fast): every reader would skip the events still to be committed before it.
   */
  | {
      kind: 'checkpoint-in-future';
      pipeline: string;
      position: string;
      positionTimeMs: number;
      serverTimeMs: number;
    }
  /** A seek that found the checkpoint changed between its read and its write on every attempt. */
  | { kind: 'seek-contention'; pipeline: string; attempts: number }
  /** A sync cursor moved by hand (`resetCursor`) since the run holding the lock read it. */
  | { kind: 'cursor-moved'; resource: string; expectedVersion: number; actualVersion?: number }
  /** A backfill id that already names a backfill of the pipeline over a different range or stream. */
  | {
      kind: 'backfill-id-taken';
      pipeline: string;
      backfillId: string;
      backfillPipeline: string;
      reason: string;
    }
  /**
   * A settle window or commit deadline given to an `EventLog` that differs from the one stored with
   * the stream. Both are one setting per stream, shared by every writer and reader: a writer with a
   * longer deadline than readers allow for, or a reader with a shorter window than writers count on,
   * would skip events.
   */
  | {
      kind: 'stream-timing';
      stream: string;
      stored: StreamTimingValues;
      declared: Partial<StreamTimingValues>;
    };

/**
 * A write refused because of what is stored, and nothing was written. `kind` says which:
 *
 * - `checkpoint-moved`: the checkpoint changed since it was read (a seek); `expectedVersion`,
 *   `actualVersion`. A fetcher that meets it stops: the seek has the pipeline now.
 * - `checkpoint-regression`: a checkpoint write would move it back from `from` to `position`; only a
 *   seek may.
 * - `checkpoint-in-future`: a checkpoint at `position` lies after DynamoDB's clock (at most
 *   `serverTimeMs`): this machine's clock runs fast.
 * - `seek-contention`: a seek's checkpoint changed between its read and write in each of `attempts`.
 * - `cursor-moved`: a sync `resource`'s cursor was moved by hand while a run held its lock.
 * - `backfill-id-taken`: `backfillId` already names `backfillPipeline`, over another range or stream.
 * - `stream-timing`: the `stream`'s `stored` settle window and commit deadline differ from those
 *   `declared` to this `EventLog`.
 *
 * Code `conflict`. The fields of other kinds are `undefined`.
 *
 * @example
 * ```ts
 * try {
 *   await store.seek('billing', position, 'replay from Monday');
 * } catch (error) {
 *   if (error instanceof ConflictError && error.kind === 'seek-contention') console.warn(`gave up after ${error.attempts}`);
 *   else throw error;
 * }
 * ```
 */
export class ConflictError extends SluiceError {
  declare readonly code: 'conflict';
  readonly kind: ConflictDetails['kind'];
  /** The pipeline, for every kind but `cursor-moved` and `stream-timing`. */
  readonly pipeline: string | undefined;
  /** For `checkpoint-moved` and `cursor-moved`: the version read, and the one found (when known). */
  readonly expectedVersion: number | undefined;
  readonly actualVersion: number | undefined;
  /** For `checkpoint-regression` and `checkpoint-in-future`: the position refused. */
  readonly position: string | undefined;
  /** For `checkpoint-regression`: the checkpoint it would have moved back from. */
  readonly from: string | undefined;
  /** For `checkpoint-in-future`: the latest DynamoDB's clock can be, as its responses tell it (epoch ms). */
  readonly serverTimeMs: number | undefined;
  /** For `seek-contention`: how many attempts the seek made. */
  readonly attempts: number | undefined;
  /** For `cursor-moved`: the sync resource. */
  readonly resource: string | undefined;
  /** For `backfill-id-taken`: the id asked for, and the backfill pipeline it names already. */
  readonly backfillId: string | undefined;
  readonly backfillPipeline: string | undefined;
  /** For `stream-timing`: the stream, what it has stored, and what this `EventLog` was given. */
  readonly stream: string | undefined;
  readonly stored: StreamTimingValues | undefined;
  readonly declared: Partial<StreamTimingValues> | undefined;

  constructor(details: ConflictDetails, options?: { cause?: unknown }) {
    super(conflictMessage(details), { cause: options?.cause, code: 'conflict' });
    this.name = 'ConflictError';
    this.kind = details.kind;
    // Each kind sets its own fields; the others stay undefined.
    const given = details as unknown as Record<string, unknown>;
    const fields = this as unknown as Record<string, unknown>;
    for (const key of CONFLICT_FIELDS) fields[key] = given[key];
  }
}

/** The fields of `ConflictError` that one kind or another sets. */
const CONFLICT_FIELDS = [
  'pipeline',
  'expectedVersion',
  'actualVersion',
  'position',
  'from',
  'serverTimeMs',
  'attempts',
  'resource',
  'backfillId',
  'backfillPipeline',
  'stream',
  'stored',
  'declared',
] as const satisfies readonly (keyof ConflictError)[];

function conflictMessage(details: ConflictDetails): string {
  switch (details.kind) {
    case 'checkpoint-moved':
      return `checkpoint of pipeline '${details.pipeline}' is at version ${details.actualVersion ?? 'unknown'}, not ${details.expectedVersion} as read: it was moved (a seek?) while this writer worked`;
    case 'checkpoint-regression':
      return `checkpoint of pipeline '${details.pipeline}' may not move back from ${details.from} to ${details.position}; use seek() to move it back on purpose`;
    case 'checkpoint-in-future':
      return `checkpoint of pipeline '${details.pipeline}' at ${details.position} lies ${Math.ceil(details.positionTimeMs - details.serverTimeMs)} ms after DynamoDB's clock (at most ${new Date(details.serverTimeMs).toISOString()}): this machine's clock runs fast; correct it, nothing was written`;
    case 'seek-contention':
      return `seek of pipeline '${details.pipeline}' did not land: its checkpoint changed between the read and the write in each of ${details.attempts} attempts (a fetcher writing checkpoints, or another seek); nothing was changed. Seek again, or disable the pipeline (or stop its fetcher) and then seek`;
    case 'cursor-moved':
      return `cursor of sync resource '${details.resource}' is at version ${details.actualVersion ?? 'unknown'}, not ${details.expectedVersion} as read: it was moved while this run worked`;
    case 'backfill-id-taken':
      return `backfill '${details.backfillId}' of pipeline '${details.pipeline}' already exists as '${details.backfillPipeline}' with ${details.reason}; choose another backfill id`;
    case 'stream-timing': {
      const given = (['settleWindowMs', 'commitDeadlineMs'] as const)
        .filter((key) => details.declared[key] !== undefined && details.declared[key] !== details.stored[key])
        .map((key) => `${key} ${details.declared[key]}`)
        .join(' and ');
      return `stream '${details.stream}' has settleWindowMs ${details.stored.settleWindowMs} and commitDeadlineMs ${details.stored.commitDeadlineMs}, stored with the stream and used by all its writers and readers, but this EventLog was given ${given}; leave them out to use the stream's, or give the same`;
    }
  }
}

/** What a `LeaseLostError` lost, and what is known of it. */
export type LeaseLostDetails =
  /** A fetcher's lease on a pipeline. */
  | {
      lease: 'fetcher';
      pipeline: string;
      token: number;
      currentToken?: number;
      currentOwner?: string;
      reason: string;
    }
  /** A sync run's lock on a resource. */
  | { lease: 'sync'; resource: string; token: number; currentToken?: number; reason: string }
  /** A DLQ consumer's claim on a failed event. */
  | { lease: 'failed-event claim'; pipeline: string; eventId: string; reason: string };

/**
 * A lease, lock or claim its holder no longer holds: it expired and another took it over (its
 * fencing token is higher), or it was released. The write that found out was refused; the holder
 * must stop. `lease` says which:
 *
 * - `fetcher`: a fetcher's lease on `pipeline` with fencing `token` (`currentToken` and
 *   `currentOwner` say who holds it now, when known).
 * - `sync`: a sync run's lock on `resource`; the run holding it now carries on from the last cursor saved.
 * - `failed-event claim`: a DLQ consumer's claim on failed event `eventId` of `pipeline`, lost before
 *   it could mark the event handled: the event may be handed over twice.
 *
 * Code `lease-lost`.
 *
 * @example
 * ```ts
 * try {
 *   await store.markHandled(claim, failure);
 * } catch (error) {
 *   if (error instanceof LeaseLostError && error.lease === 'failed-event claim') logger.warn('handed over twice?', { eventId: error.eventId });
 *   else throw error;
 * }
 * ```
 */
export class LeaseLostError extends SluiceError {
  declare readonly code: 'lease-lost';
  readonly lease: LeaseLostDetails['lease'];
  /** The pipeline, for a fetcher's lease or a failed-event claim. */
  readonly pipeline: string | undefined;
  /** The sync resource, for a sync lock. */
  readonly resource: string | undefined;
  /** The failed event, for a claim. */
  readonly eventId: string | undefined;
  /** The fencing token held, for a lease or lock. */
  readonly token: number | undefined;
  /** The fencing token now current, when known. */
  readonly currentToken: number | undefined;
  /** The fetcher holding the lease now, when known. */
  readonly currentOwner: string | undefined;

  constructor(details: LeaseLostDetails, options?: { cause?: unknown }) {
    super(leaseLostMessage(details), { cause: options?.cause, code: 'lease-lost' });
    this.name = 'LeaseLostError';
    this.lease = details.lease;
    this.pipeline = details.lease === 'sync' ? undefined : details.pipeline;
    this.resource = details.lease === 'sync' ? details.resource : undefined;
    this.eventId = details.lease === 'failed-event claim' ? details.eventId : undefined;
    this.token = details.lease === 'failed-event claim' ? undefined : details.token;
    this.currentToken = details.lease === 'failed-event claim' ? undefined : details.currentToken;
    this.currentOwner = details.lease === 'fetcher' ? details.currentOwner : undefined;
  }
}

function leaseLostMessage(details: LeaseLostDetails): string {
  switch (details.lease) {
    case 'fetcher':
      return (
        `lease on pipeline '${details.pipeline}' with fencing token ${details.token} is lost: ${details.reason}` +
        (details.currentToken === undefined
          ? ''
          : ` (current token ${details.currentToken}, owner ${details.currentOwner ?? 'none'})`)
      );
    case 'sync':
      return (
        `lock on sync resource '${details.resource}' with fencing token ${details.token} is lost: ${details.reason}` +
        (details.currentToken === undefined ? '' : ` (current token ${details.currentToken})`)
      );
    case 'failed-event claim':
      return `claim on failed event ${details.eventId} of pipeline '${details.pipeline}' is lost: ${details.reason}`;
  }
}

/** What a `MissingResourceError` is about. */
export type ResourceKind = 'state table' | 'table stream' | 'queue' | 'pipeline';

/**
 * A resource Sluice was pointed at that does not exist (code `resource-missing`), or cannot be used
 * (code `resource-unusable`: access to it is denied, say; `cause` is the error AWS gave). `resource`
 * says what it is and `resourceName` names it:
 *
 * - `state table`: a DynamoDB table; the name, region or endpoint is wrong.
 * - `table stream`: a table without a DynamoDB stream (yet, or any more), so commits to it cannot
 *   wake its readers; `resourceName` is the table's.
 * - `queue`: an SQS queue, by its URL.
 * - `pipeline`: no pipeline of that name is registered.
 *
 * @example
 * ```ts
 * catch (error) {
 *   if (error instanceof MissingResourceError && error.resource === 'pipeline') console.error(`register ${error.resourceName} first`);
 * }
 * ```
 */
export class MissingResourceError extends SluiceError {
  declare readonly code: 'resource-missing' | 'resource-unusable';
  readonly resource: ResourceKind;
  /** The table's name, the queue's URL or the pipeline's name. */
  readonly resourceName: string;
  /** The same as `resource`. */
  readonly kind: ResourceKind;
  /** For a `pipeline`: its name, the same as `resourceName`. */
  readonly pipeline: string | undefined;
  /** For a `state table` or `table stream`: the table's name, the same as `resourceName`. */
  readonly tableName: string | undefined;
  /** For a `queue`: its URL, the same as `resourceName`. */
  readonly queueUrl: string | undefined;

  constructor(
    resource: ResourceKind,
    resourceName: string,
    options?: { cause?: unknown; code?: 'resource-missing' | 'resource-unusable' },
  ) {
    super(missingResourceMessage(resource, resourceName, options), {
      cause: options?.cause,
      code: options?.code ?? 'resource-missing',
    });
    this.name = 'MissingResourceError';
    this.resource = resource;
    this.resourceName = resourceName;
    this.kind = resource;
    this.pipeline = resource === 'pipeline' ? resourceName : undefined;
    this.tableName = resource === 'state table' || resource === 'table stream' ? resourceName : undefined;
    this.queueUrl = resource === 'queue' ? resourceName : undefined;
  }
}

function missingResourceMessage(
  resource: ResourceKind,
  resourceName: string,
  options: { cause?: unknown; code?: 'resource-missing' | 'resource-unusable' } | undefined,
): string {
  const cause = options?.cause;
  if (options?.code === 'resource-unusable') {
    const reason = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
    return `${resource} ${resourceName} cannot be used: ${reason}`;
  }
  switch (resource) {
    case 'pipeline':
      return `no pipeline named '${resourceName}' is registered`;
    case 'table stream':
      return `table ${resourceName} has no stream: commits cannot wake its readers`;
    default: {
      const detail = cause instanceof Error ? ` (${cause.message})` : '';
      return `the ${resource} '${resourceName}' does not exist${detail}: create it, or check its name, region and endpoint`;
    }
  }
}

/** A commit that DynamoDB refused: nothing of it was written. */
export class CommitError extends SluiceError {
  declare readonly code: 'commit-refused';
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
    super(message, { cause: options?.cause, code: 'commit-refused' });
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
  declare readonly code: 'commit-outcome-unknown';
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
      { cause: options?.cause, code: 'commit-outcome-unknown' },
    );
    this.name = 'CommitOutcomeUnknownError';
    this.eventIds = details.eventIds;
    this.elapsedMs = details.elapsedMs;
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
  declare readonly code: 'batch-commit-stopped';
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
      { cause: options?.cause, code: 'batch-commit-stopped' },
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
  declare readonly code: 'corrupt-event';
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
    super(`event ${details.eventId} on stream '${details.stream}' cannot be read: ${details.reason}`, {
      cause: options?.cause,
      code: 'corrupt-event',
    });
    this.name = 'CorruptEventError';
    this.eventId = details.eventId;
    this.eventIds = details.eventIds ?? [details.eventId];
  }
}
