import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';

/** An SQS event as Lambda delivers it, as far as this worker reads it. */
export interface PowertoolsSqsEvent {
  readonly Records: readonly { readonly messageId: string; readonly body: string }[];
}

/** The Lambda context, as far as Powertools reads it. */
export interface PowertoolsContext {
  getRemainingTimeInMillis(): number;
}

/**
 * The usual Powertools worker: one event per SQS message, `BatchProcessor` with
 * `processPartialResponse` for partial batch failures, and each event made idempotent by its id with
 * Powertools Idempotency on DynamoDB (an in-progress record written before the handler runs, then
 * completed after it).
 *
 * @example
 * ```ts
 * export const handler = createPowertoolsWorker({ tableName: 'idempotency', handle: async (event) => save(event) });
 * ```
 */
export function createPowertoolsWorker<TEvent extends { id: string }>(options: {
  readonly tableName: string;
  readonly client?: DynamoDBClient;
  readonly handle: (event: TEvent) => Promise<void> | void;
}): (event: PowertoolsSqsEvent, context: PowertoolsContext) => Promise<unknown> {
  const persistenceStore = new DynamoDBPersistenceLayer({
    tableName: options.tableName,
    ...(options.client ? { awsSdkV3Client: options.client } : {}),
  });
  const config = new IdempotencyConfig({ eventKeyJmesPath: 'id' });
  const handleOnce = makeIdempotent(
    async (event: TEvent) => {
      await options.handle(event);
    },
    { persistenceStore, config },
  );
  const processor = new BatchProcessor(EventType.SQS);
  const recordHandler = async (record: { body: string }) => handleOnce(JSON.parse(record.body) as TEvent);
  return async (event, context) => {
    config.registerLambdaContext(context as never);
    return processPartialResponse(event as never, recordHandler, processor, { context: context as never });
  };
}
