import { describe, expect, inject, it } from 'vitest';
import type { ScenarioContext } from '../../chaos/scenario';
import { outputsOver100, ttlExpiry } from '../../chaos/scenarios/operations';
import { poisonEvents, workerCrashes } from '../../chaos/scenarios/worker';

// The runner's scenario code under `npm test`: four quick scenarios through the same code that
// `npm run chaos` runs, against the test run's emulators.
const context: ScenarioContext = {
  endpoints: { dynamodb: inject('dynamodbEndpoint'), sqs: inject('sqsEndpoint') },
  seed: 7,
  quick: true,
};

describe('chaos scenarios', () => {
  it('worker-crashes: a crash at every worker step loses nothing and commits each effect once', async () => {
    const outcome = await workerCrashes.run(context);

    expect(outcome.notes.crashedAt).toEqual([
      'after-read',
      'after-handler',
      'before-dead-letter',
      'before-marker',
      'after-marker',
      'before-response',
    ]);
    expect(outcome.settled).toBe(true);
    expect(outcome.counts).toMatchObject({
      eventsCommitted: 300,
      lost: 0,
      doubleEffects: 0,
      checkpointRegressions: 0,
      failedHandlerDuplicates: 0,
      effectAndHandOver: 0,
      untrueFailures: 0,
    });
    expect(outcome.counts.deadLettered).toBeGreaterThan(0);
    expect(outcome.counts.delivered + outcome.counts.deadLettered).toBe(300);
    // At the deployed visibility timeout (6 × the worker's 5 s) each crashed batch comes back after 30 s.
  }, 240_000);

  it('poison-events: every bad event reaches the failed handler once, every good one is handled', async () => {
    const outcome = await poisonEvents.run(context);

    expect(outcome.settled).toBe(true);
    expect(outcome.counts).toMatchObject({ lost: 0, doubleEffects: 0, failedHandlerDuplicates: 0 });
    expect(outcome.counts.deadLettered).toBeGreaterThan(5);
    expect(outcome.counts.delivered + outcome.counts.deadLettered).toBe(outcome.counts.eventsCommitted);
  }, 120_000);

  it('ttl-expiry: events deleted by TTL count as expired only inside the range the pipeline reported', async () => {
    const outcome = await ttlExpiry.run(context);

    expect(outcome.settled).toBe(true);
    expect(outcome.counts).toMatchObject({ eventsCommitted: 300, lost: 0, doubleEffects: 0 });
    expect(outcome.counts.reportedExpired).toBeGreaterThan(100);
    expect(outcome.counts.delivered + outcome.counts.reportedExpired).toBe(300);
  }, 120_000);

  it('outputs-over-100: three outputs per event with 100 events per message land once each', async () => {
    const outcome = await outputsOver100.run(context);

    expect(outcome.settled).toBe(true);
    expect(outcome.counts).toMatchObject({ eventsCommitted: 300, delivered: 300, lost: 0, doubleEffects: 0 });
  }, 120_000);
});
