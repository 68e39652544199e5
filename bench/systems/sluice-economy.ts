// Sluice as `latency: 'economy'` deploys it: the schedule alone, each fetcher run tailing the log until
// its timeout, with no wake-ups: the schedule-only mode that waking on commit replaced as the default.
import { runSystemProcess } from '../support/system-process';
import { runSluice } from './sluice-system';

runSystemProcess((config) => runSluice(config, { latency: 'economy' }));
