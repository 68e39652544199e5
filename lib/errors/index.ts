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
 * This folder holds the shared classes, a module a family: `base.ts` (`SluiceError` and the codes),
 * `validation.ts` (`ValidationError`, `InvalidDefinitionError`), `too-large.ts`, `conflict.ts`,
 * `lease-lost.ts`, `missing-resource.ts` and `event-log.ts` (the commit errors and
 * `CorruptEventError`); `describe.ts` renders values for messages. The errors of one area live in
 * that area's `errors.ts` (or beside the code that throws them).
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

export { SluiceError, type SluiceErrorCode, type ValidationCode } from './base';
export { type ConflictDetails, ConflictError, type StreamTimingValues } from './conflict';
export { describe } from './describe';
export {
  BatchCommitError,
  type BatchCommitOutcome,
  CommitError,
  CommitOutcomeUnknownError,
  CorruptEventError,
} from './event-log';
export { type LeaseLostDetails, LeaseLostError } from './lease-lost';
export { MissingResourceError, type ResourceKind } from './missing-resource';
export { type TooLargeDetails, TooLargeError } from './too-large';
export { type DefinitionKind, InvalidDefinitionError, ValidationError } from './validation';
