// Sluice tuned for live latency: a 300 ms settle window (so a 200 ms commit deadline, leaving 100 ms
// of tolerated clock skew between writers and the fetcher) and a live edge read every 200 ms.
import { runSystemProcess } from '../support/system-process';
import { LOW_LATENCY_TIMING, runSluice } from './sluice-system';

runSystemProcess((config) =>
  runSluice(config, { settleWindowMs: LOW_LATENCY_TIMING.settleWindowMs, fetcherPollIntervalMs: 200 }),
);
