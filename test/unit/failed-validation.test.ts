import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../lib';
import { handleDeadLetters } from '../../lib/failed/dlq-consumer';
import { createFailedEventFunction, FAILED_EVENT_ENVIRONMENT } from '../../lib/failed/failed-event-function';
import { FailureStore } from '../../lib/failed/failure-store';
import { redriveDeadLetters } from '../../lib/failed/redrive';

// Clients that are built but never used: every case here fails before a request is made.
const dynamodb = new DynamoDBClient({ region: 'us-east-1', endpoint: 'http://127.0.0.1:9' });
const sqs = new SQSClient({ region: 'us-east-1', endpoint: 'http://127.0.0.1:9' });
const store = new FailureStore({ tableName: 'sluice-state', client: dynamodb });
const failedHandler = async () => {};

/** The error a promise rejects with. */
async function rejectionOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

function errorOf(action: () => unknown): Error {
  try {
    action();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error');
}

describe('FailureStore options', () => {
  it('fails when the table name and retention are bad, naming both', () => {
    const error = errorOf(() => new FailureStore({ tableName: 'no', retentionSeconds: 3_600 }));
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.message).toMatch(/tableName must be 3 to 255 letters.*\(given "no"\)/);
    expect(error.message).toMatch(/retentionSeconds must be a whole number from 1209600 .* \(given 3600\)/);
  });

  it('fails when a listing range, limit or claim duration is bad', async () => {
    await expect(store.listFailures('billing', { from: 10, to: 5 })).rejects.toThrow(
      /from must not be after to/,
    );
    await expect(store.listFailures('billing', { from: 0, to: 500 * 86_400_000 })).rejects.toThrow(
      /at most 400 days apart \(given 500 days\)/,
    );
    await expect(store.listFailures('billing', { limit: 0 })).rejects.toThrow(
      /limit must be a whole number from 1 to 1000 \(given 0\)/,
    );
    await expect(store.listFailures('bill#ing')).rejects.toThrow(/pipeline name "bill#ing" is invalid/);
    await expect(store.claim('billing', '0190d4e2-6e07-7000-8000-000000000000', 10)).rejects.toThrow(
      /claim duration must be a whole number of milliseconds from 1000 to 3600000 \(given 10\)/,
    );
  });
});

describe('handleDeadLetters options', () => {
  it('fails when options are bad, naming every one, before touching the store', async () => {
    const result = handleDeadLetters([{ messageId: 'm-1', body: '{}' }, { messageId: 7 } as never], {
      pipeline: 'no/slash',
      store,
      failedHandler: 'log it' as never,
      claimDurationMs: 500,
      retries: 3,
    } as never);
    const error = await rejectionOf(result);
    expect(error).toBeInstanceOf(ValidationError);
    const { message } = error;
    expect(message).toMatch(/unknown option\(s\) retries/);
    expect(message).toMatch(/pipeline name "no\/slash" is invalid/);
    expect(message).toMatch(/failedHandler must be a function \(given "log it"\)/);
    expect(message).toMatch(/claimDurationMs must be .* \(given 500\)/);
    expect(message).toMatch(/records\[1\] must have a string messageId and body/);
  });
});

describe('redriveDeadLetters options', () => {
  it('fails when options are bad, naming every one, before reading the queue', async () => {
    const result = redriveDeadLetters({
      sqs,
      deadLetterQueueUrl: 'http://localhost/q',
      queueUrl: 'http://localhost/q',
      maxMessagesPerSecond: 0,
      maxMessages: 1.5,
      visibilityTimeoutSeconds: 0,
      filter: { types: [] },
    });
    const { message } = await rejectionOf(result);
    expect(message).toMatch(/queueUrl and deadLetterQueueUrl must be different queues/);
    expect(message).toMatch(/maxMessagesPerSecond must be a number above 0, at most 3000 \(given 0\)/);
    expect(message).toMatch(/maxMessages must be a whole number 1 or more \(given 1.5\)/);
    expect(message).toMatch(/visibilityTimeoutSeconds must be a whole number from 1 to 43200 \(given 0\)/);
    expect(message).toMatch(/filter.types must list at least one event type/);
  });
});

describe('createFailedEventFunction', () => {
  it('reads the pipeline and the state table from the environment', () => {
    const handler = createFailedEventFunction({
      failedHandler,
      env: {
        [FAILED_EVENT_ENVIRONMENT.pipeline]: 'billing',
        [FAILED_EVENT_ENVIRONMENT.stateTable]: 'sluice-state',
      },
    });
    expect(typeof handler).toBe('function');
  });

  it('needs no environment when the pipeline and store are given', () => {
    expect(typeof createFailedEventFunction({ failedHandler, pipeline: 'billing', store, env: {} })).toBe(
      'function',
    );
  });

  it('fails when the environment is missing, naming every variable', () => {
    const error = errorOf(() => createFailedEventFunction({ failedHandler, env: {} }));
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.message).toMatch(/SLUICE_PIPELINE must be set to the pipeline's name/);
    expect(error.message).toMatch(/SLUICE_STATE_TABLE must be set to the name of the state table/);
  });

  it('fails when values are bad, naming each with the value given', () => {
    const error = errorOf(() =>
      createFailedEventFunction({
        failedHandler: undefined as never,
        env: { SLUICE_PIPELINE: 'billing#1', SLUICE_STATE_TABLE: 'x' },
      }),
    );
    expect(error.message).toMatch(/failedHandler must be a function \(given undefined\)/);
    expect(error.message).toMatch(/SLUICE_PIPELINE "billing#1" is not a pipeline name/);
    expect(error.message).toMatch(/SLUICE_STATE_TABLE must be a DynamoDB table name.*\(given "x"\)/);
  });

  it('fails when the store or the event log given is of another kind, naming each', () => {
    const error = errorOf(() =>
      createFailedEventFunction({
        failedHandler,
        pipeline: 'billing',
        store: { tableName: 'sluice-state' } as never,
        eventLog: 'events' as never,
        env: {},
      }),
    );
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.message).toMatch(/store must be a FailureStore \(given \{/);
    expect(error.message).toMatch(/eventLog must be an EventLog \(given "events"\)/);
    expect(error.message).not.toMatch(/SLUICE_STATE_TABLE|SLUICE_EVENT_LOG_TABLE/);
  });

  it('reads the event log table when it is set, and fails naming it when it is bad', () => {
    const env = {
      [FAILED_EVENT_ENVIRONMENT.pipeline]: 'billing',
      [FAILED_EVENT_ENVIRONMENT.stateTable]: 'sluice-state',
    };
    expect(
      typeof createFailedEventFunction({
        failedHandler,
        env: { ...env, [FAILED_EVENT_ENVIRONMENT.eventLogTable]: 'events' },
      }),
    ).toBe('function');
    const error = errorOf(() =>
      createFailedEventFunction({
        failedHandler,
        env: { ...env, [FAILED_EVENT_ENVIRONMENT.eventLogTable]: 'x' },
      }),
    );
    expect(error.message).toMatch(
      new RegExp(`${FAILED_EVENT_ENVIRONMENT.eventLogTable} must be a DynamoDB table name.*\\(given "x"\\)`),
    );
    expect(error.message).not.toMatch(/must be set/);
  });
});
