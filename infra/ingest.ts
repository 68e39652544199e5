import { fileURLToPath } from 'node:url';
import { Duration, Token } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { NAME_PATTERN } from '../lib/event-log/names';
import { RETRY_PRESETS, type RetryPresetName } from '../lib/retry/presets';
import { INGEST_ENVIRONMENT } from '../lib/settings/variables';
import { RESOURCE_NAME_PATTERN, RESOURCE_NAME_RULE } from '../lib/sync/constants';
import type { EventLog } from './event-log';
import { SluiceFunction } from './sluice-function';

/**
 * What the ingest calls on its state table: `GetItem` (its cursor), `UpdateItem` (lock and cursor,
 * content hashes without an event), `PutItem` (run records, and a changed record's hash inside the
 * event's `TransactWriteItems`), `BatchGetItem` (a page's hashes) and `ConditionCheckItem` (the lock
 * check, the fence, inside each commit's transaction). No `Query`, `Scan` or `DeleteItem`.
 */
const STATE_ACTIONS = [
  'dynamodb:BatchGetItem',
  'dynamodb:ConditionCheckItem',
  'dynamodb:GetItem',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
];
/** With a customer managed key on the state table, what DynamoDB needs to use it for the caller. */
const STATE_KEY_ACTIONS = ['kms:Decrypt', 'kms:Encrypt'];

const TIMEOUT_RANGE_SECONDS = { min: 30, max: 900 };
const MEMORY_RANGE_MB = { min: 128, max: 10_240 };
/** How much longer than the function's timeout the source's lock lasts between cursor saves. */
const LEASE_MARGIN_MS = 60_000;
const FIELD_PATTERN = /^[A-Za-z0-9_$-]+(\.[A-Za-z0-9_$-]+)*$/;

/** The HTTP API an {@link IngestFunction} pages, and where its records go. */
export interface IngestSourceProps {
  /**
   * Names the source's lock, cursor and content hashes in the state table. Keep it when the URL
   * changes, or the next run starts from scratch and commits every record again.
   */
  readonly name: string;
  /** The first page's URL, with any fixed query parameters (`?limit=100`). */
  readonly url: string;
  /** The stream new and changed records are committed to. */
  readonly stream: string;
  /** The event type they are committed as (data: `{ key, action, record }`). */
  readonly eventType: string;
  /** @default 'cursor' */
  readonly cursorParam?: string;
  /** The field holding the records, dots for nested fields. @default 'items' */
  readonly itemsField?: string;
  /** The field holding the next cursor. @default 'nextCursor' */
  readonly nextCursorField?: string;
  /** Each record's key field. @default 'id' */
  readonly keyField?: string;
  /** How HTTP failures are retried (a `RETRY_PRESETS` name). @default 'standard' */
  readonly retryPreset?: RetryPresetName;
}

/** Properties of an {@link IngestFunction}. */
export interface IngestFunctionProps {
  /** The event log records are committed to; the function is granted commit on it. */
  readonly eventLog: EventLog;
  /**
   * The state table (string `pk`, string `sk`): the source's lock, cursor, run records and content
   * hashes. The function is granted read and write on it, by item actions only.
   */
  readonly stateTable: dynamodb.ITable;
  readonly source: IngestSourceProps;
  /**
   * When the function runs. Runs that overlap are harmless: the second finds the lock held and skips.
   * @default every 5 minutes
   */
  readonly schedule?: events.Schedule;
  /**
   * The function's timeout, from 30 seconds to 15 minutes. A run stops paging 10 seconds before it
   * and saves its cursor; the next run resumes there.
   * @default 1 minute
   */
  readonly timeout?: Duration;
  /** @default 256 */
  readonly memorySize?: number;
  /** @default 1 month */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * A scheduled Lambda function that pages an external HTTP API and commits only new or changed
 * records to a stream of the event log, deduplicated by content hash and resuming from its saved
 * cursor (`functions/ingest.ts`, `runIngest`). It is bundled with the locally installed esbuild (no
 * Docker), runs on arm64 and Node.js 20 with a role of its own (its log group, and the two tables),
 * and is not retried by Lambda on failure: the next scheduled run resumes from the cursor.
 *
 * @example
 * ```ts
 * const log = new EventLog(this, 'Events');
 * const state = new dynamodb.Table(this, 'State', { partitionKey: { name: 'pk', type: STRING }, sortKey: { name: 'sk', type: STRING } });
 * new IngestFunction(this, 'CustomersIngest', {
 *   eventLog: log,
 *   stateTable: state,
 *   source: { name: 'crm-customers', url: 'https://crm.example.com/customers?limit=100', stream: 'customers', eventType: 'customer.changed' },
 *   schedule: events.Schedule.rate(Duration.minutes(15)),
 * });
 * ```
 */
export class IngestFunction extends Construct {
  /** The ingest function. */
  public readonly function: nodejs.NodejsFunction;
  /** The EventBridge rule that runs it on its schedule. */
  public readonly rule: events.Rule;
  /** The function's log group. */
  public readonly logGroup: logs.LogGroup;
  /** The function's role: writes to its own log group, and the grants on the two tables. */
  public readonly role: iam.Role;

  /**
   * @throws `Error` listing every invalid prop, each with the value given, before anything is created.
   */
  constructor(scope: Construct, id: string, props: IngestFunctionProps) {
    super(scope, id);
    const problems = validateIngestFunctionProps(props);
    if (problems.length > 0) {
      throw new Error(`invalid IngestFunction props at ${this.node.path}: ${problems.join('; ')}`);
    }
    const { source } = props;
    const timeout = props.timeout ?? Duration.minutes(1);

    const ingest = new SluiceFunction(this, 'Ingest', {
      entry: fileURLToPath(new URL('../functions/ingest.ts', import.meta.url)),
      description: `Sluice ingest of ${source.name} into stream ${source.stream}`,
      timeout,
      memorySize: props.memorySize ?? 256,
      ...(props.logRetention ? { logRetention: props.logRetention } : {}),
      environment: {
        [INGEST_ENVIRONMENT.eventLogTable]: props.eventLog.table.tableName,
        [INGEST_ENVIRONMENT.stateTable]: props.stateTable.tableName,
        [INGEST_ENVIRONMENT.source]: source.name,
        [INGEST_ENVIRONMENT.url]: source.url,
        [INGEST_ENVIRONMENT.stream]: source.stream,
        [INGEST_ENVIRONMENT.eventType]: source.eventType,
        [INGEST_ENVIRONMENT.leaseDurationMs]: String(timeout.toMilliseconds() + LEASE_MARGIN_MS),
        ...optional(INGEST_ENVIRONMENT.cursorParam, source.cursorParam),
        ...optional(INGEST_ENVIRONMENT.itemsField, source.itemsField),
        ...optional(INGEST_ENVIRONMENT.nextCursorField, source.nextCursorField),
        ...optional(INGEST_ENVIRONMENT.keyField, source.keyField),
        ...optional(INGEST_ENVIRONMENT.retryPreset, source.retryPreset),
      },
    });
    this.function = ingest.function;
    this.role = ingest.role;
    this.logGroup = ingest.logGroup;
    // The schedule runs it again soon enough; Lambda's own retries would only race the next run.
    this.function.configureAsyncInvoke({ retryAttempts: 0 });

    props.eventLog.grantCommit(this.function, { streams: [source.stream] });
    this.grantState(props.stateTable, this.function);

    this.rule = new events.Rule(this, 'Schedule', {
      description: `Runs the Sluice ingest of ${source.name}`,
      schedule: props.schedule ?? events.Schedule.rate(Duration.minutes(5)),
      targets: [
        new targets.LambdaFunction(this.function, { retryAttempts: 2, maxEventAge: Duration.hours(1) }),
      ],
    });
  }

  private grantState(table: dynamodb.ITable, grantee: iam.IGrantable): iam.Grant {
    const grant = table.grant(grantee, ...STATE_ACTIONS);
    return table.encryptionKey
      ? grant.combine(table.encryptionKey.grant(grantee, ...STATE_KEY_ACTIONS))
      : grant;
  }
}

function optional(name: string, value: string | undefined): Record<string, string> {
  return value === undefined ? {} : { [name]: value };
}

/** Every problem with a set of IngestFunction props, each naming the value given; empty when they are fine. */
function validateIngestFunctionProps(props: IngestFunctionProps): string[] {
  const problems: string[] = [];
  const source = props?.source;
  if (props?.eventLog?.table === undefined) problems.push('eventLog must be an EventLog construct');
  if (props?.stateTable?.tableName === undefined) problems.push('stateTable must be a DynamoDB table');
  if (typeof source !== 'object' || source === null) {
    problems.push(`source must be an object with name, url, stream and eventType (given ${show(source)})`);
    return problems;
  }
  const check = (
    label: string,
    value: unknown,
    valid: (text: string) => boolean,
    rule: string,
    required = true,
  ) => {
    if (value === undefined && !required) return;
    if (typeof value === 'string' && Token.isUnresolved(value)) return;
    if (typeof value !== 'string' || !valid(value))
      problems.push(`${label} must be ${rule} (given ${show(value)})`);
  };
  check('source.name', source.name, (v) => RESOURCE_NAME_PATTERN.test(v), RESOURCE_NAME_RULE);
  check('source.url', source.url, isHttpUrl, 'an http or https URL');
  check(
    'source.stream',
    source.stream,
    (v) => NAME_PATTERN.test(v),
    'a stream name: 1 to 128 letters, digits, dots, underscores or hyphens',
  );
  check(
    'source.eventType',
    source.eventType,
    (v) => NAME_PATTERN.test(v),
    'an event type: 1 to 128 letters, digits, dots, underscores or hyphens',
  );
  for (const key of ['itemsField', 'nextCursorField', 'keyField'] as const) {
    check(
      `source.${key}`,
      source[key],
      (v) => FIELD_PATTERN.test(v),
      'a field name, with dots for nested fields',
      false,
    );
  }
  check(
    'source.cursorParam',
    source.cursorParam,
    (v) => /^[A-Za-z0-9_.[\]-]{1,64}$/.test(v),
    'a query parameter name',
    false,
  );
  check(
    'source.retryPreset',
    source.retryPreset,
    (v) => Object.hasOwn(RETRY_PRESETS, v),
    `one of ${Object.keys(RETRY_PRESETS).join(', ')}`,
    false,
  );
  if (props.timeout !== undefined && !props.timeout.isUnresolved()) {
    const seconds = props.timeout.toSeconds();
    if (seconds < TIMEOUT_RANGE_SECONDS.min || seconds > TIMEOUT_RANGE_SECONDS.max) {
      problems.push(
        `timeout must be between ${TIMEOUT_RANGE_SECONDS.min} seconds and 15 minutes, as a run keeps 10 seconds back to save its cursor (given ${props.timeout.toHumanString()})`,
      );
    }
  }
  const memory = props.memorySize;
  if (
    memory !== undefined &&
    !Token.isUnresolved(memory) &&
    !(Number.isInteger(memory) && memory >= MEMORY_RANGE_MB.min && memory <= MEMORY_RANGE_MB.max)
  ) {
    problems.push(
      `memorySize must be a whole number of MB from ${MEMORY_RANGE_MB.min} to ${MEMORY_RANGE_MB.max} (given ${show(memory)})`,
    );
  }
  return problems;
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

function show(value: unknown): string {
  return value === undefined ? 'undefined' : JSON.stringify(value);
}
