import { RetryableError } from '../retry/errors';
import { parseRetryAfter } from '../retry/retry-after';
import { type WithRetryOptions, withRetry } from '../retry/with-retry';
import { DEFAULT_MAX_RETRY_AFTER_MS } from './constants';
import { HttpStatusError } from './errors';

/** Statuses worth another attempt: 408 Request Timeout, 429 Too Many Requests and every 5xx. */
function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || (status >= 500 && status <= 599);
}

/** How much of an error response's body goes into the error message. */
const BODY_EXCERPT_CHARS = 300;

/** Options of {@link fetchJson}. */
export interface FetchJsonOptions {
  /** Request headers (an API key, `accept`). @default `accept: application/json` */
  readonly headers?: Readonly<Record<string, string>>;
  /**
   * How failed attempts are retried: a preset and anything else `withRetry` takes. A 429 or 503's
   * `Retry-After` (seconds or an HTTP date) is waited, capped at `maxRetryAfterMs`.
   * @default { preset: 'standard', maxRetryAfterMs: 60000 }
   */
  readonly retry?: WithRetryOptions;
  /** The `fetch` to call. @default globalThis.fetch */
  readonly fetch?: typeof globalThis.fetch;
}

/**
 * GETs a URL and parses its JSON body, retrying what is worth retrying with `withRetry`:
 *
 * - 2xx: the parsed body;
 * - 408, 429 and 5xx: a `RetryableError` whose `retryAfterMs` is the response's `Retry-After`
 *   (delay-seconds or an HTTP date), capped at `retry.maxRetryAfterMs` (60 s by default);
 * - any other status: an `HttpStatusError` (non-retryable) with the status and the start of the body;
 * - network failures (`ECONNRESET`, `ECONNREFUSED`, a dropped socket): retried, as `isTransientError`
 *   finds them in `fetch`'s `cause`.
 *
 * @throws `HttpStatusError`, `RetriesExhaustedError` (its `lastError` is the last failure), or a
 * `SyntaxError` for a body that is not JSON.
 *
 * @example
 * ```ts
 * const page = await fetchJson('https://api.example.com/customers?limit=100', {
 *   headers: { authorization: `Bearer ${token}` },
 *   retry: { preset: 'rateLimit', deadlineMs: Date.now() + 30_000 },
 * });
 * ```
 */
export async function fetchJson(url: string | URL, options: FetchJsonOptions = {}): Promise<unknown> {
  const doFetch = options.fetch ?? globalThis.fetch;
  const href = String(url);
  const retry = options.retry ?? {};
  const now = retry.now ?? Date.now;
  return withRetry(
    async ({ signal }) => {
      const response = await doFetch(href, {
        headers: { accept: 'application/json', ...options.headers },
        ...(signal ? { signal } : {}),
      });
      if (response.ok) return (await response.json()) as unknown;
      const body = (await response.text().catch(() => '')).slice(0, BODY_EXCERPT_CHARS);
      if (!isRetryableStatus(response.status))
        throw new HttpStatusError({ url: href, status: response.status, body });
      const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), now());
      throw new RetryableError(
        `${href} answered HTTP ${response.status}${body ? `: ${body}` : ''}`,
        retryAfterMs === undefined ? undefined : { retryAfterMs },
      );
    },
    { name: `GET ${href}`, maxRetryAfterMs: DEFAULT_MAX_RETRY_AFTER_MS, ...retry },
  );
}
