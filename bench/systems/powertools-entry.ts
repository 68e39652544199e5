// The Powertools worker as a Lambda entry point, bundled only to compare its size with Sluice's worker.
import { createPowertoolsWorker } from './powertools-worker';

export const handler = createPowertoolsWorker<{ id: string }>({
  tableName: process.env.IDEMPOTENCY_TABLE ?? 'idempotency',
  handle: () => undefined,
});
