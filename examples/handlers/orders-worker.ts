// A pipeline's worker as a user writes it: the file the EventPipeline construct bundles for Lambda.
// Attempts, queues and tables come from the SLUICE_* variables the construct sets.
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
// Any Standard Schema validator works; zod's mini build keeps the Lambda bundle small.
import * as z from 'zod/mini';
import { createWorker, NonRetryableError } from '../../lib';

const orderPlaced = z.object({
  orderId: z.string().check(z.minLength(1)),
  amount: z.number().check(z.positive()),
});

const logger = new Logger({ serviceName: 'orders-worker' });
const metrics = new Metrics({ namespace: 'Sluice', serviceName: 'orders-worker' });

export const handler = createWorker<z.infer<typeof orderPlaced>>({
  schemas: { 'order.placed': orderPlaced },
  concurrency: 20,
  logger,
  metrics,
  handle: async (event) => {
    if (event.data.amount > 10_000)
      throw new NonRetryableError(`order ${event.data.orderId} needs a manual review`);
    logger.info('order placed', { orderId: event.data.orderId, attempt: event.attempt });
    // Committed atomically with this event's acknowledgement.
    return { stream: 'invoices', type: 'invoice.requested', data: { orderId: event.data.orderId } };
  },
});
