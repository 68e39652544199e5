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
