import { describe, expect, it } from 'vitest';
import { createLambdaContext, FixedRateSchedule, rateToMilliseconds } from '../../lib/local';
import { sleep } from '../support/fixtures';

describe('FixedRateSchedule', () => {
  it('never overlaps invocations: ticks that come while one runs are skipped', async () => {
    // Prepare
    let active = 0;
    let peak = 0;
    let calls = 0;
    const remaining: number[] = [];
    const schedule = new FixedRateSchedule({
      intervalMs: 20,
      functionTimeoutSeconds: 5,
      handler: async (_event, context) => {
        calls += 1;
        active += 1;
        peak = Math.max(peak, active);
        remaining.push(context.getRemainingTimeInMillis());
        await sleep(150);
        active -= 1;
      },
    });

    // Act
    schedule.start();
    await sleep(400);
    await schedule.stop();

    // Assess
    const stats = schedule.stats();
    expect(peak).toBe(1);
    expect(stats.peakConcurrency).toBe(1);
    expect(stats.invocations).toBe(calls);
    expect(stats.skipped).toBeGreaterThan(0);
    expect(stats.ticks).toBe(stats.invocations + stats.skipped);
    expect(active).toBe(0);
    for (const ms of remaining) expect(ms).toBeGreaterThan(4_000);
  });

  it('sends the EventBridge scheduled event shape and counts a handler that throws', async () => {
    // Prepare
    const events: unknown[] = [];
    const errors: unknown[] = [];
    const schedule = new FixedRateSchedule({
      rate: 'rate(1 minute)',
      onError: (error) => errors.push(error),
      handler: (event) => {
        events.push(event);
        throw new Error('fetch failed');
      },
    });

    // Act
    await schedule.tick();
    await schedule.tick();

    // Assess
    expect(schedule.intervalMs).toBe(60_000);
    expect(events[0]).toMatchObject({ source: 'aws.events', 'detail-type': 'Scheduled Event', detail: {} });
    expect(schedule.stats()).toMatchObject({ invocations: 2, errors: 2, skipped: 0 });
    expect(errors).toHaveLength(2);
  });

  it('fails when the rate is not an EventBridge rate expression', () => {
    expect(rateToMilliseconds('rate(5 minutes)')).toBe(300_000);
    expect(rateToMilliseconds('rate(1 hour)')).toBe(3_600_000);
    expect(() => rateToMilliseconds('rate(1 minutes)')).toThrow('given "rate(1 minutes)"');
    expect(() => new FixedRateSchedule({ handler: () => {}, rate: 'every minute' })).toThrow(
      'rate must be an EventBridge rate expression',
    );
  });
});

describe('createLambdaContext', () => {
  it('counts the remaining time down from the timeout', () => {
    let now = 1_000;
    const context = createLambdaContext({ functionName: 'worker', timeoutMs: 30_000, clock: () => now });
    now += 10_000;
    expect(context.getRemainingTimeInMillis()).toBe(20_000);
    now += 60_000;
    expect(context.getRemainingTimeInMillis()).toBe(0);
    expect(context.invokedFunctionArn).toBe('arn:aws:lambda:us-east-1:000000000000:function:worker');
  });

  it('fails when the timeout is over 15 minutes', () => {
    expect(() => createLambdaContext({ functionName: 'worker', timeoutMs: 900_001 })).toThrow(
      'timeoutMs must be from 1 to 900000 (given 900001)',
    );
  });
});
