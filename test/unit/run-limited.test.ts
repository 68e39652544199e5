import { describe, expect, it } from 'vitest';
import { runLimited } from '../../lib/collections/run-limited';

const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

describe('runLimited', () => {
  it('starts items in order, never more than the limit at once, and runs them all', async () => {
    // Prepare
    let underWay = 0;
    let peak = 0;
    const startedOrder: number[] = [];

    // Act
    const started = await runLimited([0, 1, 2, 3, 4, 5, 6], 3, async (item) => {
      startedOrder.push(item);
      underWay += 1;
      peak = Math.max(peak, underWay);
      await tick();
      underWay -= 1;
    });

    // Assess
    expect(started).toBe(7);
    expect(startedOrder).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(peak).toBe(3);
  });

  it('starts nothing more once stopWhen is true, lets the items under way end, and counts the prefix started', async () => {
    // Prepare
    let stop = false;
    const ended: number[] = [];

    // Act: item 1 ends first and stops the rest; items 0 and 2 are under way by then
    const started = await runLimited(
      [0, 1, 2, 3, 4, 5],
      3,
      async (item) => {
        await (item === 1 ? Promise.resolve() : tick());
        if (item === 1) stop = true;
        ended.push(item);
      },
      { stopWhen: () => stop },
    );

    // Assess
    expect(started).toBe(3);
    expect(ended.sort()).toEqual([0, 1, 2]);
  });

  it('starts nothing for no items', async () => {
    expect(await runLimited([], 4, async () => undefined)).toBe(0);
  });
});
