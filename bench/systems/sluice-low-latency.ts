// Sluice as `latency: 'low'` deploys it: a 300 ms settle window (so a 200 ms commit deadline, leaving
// 100 ms for the uncertainty of the clocks) and a live edge read every 200 ms.
import { LATENCY_PROFILES } from '../../lib/settings/latency';
import { runSystemProcess } from '../support/system-process';
import { runSluice } from './sluice-system';

const { streamTiming, pollIntervalMs } = LATENCY_PROFILES.low;

runSystemProcess((config) =>
  runSluice(config, {
    ...(streamTiming ? { settleWindowMs: streamTiming.settleWindowMs } : {}),
    ...(pollIntervalMs === undefined ? {} : { fetcherPollIntervalMs: pollIntervalMs }),
  }),
);
