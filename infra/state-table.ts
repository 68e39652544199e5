import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { NAME_PATTERN, NAME_RULE } from '../lib/event-log/names';
import { REGISTRY_PARTITION, STATE_TABLE_ATTRIBUTES } from '../lib/state/keys';
import { type PipelineFunctionRole, stateKeyPatterns } from './key-scopes';

/**
 * What each of Sluice's functions calls on the state table, by function. Transactions (`Put` and
 * `Update` actions) are authorised by the matching single-item actions; no function scans.
 */
export const STATE_TABLE_ACTIONS = {
  /** Definitions, checkpoints, leases, run records; the once-only "Backfill Completed" marker. */
  fetcher: [
    'dynamodb:GetItem',
    'dynamodb:PutItem',
    'dynamodb:UpdateItem',
    'dynamodb:DeleteItem',
    'dynamodb:Query',
  ],
  /**
   * Idempotency markers: one consistent batch read per batch, one conditional write per message;
   * the pipeline's running totals: one `UpdateItem` per batch.
   */
  worker: ['dynamodb:BatchGetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
  /** The pipeline's lease, read to leave new events to the run holding it. */
  waker: ['dynamodb:GetItem'],
  /**
   * Once-per-event claims and failure records; the worker's markers, read in one batch to leave out
   * the events of a message that had already succeeded when SQS moved it.
   */
  failedHandler: [
    'dynamodb:GetItem',
    'dynamodb:BatchGetItem',
    'dynamodb:PutItem',
    'dynamodb:UpdateItem',
    'dynamodb:Query',
  ],
} as const satisfies Record<PipelineFunctionRole, readonly string[]>;

/**
 * With a customer managed key, DynamoDB uses it on the caller's behalf: every function reads and
 * writes, so each gets `kms:Decrypt` and `kms:Encrypt` on the key (as {@link EventLog}'s writers do).
 */
const KEY_ACTIONS = ['kms:Decrypt', 'kms:Encrypt'];

/** Properties of a {@link PipelineStateTable}. */
export interface PipelineStateTableProps {
  /**
   * Whether point-in-time recovery is on. Checkpoints and markers are small and precious.
   *
   * @default true
   */
  readonly pointInTimeRecovery?: boolean;

  /** @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;

  /**
   * A customer managed KMS key to encrypt the table with; {@link PipelineStateTable.grantFor} then also
   * grants what each function needs on it.
   *
   * @default - encrypted with a key that DynamoDB owns
   */
  readonly encryptionKey?: kms.IKey;
}

/**
 * The DynamoDB table of Sluice's state: pipeline definitions, checkpoints and leases, run and seek
 * records, idempotency markers, failure claims and records. String keys `pk` and `sk`, on-demand,
 * TTL on `expiresAt` (markers and failure records expire), encrypted at rest, point-in-time
 * recovery on. One table can serve many pipelines: pass it to each `EventPipeline` as `stateTable`.
 *
 * @example
 * ```ts
 * const state = new PipelineStateTable(this, 'State');
 * new EventPipeline(this, 'Billing', { eventLog, stream: 'orders', entry: 'src/billing.ts', stateTable: state });
 * new EventPipeline(this, 'Shipping', { eventLog, stream: 'orders', entry: 'src/shipping.ts', stateTable: state });
 * ```
 */
export class PipelineStateTable extends Construct {
  /** The table. */
  public readonly table: dynamodb.Table;
  /** The customer managed key the table is encrypted with, if one was given. */
  public readonly encryptionKey?: kms.IKey;

  constructor(scope: Construct, id: string, props: PipelineStateTableProps = {}) {
    super(scope, id);
    if (props.pointInTimeRecovery !== undefined && typeof props.pointInTimeRecovery !== 'boolean')
      throw new Error(
        `invalid PipelineStateTable props at ${this.node.path}: pointInTimeRecovery must be true or false (given ${JSON.stringify(props.pointInTimeRecovery)})`,
      );
    if (props.encryptionKey) this.encryptionKey = props.encryptionKey;
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: STATE_TABLE_ATTRIBUTES.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: STATE_TABLE_ATTRIBUTES.sortKey, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: STATE_TABLE_ATTRIBUTES.timeToLive,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: props.pointInTimeRecovery ?? true },
      ...(props.encryptionKey
        ? { encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED, encryptionKey: props.encryptionKey }
        : { encryption: dynamodb.TableEncryption.DEFAULT }),
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
  }

  /**
   * Grants a function of `pipeline` the state-table actions its role calls ({@link STATE_TABLE_ACTIONS}),
   * on this table only, and only on the partition keys of that pipeline its role uses (a
   * `dynamodb:LeadingKeys` condition, see `stateKeyPatterns`): a worker cannot move another pipeline's
   * checkpoint, forge its markers or register a pipeline. With a customer managed key, also
   * `kms:Decrypt` and `kms:Encrypt` on it.
   *
   * @throws `Error` when `pipeline` is not a pipeline name.
   *
   * @example
   * ```ts
   * state.grantFor(fetcherFunction, 'fetcher', 'billing');
   * ```
   */
  public grantFor(grantee: iam.IGrantable, role: PipelineFunctionRole, pipeline: string): iam.Grant {
    if (typeof pipeline !== 'string' || !NAME_PATTERN.test(pipeline))
      throw new Error(
        `PipelineStateTable.grantFor at ${this.node.path}: pipeline must ${NAME_RULE} (given ${JSON.stringify(pipeline)})`,
      );
    const grant = iam.Grant.addToPrincipal({
      grantee,
      actions: [...STATE_TABLE_ACTIONS[role]],
      resourceArns: [this.table.tableArn],
      conditions: {
        'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': stateKeyPatterns(pipeline, role) },
      },
    });
    return this.encryptionKey ? grant.combine(this.encryptionKey.grant(grantee, ...KEY_ACTIONS)) : grant;
  }

  /**
   * Lets the grantee halt pipelines (`PipelineStore.haltPipeline`, what an aborting stage's worker
   * calls): `dynamodb:UpdateItem` on the registry's items, and of them only the attributes of a halt
   * (a `dynamodb:Attributes` condition), so it cannot change a definition. IAM cannot tell one
   * pipeline's registry item from another's (they share a partition), so the grantee can halt any
   * pipeline of this table; it cannot make one skip events.
   *
   * @example
   * ```ts
   * state.grantHalt(stageWorkerFunction);
   * ```
   */
  public grantHalt(grantee: iam.IGrantable): iam.Grant {
    const grant = iam.Grant.addToPrincipal({
      grantee,
      actions: ['dynamodb:UpdateItem'],
      resourceArns: [this.table.tableArn],
      conditions: {
        'ForAllValues:StringEquals': {
          'dynamodb:LeadingKeys': [REGISTRY_PARTITION],
          'dynamodb:Attributes': [
            STATE_TABLE_ATTRIBUTES.partitionKey,
            STATE_TABLE_ATTRIBUTES.sortKey,
            'haltedAt',
            'haltReason',
          ],
        },
      },
    });
    return this.encryptionKey ? grant.combine(this.encryptionKey.grant(grantee, ...KEY_ACTIONS)) : grant;
  }
}
