import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { describe, ValidationError } from '../errors';
import { TABLE_NAME_PATTERN } from '../event-log/constants';
import { EventLog } from '../event-log/event-log';
import { NAME_PATTERN, NAME_RULE } from '../event-log/names';
import { RETRY_PRESETS, type RetryPresetName } from '../retry/presets';
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

type Environment = Readonly<Record<string, string | undefined>>;

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
  const read = (
    name: string,
    valid: (value: string) => boolean,
    rule: string,
    required: boolean,
  ): string | undefined => {
    const value = env[name];
    if (value === undefined) {
      if (required) problems.push(`${name} must be set to ${rule} (it is not set)`);
      return undefined;
    }
    if (!valid(value)) {
      problems.push(`${name} must be ${rule} (given ${describe(value)})`);
      return undefined;
    }
    return value;
  };
  const table = (value: string) => TABLE_NAME_PATTERN.test(value);
  const tableRule = "a DynamoDB table name: 3 to 255 letters, digits, '_', '-' or '.'";
  const field = (value: string) => FIELD_PATTERN.test(value);
  const fieldRule = 'a field name, with dots for nested fields';
  const settings = {
    eventLogTable: read(names.eventLogTable, table, tableRule, true),
    stateTable: read(names.stateTable, table, tableRule, true),
    source: read(names.source, (v) => RESOURCE_NAME_PATTERN.test(v), RESOURCE_NAME_RULE, true),
    url: read(names.url, isHttpUrl, 'an http or https URL', true),
    stream: read(names.stream, (v) => NAME_PATTERN.test(v), `a stream name (${NAME_RULE})`, true),
    eventType: read(names.eventType, (v) => NAME_PATTERN.test(v), `an event type (${NAME_RULE})`, true),
    cursorParam: read(
      names.cursorParam,
      (v) => /^[A-Za-z0-9_.[\]-]{1,64}$/.test(v),
      'a query parameter name',
      false,
    ),
    itemsField: read(names.itemsField, field, fieldRule, false),
    nextCursorField: read(names.nextCursorField, field, fieldRule, false),
    keyField: read(names.keyField, field, fieldRule, false),
    retryPreset: read(
      names.retryPreset,
      (v) => Object.hasOwn(RETRY_PRESETS, v),
      `one of ${Object.keys(RETRY_PRESETS).join(', ')}`,
      false,
    ) as RetryPresetName | undefined,
    leaseDurationMs: read(
      names.leaseDurationMs,
      (v) => /^\d{1,10}$/.test(v) && Number(v) >= SYNC_LEASE_RANGE.min && Number(v) <= SYNC_LEASE_RANGE.max,
      `a whole number of milliseconds from ${SYNC_LEASE_RANGE.min} to ${SYNC_LEASE_RANGE.max}`,
      false,
    ),
  };
  if (problems.length > 0) {
    const given = Object.fromEntries(Object.values(names).map((name) => [name, env[name]]));
    throw new ValidationError(`invalid ingest environment: ${problems.join('; ')}`, given);
  }
  const defined = Object.fromEntries(Object.entries(settings).filter(([, value]) => value !== undefined));
  return {
    ...(defined as Omit<IngestEnvironment, 'leaseDurationMs'>),
    ...(settings.leaseDurationMs === undefined ? {} : { leaseDurationMs: Number(settings.leaseDurationMs) }),
  };
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
