import { SluiceError } from '../errors';

/**
 * A DLQ consumer lost its claim on an event before it could mark it handled: the claim expired and
 * another consumer took the event, or the claim was released. The event may be handed over twice.
 *
 * @example
 * ```ts
 * try {
 *   await store.markHandled(claim, failure);
 * } catch (error) {
 *   if (error instanceof ClaimLostError) logger.warn('handed over twice?', { eventId: error.eventId });
 *   else throw error;
 * }
 * ```
 */
export class ClaimLostError extends SluiceError {
  readonly pipeline: string;
  readonly eventId: string;

  constructor(details: { pipeline: string; eventId: string; reason: string }, options?: { cause?: unknown }) {
    super(
      `claim on failed event ${details.eventId} of pipeline '${details.pipeline}' is lost: ${details.reason}`,
      options,
    );
    this.name = 'ClaimLostError';
    this.pipeline = details.pipeline;
    this.eventId = details.eventId;
  }
}

/** What a redrive had done when it stopped. */
export interface RedriveProgress {
  /** DLQ messages read. */
  readonly examined: number;
  /** Events the main queue accepted. */
  readonly moved: number;
  /** Events left in the dead-letter queue. */
  readonly kept: number;
  /** Original DLQ messages deleted after their events were re-sent. */
  readonly messagesDeleted: number;
}

/**
 * A redrive stopped because a queue refused a message. Nothing was lost: a DLQ message is deleted
 * only after every message made from it was accepted, so the messages named in `messageIds` are
 * still in the dead-letter queue, visible again.
 *
 * @example
 * ```ts
 * try {
 *   await redriveDeadLetters({ sqs, deadLetterQueueUrl, queueUrl });
 * } catch (error) {
 *   if (error instanceof RedriveError) console.error(error.queueUrl, error.messageIds, error.progress);
 *   throw error;
 * }
 * ```
 */
export class RedriveError extends SluiceError {
  /** The queue that refused the messages. */
  readonly queueUrl: string;
  /** The DLQ messages that stay where they were because of it. */
  readonly messageIds: readonly string[];
  /** What the redrive had done before it stopped. */
  readonly progress: RedriveProgress;

  constructor(
    details: { queueUrl: string; messageIds: readonly string[]; progress: RedriveProgress },
    options?: { cause?: unknown },
  ) {
    const cause = options?.cause instanceof Error ? `: ${options.cause.message}` : '';
    super(
      `redrive stopped: queue ${details.queueUrl} did not accept the messages made from ${details.messageIds.length} dead-letter message(s), which stay in the dead-letter queue (${details.progress.moved} event(s) moved, ${details.progress.messagesDeleted} message(s) deleted before it)${cause}`,
      options,
    );
    this.name = 'RedriveError';
    this.queueUrl = details.queueUrl;
    this.messageIds = details.messageIds;
    this.progress = details.progress;
  }
}

/** What a redrive from failure records had done when it stopped, or did. */
export interface RedriveFailuresProgress {
  /** Failure records read. */
  readonly examined: number;
  /** Events sent back to the queue (in a dry run: that would be). */
  readonly moved: number;
  /** Matching records not sent back because the failed handler has not accepted them yet. */
  readonly pending: number;
  /** Matching records sent back by an earlier redrive. */
  readonly alreadyRedriven: number;
  /** Matching records that hold no event data (it was too large to keep), so cannot be sent back. */
  readonly dataOmitted: number;
}

/**
 * A redrive from failure records stopped because the queue refused a message, or a record could not
 * be marked. Nothing is lost: a record is marked redriven only after its event was accepted, so the
 * next run sends what is left (an event sent but not marked goes again with the same redrive
 * identity, and the worker recognises it).
 *
 * @example
 * ```ts
 * try {
 *   await redriveFailures({ store, sqs, pipeline: 'billing', queueUrl });
 * } catch (error) {
 *   if (error instanceof RedriveFailuresError) console.error(error.eventIds, error.progress);
 * }
 * ```
 */
export class RedriveFailuresError extends SluiceError {
  readonly queueUrl: string;
  /** The events not sent back, or not marked, because of it. */
  readonly eventIds: readonly string[];
  readonly progress: RedriveFailuresProgress;

  constructor(
    details: { queueUrl: string; eventIds: readonly string[]; progress: RedriveFailuresProgress },
    options?: { cause?: unknown },
  ) {
    const cause = options?.cause instanceof Error ? `: ${options.cause.message}` : '';
    super(
      `redrive stopped: ${details.eventIds.length} event(s) were not sent back to queue ${details.queueUrl}, or not marked redriven (${details.progress.moved} moved before it); run it again to send the rest${cause}`,
      options,
    );
    this.name = 'RedriveFailuresError';
    this.queueUrl = details.queueUrl;
    this.eventIds = details.eventIds;
    this.progress = details.progress;
  }
}
