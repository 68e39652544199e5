/**
 * Every environment variable Sluice reads, by what it sets. `infra/` writes them into the functions'
 * environment, `lib/` reads them, and the local runtime sets them for the modules it loads: all three
 * take the names from here, so a name cannot differ between the writer and the reader. The AWS SDK's
 * own variables (`AWS_REGION`, `AWS_ENDPOINT_URL_DYNAMODB`, `AWS_ENDPOINT_URL_SQS`, credentials) are
 * not Sluice's and are not listed. `docs/settings.md` has each one's default and limits.
 *
 * @example
 * ```ts
 * workerFunction.addEnvironment(SLUICE_VARIABLES.maxRedeliveryCount, String(maxRedeliveryCount));
 * ```
 */
export const SLUICE_VARIABLES = {
  /** The event log's DynamoDB table. */
  eventLogTable: 'SLUICE_EVENT_LOG_TABLE',
  /** The state table (pipelines, checkpoints, leases, runs, markers, failures). */
  stateTable: 'SLUICE_STATE_TABLE',
  /** The pipeline a worker or failed-event function serves. */
  pipeline: 'SLUICE_PIPELINE',
  /** The pipelines a fetcher works, separated by commas. */
  pipelines: 'SLUICE_PIPELINES',
  /** A JSON array of pipeline definitions the fetcher registers. */
  pipelineDefinitions: 'SLUICE_PIPELINE_DEFINITIONS',
  /** The pipeline's queue. */
  queueUrl: 'SLUICE_QUEUE_URL',
  /** The pipeline's dead-letter queue. */
  deadLetterQueueUrl: 'SLUICE_DEAD_LETTER_QUEUE_URL',
  /** Attempts an event gets before it goes to the failed handler. */
  maxRedeliveryCount: 'SLUICE_MAX_REDELIVERY_COUNT',
  /** The CloudWatch namespace the worker publishes its batch counts under. */
  metricsNamespace: 'SLUICE_METRICS_NAMESPACE',
  /** How far behind now the fetcher reads, in milliseconds. */
  settleWindowMs: 'SLUICE_SETTLE_WINDOW_MS',
  /** How long a fetcher's pipeline lease lasts without renewal, in milliseconds. */
  leaseDurationMs: 'SLUICE_LEASE_DURATION_MS',
  /** How long the fetcher waits between reads of the live edge, in milliseconds. */
  pollIntervalMs: 'SLUICE_POLL_INTERVAL_MS',
  /** The EventBridge bus "Backfill Completed" events go to. */
  eventBusName: 'SLUICE_EVENT_BUS_NAME',
  /** The waker's routes: a JSON array of the streams, pipelines and fetchers it wakes. */
  wakeRoutes: 'SLUICE_WAKE_ROUTES',
  /** The ingest's source name. */
  ingestSource: 'SLUICE_INGEST_SOURCE',
  /** The ingest's first page. */
  ingestUrl: 'SLUICE_INGEST_URL',
  /** The stream the ingest commits to. */
  ingestStream: 'SLUICE_INGEST_STREAM',
  /** The event type the ingest commits as. */
  ingestEventType: 'SLUICE_INGEST_EVENT_TYPE',
  /** The query parameter that carries the ingest's cursor. */
  ingestCursorParam: 'SLUICE_INGEST_CURSOR_PARAM',
  /** The field of a page that holds its records. */
  ingestItemsField: 'SLUICE_INGEST_ITEMS_FIELD',
  /** The field of a page that holds the next cursor. */
  ingestNextCursorField: 'SLUICE_INGEST_NEXT_CURSOR_FIELD',
  /** The field of a record that keys it. */
  ingestKeyField: 'SLUICE_INGEST_KEY_FIELD',
  /** The ingest's retry preset. */
  ingestRetryPreset: 'SLUICE_INGEST_RETRY_PRESET',
  /** How long the ingest source's lock lasts between cursor saves, in milliseconds. */
  ingestLeaseDurationMs: 'SLUICE_INGEST_LEASE_DURATION_MS',
  /** Where the local runtime keeps DynamoDB Local (a development setting). */
  cacheDir: 'SLUICE_CACHE_DIR',
  /** The port the local SQS emulator's process listens on (set by the local runtime for its child). */
  sqsPort: 'SLUICE_SQS_PORT',
} as const;

/** The name of one of the {@link SLUICE_VARIABLES}. */
export type SluiceVariable = (typeof SLUICE_VARIABLES)[keyof typeof SLUICE_VARIABLES];

const v = SLUICE_VARIABLES;

/**
 * The variables a worker made with `createWorker` reads when its options leave them out. The
 * `EventPipeline` construct and the local runtime set them.
 *
 * @example
 * ```ts
 * const environment = { [WORKER_ENVIRONMENT.pipeline]: 'billing', [WORKER_ENVIRONMENT.stateTable]: 'sluice-state' };
 * ```
 */
export const WORKER_ENVIRONMENT = {
  /** Required unless the `pipeline` option is given. */
  pipeline: v.pipeline,
  /** Required unless the `stateTable` option is given: the table of idempotency markers. */
  stateTable: v.stateTable,
  /** @default from the records' event source ARN */
  queueUrl: v.queueUrl,
  /** Required unless the `deadLetterQueueUrl` option is given. */
  deadLetterQueueUrl: v.deadLetterQueueUrl,
  /** @default 5 (`DEFAULT_MAX_REDELIVERY_COUNT`) */
  maxRedeliveryCount: v.maxRedeliveryCount,
  /** @default none: batch counts go to the `metrics` option's instance, if any */
  metricsNamespace: v.metricsNamespace,
  /** @default none: a worker without an `eventLog` option cannot commit outputs */
  eventLogTable: v.eventLogTable,
} as const;

/**
 * The environment variables `fetcherFromEnvironment` reads, by what they set. The CDK construct
 * that deploys the fetcher sets them; nothing else is read from the environment except the AWS SDK's
 * own settings (`AWS_REGION`, `AWS_ENDPOINT_URL_DYNAMODB`, `AWS_ENDPOINT_URL_SQS`, credentials).
 *
 * @example
 * ```ts
 * fetcherFunction.addEnvironment(FETCHER_ENVIRONMENT.eventLogTable, eventLog.table.tableName);
 * ```
 */
export const FETCHER_ENVIRONMENT = {
  /** Required: the event log's DynamoDB table. */
  eventLogTable: v.eventLogTable,
  /** Required: the state table (pipelines, checkpoints, leases, runs). */
  stateTable: v.stateTable,
  /** How far behind now the fetcher reads, in milliseconds. @default 1500 */
  settleWindowMs: v.settleWindowMs,
  /** Pipeline names separated by commas, to work only those. @default every registered pipeline */
  pipelines: v.pipelines,
  /** How long a pipeline's lease lasts without renewal, in milliseconds. @default 60000 */
  leaseDurationMs: v.leaseDurationMs,
  /** How long to wait between reads of the live edge, in milliseconds. @default 1000 */
  pollIntervalMs: v.pollIntervalMs,
  /**
   * A JSON array of pipeline definitions to register before the first run (a registered pipeline
   * keeps its checkpoint). @default none
   */
  pipelineDefinitions: v.pipelineDefinitions,
  /** The EventBridge bus "Backfill Completed" events go to. @default none: they are not emitted */
  eventBusName: v.eventBusName,
} as const;

/**
 * The environment variables the waker function reads. `EventLog.wakeOnCommit` sets them.
 *
 * @example
 * ```ts
 * waker.addEnvironment(WAKER_ENVIRONMENT.eventLogTable, eventLog.table.tableName);
 * ```
 */
export const WAKER_ENVIRONMENT = {
  /** Required: a JSON array of the fetchers to wake, by stream (see `parseWakeRoutes`). */
  wakeRoutes: v.wakeRoutes,
  /** The event log's table, whose streams' timing tells late commits. @default none: none is checked */
  eventLogTable: v.eventLogTable,
} as const;

/**
 * The environment variables `createFailedEventFunction` reads when its options leave them out.
 * The CDK construct that deploys the function sets them.
 *
 * @example
 * ```ts
 * failedFunction.addEnvironment(FAILED_EVENT_ENVIRONMENT.pipeline, 'billing');
 * ```
 */
export const FAILED_EVENT_ENVIRONMENT = {
  /** The pipeline whose dead-letter queue the function consumes, unless `pipeline` is given. */
  pipeline: v.pipeline,
  /** The state table, for claims and failure records, unless `store` is given. */
  stateTable: v.stateTable,
  /** The event log `context.commit` commits to, unless `eventLog` is given. @default none */
  eventLogTable: v.eventLogTable,
} as const;

/**
 * The environment variables the ingest Lambda reads, by what they set. The `IngestFunction` CDK
 * construct sets them; the AWS SDK's own variables (`AWS_REGION`, endpoints, credentials) apply too.
 *
 * @example
 * ```ts
 * ingestFunction.addEnvironment(INGEST_ENVIRONMENT.url, 'https://crm.example.com/customers?limit=100');
 * ```
 */
export const INGEST_ENVIRONMENT = {
  /** Required: the event log's DynamoDB table. */
  eventLogTable: v.eventLogTable,
  /** Required: the state table (the source's lock, cursor, runs and content hashes). */
  stateTable: v.stateTable,
  /** Required: the source's name, which keys its lock, cursor and hashes. */
  source: v.ingestSource,
  /** Required: the first page's URL (http or https). */
  url: v.ingestUrl,
  /** Required: the stream records are committed to. */
  stream: v.ingestStream,
  /** Required: the event type records are committed as. */
  eventType: v.ingestEventType,
  /** @default 'cursor' */
  cursorParam: v.ingestCursorParam,
  /** @default 'items' */
  itemsField: v.ingestItemsField,
  /** @default 'nextCursor' */
  nextCursorField: v.ingestNextCursorField,
  /** @default 'id' */
  keyField: v.ingestKeyField,
  /** A `RETRY_PRESETS` name. @default 'standard' */
  retryPreset: v.ingestRetryPreset,
  /** How long the source's lock lasts between cursor saves, in milliseconds. @default 300000 */
  leaseDurationMs: v.ingestLeaseDurationMs,
} as const;
