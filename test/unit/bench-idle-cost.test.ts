import { Duration } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { idleCostPerPipelineMonth, steadyLoadCostPerPipelineMonth } from '../../bench/cost/idle-cost';

process.env.CDK_VALIDATION = 'false';

describe('the idle cost model', () => {
  it('reads the schedule, timeout and memory of what EventPipeline deploys, for each latency', () => {
    // Act
    const economy = idleCostPerPipelineMonth('economy');
    const balanced = idleCostPerPipelineMonth('balanced');
    const low = idleCostPerPipelineMonth('low');

    // Assess: a run a minute tailing 55 s, against a run every 15 minutes that leaves once idle, reading
    // the live edge twice as often; with `low`, the window stored at deploy is shorter and the live edge
    // is read five times as often
    const settled = { settleWindowMs: 1_500 };
    expect(economy.from).toEqual({
      runsPerMonth: 43_200,
      busySecondsPerRun: 55,
      memoryMb: 256,
      pollIntervalMs: 1_000,
      ...settled,
    });
    expect(balanced.from).toEqual({
      runsPerMonth: 2_880,
      busySecondsPerRun: 3.5,
      memoryMb: 256,
      pollIntervalMs: 500,
      ...settled,
    });
    expect(low.from).toEqual({
      runsPerMonth: 2_880,
      busySecondsPerRun: 2.3,
      memoryMb: 256,
      pollIntervalMs: 200,
      settleWindowMs: 300,
    });
    expect(low.fetcherDynamoDb).toBeGreaterThan(balanced.fetcherDynamoDb);
    expect(low.fetcherLambda).toBeLessThan(balanced.fetcherLambda);
    for (const cost of [economy, balanced, low])
      expect(cost.total).toBeCloseTo(
        cost.fetcherLambda + cost.fetcherDynamoDb + cost.sqsPollers + cost.waker,
        2,
      );
    expect(balanced.sqsPollers).toBe(economy.sqsPollers);
    expect(balanced.total).toBeLessThan(economy.total / 10);
  });
});

describe('the steady-load cost model', () => {
  it('bills a woken pipeline a whole month of tailing and the waker on every stream batch', () => {
    // Act
    const economy = steadyLoadCostPerPipelineMonth('economy');
    const balanced = steadyLoadCostPerPipelineMonth('balanced');

    // Assess: 55 s of every minute against all of it; no waker against four batches a second
    expect(balanced.fetcherLambda / economy.fetcherLambda).toBeCloseTo(60 / 55, 1);
    expect(economy.waker).toBe(0);
    expect(balanced.waker).toBeGreaterThan(4);
    expect(balanced.sqsPollers).toBe(economy.sqsPollers);
    for (const cost of [economy, balanced])
      expect(cost.total).toBeCloseTo(
        cost.fetcherLambda + cost.fetcherDynamoDb + cost.sqsPollers + cost.waker,
        2,
      );
  });

  it('invokes the waker once a window under steady traffic when the log gathers its stream for one', () => {
    // Act
    const balanced = steadyLoadCostPerPipelineMonth('balanced');
    const windowed = steadyLoadCostPerPipelineMonth('balanced', { wakeBatchingWindow: Duration.seconds(1) });
    const slower = steadyLoadCostPerPipelineMonth('balanced', { wakeBatchingWindow: Duration.seconds(10) });

    // Assess: four batches a second against one, and one every ten seconds; the fetcher's part unchanged
    expect(windowed.waker / balanced.waker).toBeCloseTo(1 / 4, 2);
    expect(slower.waker / balanced.waker).toBeCloseTo(1 / 40, 2);
    expect(windowed.fetcherLambda).toBe(balanced.fetcherLambda);
  });
});
