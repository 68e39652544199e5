import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ValidationError } from '../errors';
import { EventLog } from '../event-log/event-log';
import { NAME_PATTERN, NAME_RULE } from '../event-log/names';
import { RETRY_PRESETS, type RetryPresetName } from '../retry/presets';
import {
  type Environment,
  matching,
  milliseconds,
  readVariable,
  satisfying,
  tableName,
  type VariableRule,
} from '../settings/read-variable';
import { INGEST_ENVIRONMENT } from '../settings/variables';
import { RESOURCE_NAME_PATTERN, RESOURCE_NAME_RULE, SYNC_LEASE_RANGE } from '../sync/constants';
import { httpJsonSource } from './http-json-source';
import { type IngestResult, runIngest } from './run-ingest';

/** The variables the ingest Lambda reads: see the settings module. */
export { INGEST_ENVIRONMENT };

/** The ingest's settings as read from the environment. */
export interface IngestEnvironment {
  readonly eventLogTable: string;
  readonly stateTable: string;
  readonly source: string;
  readonly url: string;
  readonly stream: string;
  readonly eventType: string;
  readonly cursorParam?: string;
  readonly itemsField?: string;
  readonly nextCursorField?: string;
  readonly keyField?: string;
  readonly retryPreset?: RetryPresetName;
  readonly leaseDurationMs?: number;
}

const FIELD_PATTERN = /^[A-Za-z0-9_$-]+(\.[A-Za-z0-9_$-]+)*$/;

/**
 * Reads and checks the {@link INGEST_ENVIRONMENT} variables.
 *
 * @throws `ValidationError` listing every missing or malformed variable, each with the value given.
 * @example
 * ```ts
 * const settings = readIngestEnvironment(process.env);
 * ```
 */
export function readIngestEnvironment(env: Environment = process.env): IngestEnvironment {
  const problems: string[] = [];
  const names = INGEST_ENVIRONMENT;
  const read = <T>(name: string, rule: VariableRule<T>, required = false) =>
    readVariable(env, name, rule, problems, { required });
  const field = matching(FIELD_PATTERN, 'a field name, with dots for nested fields');
  const settings = {
    eventLogTable: read(names.eventLogTable, tableName(), true),
    stateTable: read(names.stateTable, tableName(), true),
    source: read(names.source, matching(RESOURCE_NAME_PATTERN, RESOURCE_NAME_RULE), true),
    url: read(names.url, satisfying(isHttpUrl, 'an http or https URL'), true),
    stream: read(names.stream, matching(NAME_PATTERN, `a stream name (${NAME_RULE})`), true),
    eventType: read(names.eventType, matching(NAME_PATTERN, `an event type (${NAME_RULE})`), true),
    cursorParam: read(names.cursorParam, matching(/^[A-Za-z0-9_.[\]-]{1,64}$/, 'a query parameter name')),
    itemsField: read(names.itemsField, field),
    nextCursorField: read(names.nextCursorField, field),
    keyField: read(names.keyField, field),
    retryPreset: read(
      names.retryPreset,
      satisfying((v) => Object.hasOwn(RETRY_PRESETS, v), `one of ${Object.keys(RETRY_PRESETS).join(', ')}`),
    ) as RetryPresetName | undefined,
    leaseDurationMs: read(names.leaseDurationMs, milliseconds(SYNC_LEASE_RANGE)),
  };
  if (problems.length > 0) {
    const given = Object.fromEntries(Object.values(names).map((name) => [name, env[name]]));
    throw new ValidationError(`invalid ingest environment: ${problems.join('; ')}`, given);
  }
  const defined = Object.fromEntries(Object.entries(settings).filter(([, value]) => value !== undefined));
  return defined as unknown as IngestEnvironment;
}

/**
 * Builds the ingest a Lambda function runs from its environment (see {@link INGEST_ENVIRONMENT}): an
 * `httpJsonSource`, an `EventLog` and the state table on one DynamoDB client. Call it at module
 * scope, so that a bad setting fails the cold start rather than a run.
 *
 * @throws `ValidationError` listing every missing or malformed variable.
 * @example
 * ```ts
 * const ingest = ingestFromEnvironment(process.env);
 * export const handler = async (_: unknown, context: Context) =>
 *   ingest({ deadline: Date.now() + context.getRemainingTimeInMillis(), reserveMs: 10_000 });
 * ```
 */
export function ingestFromEnvironment(
  env: Environment = process.env,
): (run: { deadline?: number; reserveMs?: number; trigger?: string }) => Promise<IngestResult> {
  const settings = readIngestEnvironment(env);
  const client = new DynamoDBClient({});
  const eventLog = new EventLog({ tableName: settings.eventLogTable, client });
  const source = httpJsonSource({
    name: settings.source,
    url: settings.url,
    eventType: settings.eventType,
    ...(settings.cursorParam ? { cursorParam: settings.cursorParam } : {}),
    ...(settings.itemsField ? { itemsField: settings.itemsField } : {}),
    ...(settings.nextCursorField ? { nextCursorField: settings.nextCursorField } : {}),
    ...(settings.keyField ? { keyField: settings.keyField } : {}),
  });
  return (run) =>
    runIngest({
      source,
      eventLog,
      stream: settings.stream,
      stateTable: settings.stateTable,
      client,
      retry: { preset: settings.retryPreset ?? 'standard' },
      ...(settings.leaseDurationMs === undefined ? {} : { leaseDurationMs: settings.leaseDurationMs }),
      ...run,
    });
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}
