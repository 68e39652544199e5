import { SluiceError } from '../errors';

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

/** Where a redrive was sending events back from, and what it had done when it stopped. */
export type RedriveStop =
  | {
      source: 'dead-letter queue';
      queueUrl: string;
      /** The DLQ messages that stay where they were. */
      messageIds: readonly string[];
      progress: RedriveProgress;
    }
  | {
      source: 'failure records';
      queueUrl: string;
      /** The events not sent back, or not marked redriven. */
      eventIds: readonly string[];
      progress: RedriveFailuresProgress;
    };

/**
 * A redrive that stopped part-way; nothing was lost. `source` says which:
 *
 * - `dead-letter queue` (`redriveDeadLetters`): queue `queueUrl` refused a message. A DLQ message is
 *   deleted only after every message made from it was accepted, so those in `messageIds` are still
 *   in the dead-letter queue, visible again.
 * - `failure records` (`redriveFailures`): the queue refused an event, or a record could not be
 *   marked. A record is marked redriven only after its event was accepted, so the next run sends the
 *   `eventIds` left (an event sent but not marked goes again with the same redrive identity, and the
 *   worker recognises it).
 *
 * `progress` says what the redrive had done before it stopped. Code `redrive-stopped`.
 *
 * @example
 * ```ts
 * try {
 *   await redriveDeadLetters({ sqs, deadLetterQueueUrl, queueUrl });
 * } catch (error) {
 *   if (error instanceof RedriveError) console.error(error.source, error.queueUrl, error.messageIds, error.progress.moved);
 *   throw error;
 * }
 * ```
 */
export class RedriveError extends SluiceError {
  declare readonly code: 'redrive-stopped';
  readonly source: RedriveStop['source'];
  /** The queue that refused the messages. */
  readonly queueUrl: string;
  /** For a `dead-letter queue` redrive: the DLQ messages that stay where they were (else empty). */
  readonly messageIds: readonly string[];
  /** For a `failure records` redrive: the events not sent back, or not marked (else empty). */
  readonly eventIds: readonly string[];
  /** What the redrive had done before it stopped: a `RedriveFailuresProgress` for `failure records`. */
  readonly progress: RedriveProgress | RedriveFailuresProgress;

  constructor(details: RedriveStop, options?: { cause?: unknown }) {
    super(redriveMessage(details, options?.cause), { cause: options?.cause, code: 'redrive-stopped' });
    this.name = 'RedriveError';
    this.source = details.source;
    this.queueUrl = details.queueUrl;
    this.messageIds = details.source === 'dead-letter queue' ? details.messageIds : [];
    this.eventIds = details.source === 'failure records' ? details.eventIds : [];
    this.progress = details.progress;
  }
}

function redriveMessage(details: RedriveStop, cause: unknown): string {
  const reason = cause instanceof Error ? `: ${cause.message}` : '';
  if (details.source === 'dead-letter queue') {
    return `redrive stopped: queue ${details.queueUrl} did not accept the messages made from ${details.messageIds.length} dead-letter message(s), which stay in the dead-letter queue (${details.progress.moved} event(s) moved, ${details.progress.messagesDeleted} message(s) deleted before it)${reason}`;
  }
  return `redrive stopped: ${details.eventIds.length} event(s) were not sent back to queue ${details.queueUrl}, or not marked redriven (${details.progress.moved} moved before it); run it again to send the rest${reason}`;
}
