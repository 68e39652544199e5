import { SluiceError } from '../errors';
import { NonRetryableError } from '../retry/errors';

/** A paginated source misbehaved: it handed back the cursor it was given, or an offset went backwards. */
export class PaginationError extends SluiceError {
  declare readonly code: 'pagination';
  /** The cursor (or offset, as a string) of the page at fault. */
  readonly cursor: string | undefined;

  constructor(message: string, cursor: string | undefined) {
    super(message, { code: 'pagination' });
    this.name = 'PaginationError';
    this.cursor = cursor;
  }
}

/**
 * An HTTP response whose status says a retry will not help (a 4xx other than 408 and 429). It is a
 * `NonRetryableError`, so `withRetry` stops at once.
 */
export class HttpStatusError extends NonRetryableError {
  declare readonly code: 'http-status';
  readonly url: string;
  readonly status: number;
  /** The start of the response body, for the message. */
  readonly body: string;

  constructor(details: { url: string; status: number; body: string }) {
    super(`${details.url} answered HTTP ${details.status}${details.body ? `: ${details.body}` : ''}`, {
      code: 'http-status',
    });
    this.name = 'HttpStatusError';
    this.url = details.url;
    this.status = details.status;
    this.body = details.body;
  }
}
