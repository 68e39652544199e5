// Sluice as `latency: 'low'` deploys it: a 300 ms settle window (so a 200 ms commit deadline, leaving
// 100 ms for the uncertainty of the clocks) and a live edge read every 200 ms.
import { runSystemProcess } from '../support/system-process';
import { runSluice } from './sluice-system';

runSystemProcess((config) => runSluice(config, { latency: 'low' }));
