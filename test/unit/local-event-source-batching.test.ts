import { describe, expect, it } from 'vitest';
import {
  MAX_PAYLOAD_BYTES,
  nextReceive,
  pauseAfterEmptyReceive,
  windowEndAfterFirst,
} from '../../lib/local/runtime/batching-window';

// How the local SQS event source gathers a batch, as Lambda's does: a long poll for the first
// message, then receives that fill the batch until its window closes.
const standard = { batchSize: 25, maximumBatchingWindowSeconds: 2, fifo: false, pollWaitTimeSeconds: 20 };
const now = 1_000_000;

describe('nextReceive', () => {
  it('long polls for the first message, asking for at most 10', () => {
    expect(nextReceive(standard, { count: 0, bytes: 0, windowEndMs: 0 }, now)).toEqual({
      maxMessages: 10,
      waitTimeSeconds: 20,
      first: true,
    });
  });

  it('asks only for what the batch still lacks, waiting no longer than the window has left', () => {
    expect(nextReceive(standard, { count: 20, bytes: 100, windowEndMs: now + 1_500 }, now)).toEqual({
      maxMessages: 5,
      waitTimeSeconds: 1,
      first: false,
    });
  });

  it('waits at most 20 seconds, however long the window', () => {
    const receive = nextReceive(
      { ...standard, maximumBatchingWindowSeconds: 300 },
      { count: 1, bytes: 1, windowEndMs: now + 300_000 },
      now,
    );
    expect(receive?.waitTimeSeconds).toBe(20);
  });

  it.each([
    ['the batch is full', { count: 25, bytes: 100, windowEndMs: now + 1_000 }],
    ['the window has closed', { count: 3, bytes: 100, windowEndMs: now }],
    [
      'the batch has reached the payload limit',
      { count: 3, bytes: MAX_PAYLOAD_BYTES, windowEndMs: now + 1_000 },
    ],
  ])('ends the batch when %s', (_name, batch) => {
    expect(nextReceive(standard, batch, now)).toBeUndefined();
  });
});

describe('windowEndAfterFirst', () => {
  it('opens the batching window when the first messages come', () => {
    expect(windowEndAfterFirst(standard, now)).toBe(now + 2_000);
  });

  it.each([
    ['on a FIFO queue', { ...standard, fifo: true }],
    ['with no batching window', { ...standard, maximumBatchingWindowSeconds: 0 }],
  ])('ends the batch with its first messages %s', (_name, settings) => {
    expect(windowEndAfterFirst(settings, now)).toBeUndefined();
  });
});

describe('pauseAfterEmptyReceive', () => {
  it('pauses briefly between short receives that find nothing, never past the window', () => {
    expect(pauseAfterEmptyReceive({ waitTimeSeconds: 0, windowEndMs: now + 500 }, now)).toBe(50);
    expect(pauseAfterEmptyReceive({ waitTimeSeconds: 0, windowEndMs: now + 20 }, now)).toBe(20);
  });

  it('does not pause after a receive that long polled', () => {
    expect(pauseAfterEmptyReceive({ waitTimeSeconds: 1, windowEndMs: now + 1_500 }, now)).toBe(0);
  });
});
