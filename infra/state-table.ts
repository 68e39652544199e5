import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';

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
  /** Once-per-event claims and failure records. */
  failedHandler: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:Query'],
} as const;

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

  constructor(scope: Construct, id: string, props: PipelineStateTableProps = {}) {
    super(scope, id);
    if (props.pointInTimeRecovery !== undefined && typeof props.pointInTimeRecovery !== 'boolean')
      throw new Error(
        `invalid PipelineStateTable props at ${this.node.path}: pointInTimeRecovery must be true or false (given ${JSON.stringify(props.pointInTimeRecovery)})`,
      );
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: 'expiresAt',
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: props.pointInTimeRecovery ?? true },
      encryption: dynamodb.TableEncryption.DEFAULT,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
  }

  /**
   * Grants a Sluice function the state-table actions its role needs ({@link STATE_TABLE_ACTIONS}),
   * on this table only.
   *
   * @example
   * ```ts
   * state.grantFor(fetcherFunction, 'fetcher');
   * ```
   */
  public grantFor(grantee: iam.IGrantable, role: keyof typeof STATE_TABLE_ACTIONS): iam.Grant {
    return this.table.grant(grantee, ...STATE_TABLE_ACTIONS[role]);
  }
}
