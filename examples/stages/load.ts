import { createStageWorker } from '../../lib';
import { orderStages } from './orders-stages';

/** The Lambda handler of the example's `load` stage (the `entry` of its stage in `EventStages`). */
export const handler = createStageWorker(orderStages(), 'load');
