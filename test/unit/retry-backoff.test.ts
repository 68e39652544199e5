import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { exponentialDelay } from '../../lib/retry/backoff';
import { withRetry } from '../../lib/retry/with-retry';
import { sendBackoffMs } from '../../lib/sqs/send-plan';
import { backoffDelaySeconds } from '../../lib/worker/backoff';

// The formulas each backoff used before they shared `exponentialDelay`, kept here to check that no
// computed delay changed.
const formerWithRetryMs = (initial: number, factor: number, max: number, attempt: number) =>
  Math.round(Math.min(max, initial * factor ** (attempt - 1)));
const formerSendMs = (initial: number, max: number, attempt: number) =>
  Math.min(max, initial * 2 ** (attempt - 1));
function formerWorkerSeconds(failures: number, base: number, max: number, factor: number, random?: number) {
  const full = Math.min(max, base * factor ** (failures - 1));
  if (random === undefined) return Math.round(full);
  return Math.max(1, Math.round(full / 2 + (random * full) / 2));
}

describe('exponentialDelay', () => {
  it('grows by the factor from the initial wait and stops at the longest', () => {
    const backoff = { initial: 100, factor: 2, max: 2_000 };
    expect([1, 2, 3, 4, 5, 6].map((retry) => exponentialDelay(backoff, retry))).toEqual([
      100, 200, 400, 800, 1_600, 2_000,
    ]);
    expect(exponentialDelay({ initial: 30, factor: 1.5, max: 600 }, 3)).toBe(67.5);
  });

  it('gives sendMessageBatches the delays it computed before, for every attempt', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 60_000 }),
        fc.integer({ min: 0, max: 300_000 }),
        fc.integer({ min: 1, max: 100 }),
        (initialDelayMs, extra, attempt) => {
          const maxDelayMs = initialDelayMs + extra;
          expect(sendBackoffMs({ initialDelayMs, maxDelayMs }, attempt)).toBe(
            formerSendMs(initialDelayMs, maxDelayMs, attempt),
          );
        },
      ),
    );
  });

  it('gives the worker the delays it computed before, with and without jitter', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 900 }),
        fc.integer({ min: 1, max: 900 }),
        fc.double({ min: 1, max: 10, noNaN: true }),
        fc.integer({ min: 1, max: 40 }),
        fc.double({ min: 0, max: 0.999_999, noNaN: true }),
        (a, b, factor, failures, random) => {
          const [base, max] = a <= b ? [a, b] : [b, a];
          const policy = { baseDelaySeconds: base, maxDelaySeconds: max, factor };
          expect(backoffDelaySeconds(failures, { ...policy, jitter: false })).toBe(
            formerWorkerSeconds(failures, base, max, factor),
          );
          expect(backoffDelaySeconds(failures, policy, () => random)).toBe(
            formerWorkerSeconds(failures, base, max, factor, random),
          );
        },
      ),
    );
  });

  it('gives withRetry the waits it computed before, attempt after attempt', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 5_000 }),
        fc.integer({ min: 0, max: 60_000 }),
        fc.double({ min: 1, max: 3, noNaN: true }),
        fc.integer({ min: 2, max: 12 }),
        async (initialDelayMs, extra, backoffFactor, maxAttempts) => {
          const maxDelayMs = initialDelayMs + extra;
          const waits: number[] = [];
          await withRetry(
            () => {
              throw Object.assign(new Error('throttled'), { name: 'ThrottlingException' });
            },
            {
              preset: { maxAttempts, initialDelayMs, maxDelayMs, backoffFactor },
              jitter: 'none',
              sleep: async (ms) => {
                waits.push(ms);
              },
            },
          ).catch(() => undefined);
          expect(waits).toEqual(
            Array.from({ length: maxAttempts - 1 }, (_, n) =>
              formerWithRetryMs(initialDelayMs, backoffFactor, maxDelayMs, n + 1),
            ),
          );
        },
      ),
      { numRuns: 50 },
    );
  });
});
