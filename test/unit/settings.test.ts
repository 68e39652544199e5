import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../lib/errors';
import { readFetcherEnvironment } from '../../lib/fetcher/from-environment';
import {
  DEFAULT_MAX_REDELIVERY_COUNT,
  MAX_FIFO_BATCH_SIZE,
  MAX_REDELIVERY_COUNT_RANGE,
  maxReceiveCountFor,
  milliseconds,
  readVariable,
  SLUICE_VARIABLES,
  SQS_MAX_RECEIVE_COUNT_LIMIT,
  tableName,
  VISIBILITY_TIMEOUT_FACTOR,
  visibilityTimeoutSecondsFor,
  wholeNumber,
} from '../../lib/settings';
import { createWorker } from '../../lib/worker/create-worker';

const ROOT = join(import.meta.dirname, '../..');

/** Every `SLUICE_*` name written in the TypeScript and JavaScript sources of `folders`. */
function sluiceNamesIn(folders: readonly string[]): Map<string, string> {
  const found = new Map<string, string>();
  const visit = (path: string) => {
    if (statSync(path).isDirectory()) {
      for (const entry of readdirSync(path)) if (entry !== 'node_modules') visit(join(path, entry));
      return;
    }
    if (!/\.(ts|mts|js|mjs)$/.test(path)) return;
    for (const [name] of readFileSync(path, 'utf8').matchAll(/\bSLUICE_[A-Z0-9_]*[A-Z0-9]\b/g))
      if (!found.has(name)) found.set(name, path);
  };
  for (const folder of folders) visit(join(ROOT, folder));
  return found;
}

describe('the settings module', () => {
  it('names every SLUICE_ variable the code reads or sets', () => {
    // Prepare: SLUICE_RUNTIME (infra's Lambda runtime) and SLUICE_VARIABLES are constants, not variables.
    const declared = new Set<string>(Object.values(SLUICE_VARIABLES));

    // Act
    const used = sluiceNamesIn(['lib', 'infra', 'functions', 'cli', 'bench', 'chaos']);
    used.delete('SLUICE_RUNTIME');
    used.delete('SLUICE_VARIABLES');

    // Assess
    const undeclared = [...used]
      .filter(([name]) => !declared.has(name))
      .map(([name, file]) => `${name} in ${file}`);
    expect(undeclared).toEqual([]);
    expect([...declared].filter((name) => !used.has(name))).toEqual([]);
  });

  it('keeps maxReceiveCount within SQS limit of 1,000 for every accepted count and FIFO batch', () => {
    // Act
    const largest = maxReceiveCountFor(MAX_REDELIVERY_COUNT_RANGE.max, MAX_FIFO_BATCH_SIZE);

    // Assess: 99 is the largest count that fits; 100 would need 1,005 receives.
    expect(MAX_REDELIVERY_COUNT_RANGE).toEqual({ min: 1, max: 99 });
    expect(largest).toBe(995);
    expect(largest).toBeLessThanOrEqual(SQS_MAX_RECEIVE_COUNT_LIMIT);
    expect(MAX_FIFO_BATCH_SIZE * (MAX_REDELIVERY_COUNT_RANGE.max + 1) + 5).toBeGreaterThan(
      SQS_MAX_RECEIVE_COUNT_LIMIT,
    );
    expect([
      maxReceiveCountFor(DEFAULT_MAX_REDELIVERY_COUNT),
      maxReceiveCountFor(5, 10),
      maxReceiveCountFor(1),
    ]).toEqual([15, 55, 7]);
  });

  it('fails when maxReceiveCountFor is given a count or batch it cannot serve, naming each', () => {
    expect(() => maxReceiveCountFor(100, 11)).toThrow(
      'no maxReceiveCount for these settings: maxRedeliveryCount must be a whole number from 1 to 99 (given 100); fifoBatchSize must be a whole number from 1 to 10 (given 11)',
    );
    expect(() => maxReceiveCountFor(0)).toThrow(ValidationError);
  });

  it('gives the visibility timeout as 6 times the timeout, at most 12 hours', () => {
    expect(VISIBILITY_TIMEOUT_FACTOR).toBe(6);
    expect([
      visibilityTimeoutSecondsFor(30),
      visibilityTimeoutSecondsFor(900),
      visibilityTimeoutSecondsFor(10_000),
    ]).toEqual([180, 5_400, 43_200]);
  });
});

describe('reading a variable', () => {
  it.each([
    [
      'a word for a number',
      'SLUICE_MAX_REDELIVERY_COUNT',
      'five',
      wholeNumber(MAX_REDELIVERY_COUNT_RANGE),
      'SLUICE_MAX_REDELIVERY_COUNT must be a whole number from 1 to 99 (given "five")',
    ],
    [
      'a number over the range',
      'SLUICE_MAX_REDELIVERY_COUNT',
      '100',
      wholeNumber(MAX_REDELIVERY_COUNT_RANGE),
      'SLUICE_MAX_REDELIVERY_COUNT must be a whole number from 1 to 99 (given "100")',
    ],
    [
      'a negative number',
      'SLUICE_LEASE_DURATION_MS',
      '-5',
      milliseconds({ min: 1_000, max: 3_600_000 }),
      'SLUICE_LEASE_DURATION_MS must be a whole number of milliseconds from 1000 to 3600000 (given "-5")',
    ],
    [
      'a table name with a space',
      'SLUICE_STATE_TABLE',
      'my table',
      tableName(),
      `SLUICE_STATE_TABLE must be a DynamoDB table name: 3 to 255 letters, digits, '_', '-' or '.' (given "my table")`,
    ],
  ])('fails on %s, naming the variable and the value', (_, name, value, rule, message) => {
    // Prepare
    const problems: string[] = [];

    // Act
    const read = readVariable({ [name]: value }, name, rule as never, problems);

    // Assess
    expect(read).toBeUndefined();
    expect(problems).toEqual([message]);
  });

  it('reads a good value, and an unset one as undefined unless it is required', () => {
    const problems: string[] = [];
    const rule = wholeNumber(MAX_REDELIVERY_COUNT_RANGE);
    expect(
      readVariable({ SLUICE_MAX_REDELIVERY_COUNT: '7' }, 'SLUICE_MAX_REDELIVERY_COUNT', rule, problems),
    ).toBe(7);
    expect(readVariable({}, 'SLUICE_MAX_REDELIVERY_COUNT', rule, problems)).toBeUndefined();
    expect(problems).toEqual([]);
    expect(readVariable({}, 'SLUICE_STATE_TABLE', tableName(), problems, { required: true })).toBeUndefined();
    expect(problems).toEqual([
      `SLUICE_STATE_TABLE must be set to a DynamoDB table name: 3 to 255 letters, digits, '_', '-' or '.' (it is not set)`,
    ]);
  });

  it('fails a worker whose environment gives a count over the range, naming the variable and value', () => {
    const env = {
      SLUICE_PIPELINE: 'billing',
      SLUICE_STATE_TABLE: 'sluice-state',
      SLUICE_DEAD_LETTER_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/billing-dlq',
      SLUICE_MAX_REDELIVERY_COUNT: '100',
    };
    expect(() => createWorker({ handle: async () => {} }, env)).toThrow(
      /invalid worker options: SLUICE_MAX_REDELIVERY_COUNT must be a whole number from 1 to 99 \(given "100"\)/,
    );
  });

  it('fails a fetcher environment naming every bad variable with its value', () => {
    expect(() =>
      readFetcherEnvironment({
        SLUICE_EVENT_LOG_TABLE: 'events',
        SLUICE_STATE_TABLE: 'state',
        SLUICE_POLL_INTERVAL_MS: '1.5',
        SLUICE_EVENT_BUS_NAME: 'bus with spaces',
      }),
    ).toThrow(
      `invalid fetcher environment: SLUICE_POLL_INTERVAL_MS must be a whole number of milliseconds from 10 to 60000 (given "1.5"); SLUICE_EVENT_BUS_NAME must be an EventBridge bus name: 1 to 256 letters, digits, '.', '-', '_' or '/' (given "bus with spaces")`,
    );
  });
});
