// Sluice sending one event per message, everything else default.
import { runSystemProcess } from '../support/system-process';
import { runSluice } from './sluice-system';

runSystemProcess((config) => runSluice(config, { maxEventsPerMessage: 1 }));
