import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ValidationError } from '../../lib';
import { deployedFetcherRuntime } from '../../lib/backfill/deployed-runtime';
import { Fetcher } from '../../lib/fetcher/fetcher';
import {
  FETCHER_ENVIRONMENT,
  fetcherFromEnvironment,
  readFetcherEnvironment,
} from '../../lib/fetcher/from-environment';
import { powertoolsFetcherMetrics } from '../../lib/fetcher/powertools-metrics';
import type { FetcherRunSummary, PipelineRunSummary } from '../../lib/fetcher/types';
import { emptyCounts } from '../../lib/fetcher/types';

/** The smallest environment a fetcher runs with, plus `changes` (undefined removes a variable). */
function environment(changes: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return {
    SLUICE_EVENT_LOG_TABLE: 'sluice-events',
    SLUICE_STATE_TABLE: 'sluice-state',
    ...changes,
  };
}

/** The error `act` throws; fails the test if it throws none. */
function thrownBy(act: () => unknown): Error {
  try {
    act();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error, but none was thrown');
}

function pipelineSummary(changes: Partial<PipelineRunSummary> = {}): PipelineRunSummary {
  return {
    pipeline: 'billing',
    outcome: 'finished',
    counts: {
      eventsRead: 120,
      eventsSent: 118,
      eventsSentAhead: 40,
      messagesSent: 12,
      bytesSent: 40_960,
      pages: 3,
      checkpoints: 2,
    },
    lagMs: 2_250,
    position: '20240501120000',
    durationMs: 48_000,
    ...changes,
  };
}

interface EmfDocument {
  _aws: {
    Timestamp: number;
    CloudWatchMetrics: {
      Namespace: string;
      Dimensions: string[][];
      Metrics: { Name: string; Unit: string }[];
    }[];
  };
  [key: string]: unknown;
}

/** Metric name to `{ value, unit, dimensions }` over every EMF document written. */
function metricsIn(documents: EmfDocument[]) {
  const found = new Map<string, { value: unknown; unit: string; dimensions: Record<string, unknown> }>();
  for (const document of documents) {
    const [directive] = document._aws.CloudWatchMetrics;
    for (const metric of directive?.Metrics ?? []) {
      const names = directive?.Dimensions.flat() ?? [];
      found.set(`${document.pipeline}/${metric.Name}`, {
        value: document[metric.Name],
        unit: metric.Unit,
        dimensions: Object.fromEntries(names.map((name) => [name, document[name]])),
      });
    }
  }
  return found;
}

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

/** A pipeline definition as the EventPipeline construct puts it in the environment. */
const BILLING = {
  name: 'billing',
  stream: 'orders',
  queueUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/billing',
};

describe('readFetcherEnvironment', () => {
  it('reads every variable', () => {
    // Prepare
    const env = environment({
      SLUICE_SETTLE_WINDOW_MS: '2000',
      SLUICE_PIPELINES: 'billing, shipping,billing',
      SLUICE_LEASE_DURATION_MS: '90000',
      SLUICE_POLL_INTERVAL_MS: '250',
      SLUICE_PIPELINE_DEFINITIONS: JSON.stringify([BILLING]),
      SLUICE_EVENT_BUS_NAME: 'sluice-bus',
    });

    // Act
    const settings = readFetcherEnvironment(env);

    // Assess
    expect(settings).toEqual({
      eventLogTable: 'sluice-events',
      stateTable: 'sluice-state',
      settleWindowMs: 2_000,
      pipelines: ['billing', 'shipping'],
      leaseDurationMs: 90_000,
      pollIntervalMs: 250,
      pipelineDefinitions: [BILLING],
      eventBusName: 'sluice-bus',
    });
  });

  it('leaves unset optional variables out, so that the defaults apply', () => {
    expect(readFetcherEnvironment(environment())).toEqual({
      eventLogTable: 'sluice-events',
      stateTable: 'sluice-state',
    });
  });

  it.each([
    [
      'SLUICE_EVENT_LOG_TABLE is missing',
      { SLUICE_EVENT_LOG_TABLE: undefined },
      /SLUICE_EVENT_LOG_TABLE must be set .*\(it is not set\)/,
    ],
    [
      'SLUICE_STATE_TABLE is missing',
      { SLUICE_STATE_TABLE: undefined },
      /SLUICE_STATE_TABLE must be set .*\(it is not set\)/,
    ],
    [
      'a table name is malformed',
      { SLUICE_STATE_TABLE: 'state table' },
      /SLUICE_STATE_TABLE must be a DynamoDB table name.*\(given "state table"\)/,
    ],
    [
      'the lease duration is not a number',
      { SLUICE_LEASE_DURATION_MS: 'soon' },
      /SLUICE_LEASE_DURATION_MS must be a whole number of milliseconds from 1000 to 3600000 \(given "soon"\)/,
    ],
    [
      'the lease duration is out of range',
      { SLUICE_LEASE_DURATION_MS: '500' },
      /SLUICE_LEASE_DURATION_MS .* \(given "500"\)/,
    ],
    [
      'the lease duration is not whole',
      { SLUICE_LEASE_DURATION_MS: '1500.5' },
      /SLUICE_LEASE_DURATION_MS .* \(given "1500.5"\)/,
    ],
    [
      'the poll interval is empty',
      { SLUICE_POLL_INTERVAL_MS: '' },
      /SLUICE_POLL_INTERVAL_MS must be a whole number of milliseconds from 10 to 60000 \(given ""\)/,
    ],
    [
      'the settle window is within the commit deadline',
      { SLUICE_SETTLE_WINDOW_MS: '800' },
      /SLUICE_SETTLE_WINDOW_MS must be a whole number of milliseconds from 1001 to 3600000 \(above the commit deadline of 1000 ms\) \(given "800"\)/,
    ],
    [
      'the pipelines list is empty',
      { SLUICE_PIPELINES: '' },
      /SLUICE_PIPELINES must list pipeline names separated by commas.*\(given ""\)/,
    ],
    [
      'the pipelines list has an empty entry',
      { SLUICE_PIPELINES: 'billing,,shipping' },
      /SLUICE_PIPELINES .*\(given "billing,,shipping"\)/,
    ],
    [
      'the pipeline definitions are not JSON',
      { SLUICE_PIPELINE_DEFINITIONS: '[{name:' },
      /SLUICE_PIPELINE_DEFINITIONS must be a JSON array of pipeline definitions: .*JSON/,
    ],
    [
      'the pipeline definitions are not an array',
      { SLUICE_PIPELINE_DEFINITIONS: JSON.stringify(BILLING) },
      /SLUICE_PIPELINE_DEFINITIONS must be a JSON array of pipeline definitions \(given \{/,
    ],
    [
      'a pipeline definition is invalid',
      { SLUICE_PIPELINE_DEFINITIONS: JSON.stringify([BILLING, { ...BILLING, bufferSize: 0 }]) },
      /SLUICE_PIPELINE_DEFINITIONS\[1\]: invalid pipeline definition: bufferSize: .*\(given 0\)/,
    ],
    [
      'the event bus name is malformed',
      { SLUICE_EVENT_BUS_NAME: 'my bus' },
      /SLUICE_EVENT_BUS_NAME must be an EventBridge bus name.*\(given "my bus"\)/,
    ],
    [
      'a pipeline name is malformed',
      { SLUICE_PIPELINES: 'billing,ship ping!' },
      /SLUICE_PIPELINES .*\(given "billing,ship ping!"\)/,
    ],
  ])('fails when %s, naming the variable and the value', (_case, changes, message) => {
    // Act
    const error = thrownBy(() => readFetcherEnvironment(environment(changes)));

    // Assess
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.message).toMatch(message);
  });

  it('fails with every problem at once, and the variables as given', () => {
    // Prepare
    const env = {
      SLUICE_STATE_TABLE: 'x',
      SLUICE_LEASE_DURATION_MS: 'soon',
      SLUICE_POLL_INTERVAL_MS: '5',
      SLUICE_PIPELINES: ' , ',
      SLUICE_SETTLE_WINDOW_MS: '1500',
      UNRELATED: 'left out',
    };

    // Act
    const error = thrownBy(() => readFetcherEnvironment(env)) as ValidationError;

    // Assess
    expect(error).toBeInstanceOf(ValidationError);
    const problems = error.message.replace(/^invalid fetcher environment: /, '').split('; ');
    expect(problems).toHaveLength(5);
    expect(problems).toEqual([
      expect.stringMatching(/^SLUICE_EVENT_LOG_TABLE .*\(it is not set\)$/),
      expect.stringMatching(/^SLUICE_STATE_TABLE .*\(given "x"\)$/),
      expect.stringMatching(/^SLUICE_PIPELINES .*\(given " , "\)$/),
      expect.stringMatching(/^SLUICE_LEASE_DURATION_MS .*\(given "soon"\)$/),
      expect.stringMatching(/^SLUICE_POLL_INTERVAL_MS .*\(given "5"\)$/),
    ]);
    expect(error.value).toEqual({
      SLUICE_EVENT_LOG_TABLE: undefined,
      SLUICE_STATE_TABLE: 'x',
      SLUICE_SETTLE_WINDOW_MS: '1500',
      SLUICE_PIPELINES: ' , ',
      SLUICE_LEASE_DURATION_MS: 'soon',
      SLUICE_POLL_INTERVAL_MS: '5',
      SLUICE_PIPELINE_DEFINITIONS: undefined,
      SLUICE_EVENT_BUS_NAME: undefined,
    });
  });

  it('names every variable it reads in FETCHER_ENVIRONMENT', () => {
    // Prepare
    const read = new Set<string>();
    const env = new Proxy(environment(), {
      get: (target, name) => {
        if (typeof name === 'string') read.add(name);
        return target[name as string];
      },
    });

    // Act
    readFetcherEnvironment(env);

    // Assess
    expect([...read].sort()).toEqual(Object.values(FETCHER_ENVIRONMENT).sort());
  });
});

describe('fetcherFromEnvironment', () => {
  it('builds a Fetcher that reads its pipelines from the state table named in the environment', async () => {
    // Prepare
    const send = vi.spyOn(DynamoDBClient.prototype, 'send').mockResolvedValue({ Items: [] } as never);
    const fetcher = fetcherFromEnvironment(environment({ SLUICE_PIPELINES: 'billing' }), {
      owner: 'fetcher-test',
    });

    // Act
    const summary = await fetcher.run({ budgetMs: 1_000, untilCaughtUp: true });

    // Assess
    expect(fetcher).toBeInstanceOf(Fetcher);
    expect(fetcher.owner).toBe('fetcher-test');
    expect(summary.pipelines).toEqual({});
    const [command] = send.mock.calls[0] ?? [];
    expect(command).toBeInstanceOf(QueryCommand);
    expect((command as QueryCommand).input.TableName).toBe('sluice-state');
  });

  it('fails before building anything when the environment is invalid', () => {
    // Act
    const error = thrownBy(() => fetcherFromEnvironment({ SLUICE_LEASE_DURATION_MS: '0' }));

    // Assess
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.message).toMatch(/SLUICE_EVENT_LOG_TABLE/);
    expect(error.message).toMatch(/SLUICE_STATE_TABLE/);
    expect(error.message).toMatch(/SLUICE_LEASE_DURATION_MS .*\(given "0"\)/);
  });
});

describe('deployedFetcherRuntime', () => {
  const observability = () => ({
    logger: new Logger({ serviceName: 'sluice-fetcher' }),
    metrics: new Metrics({ namespace: 'Sluice', serviceName: 'sluice-fetcher' }),
  });

  it('emits "Backfill Completed" only when the environment names an event bus', () => {
    const withBus = deployedFetcherRuntime(
      environment({ SLUICE_EVENT_BUS_NAME: 'default' }),
      observability(),
    );
    const withoutBus = deployedFetcherRuntime(environment(), observability());
    expect(withBus.completion?.client).toBe(withBus.dynamodb);
    expect(typeof withBus.completion?.putEvents).toBe('function');
    expect(withoutBus.completion).toBeUndefined();
    expect(withoutBus.store.tableName).toBe('sluice-state');
  });

  it('fails at once on a bad environment, naming the variable', () => {
    expect(() =>
      deployedFetcherRuntime(environment({ SLUICE_EVENT_BUS_NAME: 'a bus' }), observability()),
    ).toThrow(/SLUICE_EVENT_BUS_NAME must be an EventBridge bus name.*\(given "a bus"\)/);
  });
});

describe('powertoolsFetcherMetrics', () => {
  /** Powertools writes EMF to the global console only in dev mode, which also turns metrics off unless told. */
  function capturedMetrics() {
    vi.stubEnv('POWERTOOLS_DEV', 'true');
    vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'false');
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const metrics = new Metrics({ namespace: 'Sluice', serviceName: 'sluice-fetcher' });
    const documents = () =>
      log.mock.calls.map(([line]) => JSON.parse(String(line)) as EmfDocument).filter((doc) => '_aws' in doc);
    return { metrics, documents };
  }

  it('publishes every count of a run with its unit, under a pipeline dimension', () => {
    // Prepare
    const { metrics, documents } = capturedMetrics();

    // Act
    powertoolsFetcherMetrics(metrics).recordPipelineRun(pipelineSummary());

    // Assess
    const found = metricsIn(documents());
    const dimensions = { service: 'sluice-fetcher', pipeline: 'billing' };
    expect(Object.fromEntries(found)).toEqual({
      'billing/EventsFetched': { value: 120, unit: 'Count', dimensions },
      'billing/EventsSent': { value: 118, unit: 'Count', dimensions },
      'billing/EventsSentAhead': { value: 40, unit: 'Count', dimensions },
      'billing/MessagesSent': { value: 12, unit: 'Count', dimensions },
      'billing/BytesSent': { value: 40_960, unit: 'Bytes', dimensions },
      'billing/Pages': { value: 3, unit: 'Count', dimensions },
      'billing/Checkpoints': { value: 2, unit: 'Count', dimensions },
      'billing/LagMs': { value: 2_250, unit: 'Milliseconds', dimensions },
      'billing/RunDurationMs': { value: 48_000, unit: 'Milliseconds', dimensions },
      'billing/PipelineRunFailed': { value: 0, unit: 'Count', dimensions },
      'billing/ExpiredRanges': { value: 0, unit: 'Count', dimensions },
    });
    for (const document of documents()) {
      expect(document._aws.CloudWatchMetrics[0]?.Namespace).toBe('Sluice');
      expect(document._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([['service', 'pipeline']]);
    }
  });

  it('counts a failed run, and leaves out the lag when it is unknown', () => {
    // Prepare
    const { metrics, documents } = capturedMetrics();

    // Act
    powertoolsFetcherMetrics(metrics).recordPipelineRun(
      pipelineSummary({
        outcome: 'failed',
        lagMs: undefined,
        counts: emptyCounts(),
        error: new Error('boom'),
      }),
    );

    // Assess
    const found = metricsIn(documents());
    expect(found.get('billing/PipelineRunFailed')?.value).toBe(1);
    expect(found.get('billing/EventsFetched')?.value).toBe(0);
    expect(found.has('billing/LagMs')).toBe(false);
  });

  it('counts a run that read events past the stream retention', () => {
    // Prepare
    const { metrics, documents } = capturedMetrics();

    // Act
    powertoolsFetcherMetrics(metrics).recordPipelineRun(
      pipelineSummary({ expired: { from: '20240501000000', to: '20240501120000' } }),
    );

    // Assess
    expect(metricsIn(documents()).get('billing/ExpiredRanges')?.value).toBe(1);
  });

  it('keeps pipelines apart, and leaves the handler metrics buffered without a pipeline', () => {
    // Prepare
    const { metrics, documents } = capturedMetrics();
    const recorder = powertoolsFetcherMetrics(metrics);
    metrics.addMetric('FetcherRunDurationMs', MetricUnit.Milliseconds, 50_000);

    // Act
    recorder.recordPipelineRun(pipelineSummary({ pipeline: 'billing', durationMs: 10 }));
    recorder.recordPipelineRun(pipelineSummary({ pipeline: 'shipping', durationMs: 20 }));
    const beforeFlush = documents().length;
    metrics.publishStoredMetrics();

    // Assess
    const found = metricsIn(documents());
    expect(found.get('billing/RunDurationMs')?.value).toBe(10);
    expect(found.get('shipping/RunDurationMs')?.value).toBe(20);
    expect(found.get('shipping/RunDurationMs')?.dimensions).toEqual({
      service: 'sluice-fetcher',
      pipeline: 'shipping',
    });
    const handlerDocument = documents().at(-1);
    expect(documents()).toHaveLength(beforeFlush + 1);
    expect(handlerDocument?.FetcherRunDurationMs).toBe(50_000);
    expect(handlerDocument?.pipeline).toBeUndefined();
    expect(handlerDocument?._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([['service']]);
  });
});

describe('the fetcher Lambda handler', () => {
  let handler: (event: unknown, context: unknown) => Promise<unknown>;

  beforeAll(async () => {
    vi.stubEnv('SLUICE_EVENT_LOG_TABLE', 'sluice-events');
    vi.stubEnv('SLUICE_STATE_TABLE', 'sluice-state');
    vi.stubEnv('POWERTOOLS_DEV', 'true');
    vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'SILENT');
    ({ handler } = (await import('../../functions/fetcher')) as unknown as { handler: typeof handler });
    vi.unstubAllEnvs();
  });

  function lambdaContext(remainingMs: number) {
    return {
      functionName: 'sluice-fetcher',
      functionVersion: '$LATEST',
      invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:sluice-fetcher',
      memoryLimitInMB: '512',
      awsRequestId: 'c6af9ac6-7b61-11e6-9a41-93e812345678',
      logGroupName: '/aws/lambda/sluice-fetcher',
      logStreamName: '2024/05/01/[$LATEST]abc',
      callbackWaitsForEmptyEventLoop: true,
      getRemainingTimeInMillis: () => remainingMs,
    };
  }

  it('runs until the Lambda deadline less a margin, and returns a JSON-safe summary', async () => {
    // Prepare
    const cause = new Error('queue is gone');
    const summary: FetcherRunSummary = {
      durationMs: 54_000,
      pipelines: {
        billing: pipelineSummary(),
        shipping: pipelineSummary({ pipeline: 'shipping', outcome: 'failed', error: cause }),
      },
    };
    const run = vi.spyOn(Fetcher.prototype, 'run').mockResolvedValue(summary);
    const before = Date.now();

    // Act
    const result = await handler({ source: 'aws.events' }, lambdaContext(60_000));

    // Assess
    const deadline = run.mock.calls[0]?.[0]?.deadline ?? 0;
    expect(deadline).toBeGreaterThanOrEqual(before + 55_000);
    expect(deadline).toBeLessThanOrEqual(Date.now() + 55_000);
    expect(JSON.parse(JSON.stringify(result))).toEqual(result);
    expect(result).toEqual({
      durationMs: 54_000,
      pipelines: [
        expect.objectContaining({
          pipeline: 'billing',
          outcome: 'finished',
          counts: summary.pipelines.billing?.counts,
        }),
        expect.objectContaining({
          pipeline: 'shipping',
          outcome: 'failed',
          error: { name: 'Error', message: 'queue is gone' },
        }),
      ],
    });
  });
});
