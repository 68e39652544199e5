/**
 * Where a failure record stands: `pending` from the moment the DLQ consumer takes the event until the
 * failed handler has accepted it, then `handled`; `redriven` once a redrive sent a handled event back
 * to its pipeline's queue. A handled event is never handed over again (a failure after a redrive is
 * a new record).
 */
export const FAILURE_STATUS = {
  pending: 'pending',
  handled: 'handled',
  redriven: 'redriven',
} as const;
export type FailureStatus = (typeof FAILURE_STATUS)[keyof typeof FAILURE_STATUS];

/** The state of an event's claim item: taken by a consumer for a while, or handled for good. */
export const CLAIM_STATUS = {
  claimed: 'claimed',
  handled: 'handled',
} as const;
export type ClaimStatus = (typeof CLAIM_STATUS)[keyof typeof CLAIM_STATUS];

/** The message of the error given to an event that reached the DLQ without any recorded error. */
export const UNKNOWN_FAILURE_MESSAGE =
  'no attempt recorded an error: the worker timed out, crashed or failed the whole batch';

/** How long failure records and claims are kept by default: 30 days. */
export const DEFAULT_FAILURE_RETENTION_SECONDS = 30 * 24 * 3600;
/**
 * The shortest retention allowed: 14 days, the longest SQS keeps a message. A claim that expired
 * before its DLQ message would let a redelivered copy be handed over a second time.
 */
export const MIN_FAILURE_RETENTION_SECONDS = 14 * 24 * 3600;
/** The longest retention allowed: 400 days. */
export const MAX_FAILURE_RETENTION_SECONDS = 400 * 24 * 3600;

/**
 * How long a DLQ consumer holds an event by default while its failed handler runs: 15 minutes, the
 * longest a Lambda function can run, so that no other consumer takes the event over meanwhile.
 */
export const DEFAULT_CLAIM_DURATION_MS = 15 * 60_000;
/** The range of claim durations, in milliseconds. */
export const CLAIM_DURATION_RANGE = { min: 1_000, max: 3_600_000 } as const;

/** The most bytes of a malformed message's body kept in its record (UTF-8): 64 KiB. */
export const MAX_MALFORMED_BODY_BYTES = 64 * 1024;
/**
 * The most bytes of a failure record's JSON; an event whose record would be larger is kept without
 * its data (DynamoDB items hold at most 400 KB). The failed handler still gets the data whole.
 */
export const MAX_RECORD_JSON_BYTES = 350 * 1024;

/** Records one `listFailures()` or `listMalformed()` call returns by default, and at most. */
export const DEFAULT_LIST_LIMIT = 100;
export const MAX_LIST_LIMIT = 1_000;
/** How many days one listing may span, and how far back it looks by default. */
export const MAX_LIST_SPAN_DAYS = 400;
export const DEFAULT_LIST_SPAN_DAYS = 30;
