import type { FaultCounts } from '../lib/testing/faults';

/**
 * The fault counts of every injector added up: requests, faults injected, and both broken down by
 * kind and by operation.
 *
 * @example
 * ```ts
 * const faults = totalFaultCounts(injectors.map((injector) => injector.counts()));
 * ```
 */
export function totalFaultCounts(counts: readonly FaultCounts[]): FaultCounts {
  return {
    requests: counts.reduce((sum, each) => sum + each.requests, 0),
    injected: counts.reduce((sum, each) => sum + each.injected, 0),
    byKind: {
      throttle: counts.reduce((sum, each) => sum + each.byKind.throttle, 0),
      'server-error': counts.reduce((sum, each) => sum + each.byKind['server-error'], 0),
      timeout: counts.reduce((sum, each) => sum + each.byKind.timeout, 0),
    },
    byOperation: counts.reduce<Record<string, number>>((sum, each) => {
      for (const [operation, count] of Object.entries(each.byOperation))
        sum[operation] = (sum[operation] ?? 0) + count;
      return sum;
    }, {}),
  };
}
