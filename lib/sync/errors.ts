import { SluiceError } from '../errors';
import { NonRetryableError } from '../retry/errors';

/**
 * The lock this sync run holds is no longer current: it expired and another run took the resource
 * (its fencing token is higher), or it was released. The write that found out was refused; the run
 * must stop, and the run that holds the lock carries on from the last cursor saved.
 */
export class SyncLockLostError extends SluiceError {
  readonly resource: string;
  readonly token: number;
  readonly currentToken: number | undefined;

  constructor(details: { resource: string; token: number; currentToken?: number; reason: string }) {
    super(
      `lock on sync resource '${details.resource}' with fencing token ${details.token} is lost: ${details.reason}` +
        (details.currentToken === undefined ? '' : ` (current token ${details.currentToken})`),
    );
    this.name = 'SyncLockLostError';
    this.resource = details.resource;
    this.token = details.token;
    this.currentToken = details.currentToken;
  }
}

/**
 * The saved cursor changed since this run read it, though the run still holds the lock: someone moved
 * it by hand (`resetCursor`). The save was refused.
 */
export class CursorConflictError extends SluiceError {
  readonly resource: string;
  readonly expectedVersion: number;
  readonly actualVersion: number | undefined;

  constructor(details: { resource: string; expectedVersion: number; actualVersion?: number }) {
    super(
      `cursor of sync resource '${details.resource}' is at version ${details.actualVersion ?? 'unknown'}, not ${details.expectedVersion} as read: it was moved while this run worked`,
    );
    this.name = 'CursorConflictError';
    this.resource = details.resource;
    this.expectedVersion = details.expectedVersion;
    this.actualVersion = details.actualVersion;
  }
}

/** A paginated source misbehaved: it handed back the cursor it was given, or an offset went backwards. */
export class PaginationError extends SluiceError {
  /** The cursor (or offset, as a string) of the page at fault. */
  readonly cursor: string | undefined;

  constructor(message: string, cursor: string | undefined) {
    super(message);
    this.name = 'PaginationError';
    this.cursor = cursor;
  }
}

/**
 * An HTTP response whose status says a retry will not help (a 4xx other than 408 and 429). It is a
 * `NonRetryableError`, so `withRetry` stops at once.
 */
export class HttpStatusError extends NonRetryableError {
  readonly url: string;
  readonly status: number;
  /** The start of the response body, for the message. */
  readonly body: string;

  constructor(details: { url: string; status: number; body: string }) {
    super(`${details.url} answered HTTP ${details.status}${details.body ? `: ${details.body}` : ''}`);
    this.name = 'HttpStatusError';
    this.url = details.url;
    this.status = details.status;
    this.body = details.body;
  }
}
