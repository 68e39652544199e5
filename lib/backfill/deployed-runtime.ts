import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { FetcherOptions } from '../fetcher/fetcher';
import { type FetcherRuntime, fetcherRuntimeFromEnvironment } from '../fetcher/from-environment';
import { powertoolsFetcherMetrics } from '../fetcher/powertools-metrics';
import type { EmitBackfillCompletedOptions } from './completion';
import { eventBridgePutEvents } from './eventbridge';

/** What the deployed fetcher and backfill functions run on. */
export interface DeployedFetcherRuntime extends FetcherRuntime {
  /** How "Backfill Completed" is emitted: set when `SLUICE_EVENT_BUS_NAME` is. */
  readonly completion?: EmitBackfillCompletedOptions;
}

/**
 * The fetcher, its store and the "Backfill Completed" emitter of a deployed fetcher or backfill
 * function, from its `SLUICE_*` environment, with Powertools logging and per-pipeline metrics. Call
 * it at module scope: a bad variable fails the cold start, naming every problem.
 *
 * @example
 * ```ts
 * const { fetcher, store, completion } = deployedFetcherRuntime(process.env, { logger, metrics });
 * ```
 */
export function deployedFetcherRuntime(
  env: Readonly<Record<string, string | undefined>>,
  observability: { readonly logger: Logger; readonly metrics: Metrics },
  extra: Pick<FetcherOptions, 'handOff'> = {},
): DeployedFetcherRuntime {
  const runtime = fetcherRuntimeFromEnvironment(env, {
    logger: observability.logger,
    metrics: powertoolsFetcherMetrics(observability.metrics),
    ...extra,
  });
  const { eventBusName } = runtime.settings;
  if (eventBusName === undefined) return runtime;
  return {
    ...runtime,
    completion: {
      client: runtime.dynamodb,
      putEvents: eventBridgePutEvents(new EventBridgeClient({}), eventBusName),
    },
  };
}
