import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../lib/errors';
import { redriveDeadLetters } from '../../lib/failed/redrive';
import { redriveFailures } from '../../lib/failed/redrive-failures';

const sqs = { send: async () => ({}) } as never;
const store = { listFailures: async () => ({ failures: [] }) } as never;
const queueUrl = 'http://localhost:4566/000000000000/billing';
const deadLetterQueueUrl = 'http://localhost:4566/000000000000/billing-dlq';

async function problemsOf(run: () => Promise<unknown>): Promise<string> {
  const error = await run().then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(ValidationError);
  return (error as Error).message;
}

describe('the options of a redrive', () => {
  it('redriveDeadLetters names every problem in order: unknown keys, queues, dryRun, rate, sleep and clock', async () => {
    const message = await problemsOf(() =>
      redriveDeadLetters({
        sqs,
        queueUrl,
        deadLetterQueueUrl: queueUrl,
        dryRun: 'yes',
        maxMessagesPerSecond: 0,
        sleep: 1,
        clock: 'now',
        colour: 'blue',
      } as never),
    );
    expect(message).toBe(
      'invalid redrive options: unknown option(s) colour; known: ' +
        message.split('known: ')[1]?.split(';')[0] +
        `; queueUrl and deadLetterQueueUrl must be different queues (both given "${queueUrl}")` +
        '; dryRun must be true or false (given "yes")' +
        '; maxMessagesPerSecond must be a number above 0, at most 3000 (given 0)' +
        '; sleep must be a function (given 1); clock must be a function (given "now")',
    );
  });

  it('redriveFailures names every problem in order: unknown keys, store, whole numbers, sleep and clock', async () => {
    const message = await problemsOf(() =>
      redriveFailures({
        sqs,
        store: {},
        pipeline: 'billing',
        queueUrl,
        maxEvents: 0,
        clock: 1,
        extra: 1,
      } as never),
    );
    expect(message).toMatch(/^invalid redrive options: unknown option\(s\) extra; known: /);
    expect(message).toMatch(
      /; store must be a FailureStore \(given .*\); maxEvents must be a whole number 1 or more \(given 0\); clock must be a function \(given 1\)$/,
    );
  });

  it('refuses options that are not an object', async () => {
    expect(await problemsOf(() => redriveFailures(null as never))).toBe(
      'redrive options must be an object (given null)',
    );
    expect(
      await problemsOf(() => redriveDeadLetters({ sqs, queueUrl, deadLetterQueueUrl, store } as never)),
    ).toMatch(/unknown option\(s\) store/);
  });
});
