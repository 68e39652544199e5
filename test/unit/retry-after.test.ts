import { describe, expect, it } from 'vitest';
import { parseRetryAfter, RetryableError, withRetry } from '../../lib/retry';

const NOW = Date.parse('2026-11-22T10:00:00Z');

describe('parseRetryAfter', () => {
  it('reads delay-seconds', () => {
    expect(parseRetryAfter('0', NOW)).toBe(0);
    expect(parseRetryAfter(' 7 ', NOW)).toBe(7_000);
  });

  it('reads an HTTP date against the clock, and a past date as 0', () => {
    expect(parseRetryAfter('Sun, 22 Nov 2026 10:00:30 GMT', NOW)).toBe(30_000);
    expect(parseRetryAfter('Sun, 22 Nov 2026 09:59:00 GMT', NOW)).toBe(0);
  });

  it('gives undefined for a missing or malformed value', () => {
    for (const value of [undefined, null, '', '-1', '1.5', 'soon', '2026-11-22']) {
      expect(parseRetryAfter(value, NOW)).toBeUndefined();
    }
  });
});

describe('withRetry maxRetryAfterMs', () => {
  it("caps the wait a failure's Retry-After asks for, and keeps it otherwise", async () => {
    // Prepare: a server that asks for an hour, then for two seconds.
    const delays: number[] = [];
    const asks = [3_600_000, 2_000];
    let attempt = 0;

    // Act
    const value = await withRetry(
      async () => {
        const retryAfterMs = asks[attempt++];
        if (retryAfterMs !== undefined) throw new RetryableError('busy', { retryAfterMs });
        return 'done';
      },
      {
        preset: { maxAttempts: 3, initialDelayMs: 10, maxDelayMs: 10, backoffFactor: 1 },
        jitter: 'none',
        maxRetryAfterMs: 60_000,
        sleep: async (ms) => void delays.push(ms),
      },
    );

    // Assess
    expect(value).toBe('done');
    expect(delays).toEqual([60_000, 2_000]);
  });

  it('fails when maxRetryAfterMs is not a number of milliseconds', async () => {
    await expect(withRetry(async () => 1, { maxRetryAfterMs: -1 })).rejects.toThrow(
      /maxRetryAfterMs must be a finite number of milliseconds, 0 or more \(given -1\)/,
    );
  });
});
