// Sluice with every default: events packed into messages just under 64 KB.
import { runSystemProcess } from '../support/system-process';
import { runSluice } from './sluice-system';

runSystemProcess((config) => runSluice(config));
