import { SluiceError } from './base';

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
