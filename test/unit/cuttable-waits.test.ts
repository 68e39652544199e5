import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CuttableWaits } from '../../lib/local/runtime/cuttable-waits';

describe('the waits of a local fetcher', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  /** Whether `promise` has settled after the pending microtasks ran. */
  async function settled(promise: Promise<unknown>): Promise<boolean> {
    let done = false;
    promise.then(() => {
      done = true;
    });
    await vi.advanceTimersByTimeAsync(0);
    return done;
  }

  it('ends a wait under way when cut', async () => {
    const waits = new CuttableWaits();
    const wait = waits.wait(1_000);
    expect(await settled(wait)).toBe(false);
    waits.cut();
    expect(await settled(wait)).toBe(true);
  });

  it('keeps a cut that comes between waits for the next one, and only that one', async () => {
    // Prepare: the fetcher is reading when the wake-up comes
    const waits = new CuttableWaits();
    waits.cut();

    // Act
    const next = waits.wait(1_000);
    const after = waits.wait(1_000);

    // Assess
    expect(await settled(next)).toBe(true);
    expect(await settled(after)).toBe(false);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(await settled(after)).toBe(true);
  });

  it('ends every wait once stopped', async () => {
    const waits = new CuttableWaits();
    const wait = waits.wait(60_000);
    waits.stop();
    expect(await settled(wait)).toBe(true);
    expect(await settled(waits.wait(60_000))).toBe(true);
    expect(await settled(waits.wait(60_000))).toBe(true);
  });
});
