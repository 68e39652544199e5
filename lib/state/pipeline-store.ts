import { randomUUID } from 'node:crypto';
import {
  type AttributeValue,
  ConditionalCheckFailedException,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  TransactionCanceledException,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { ConflictError, LeaseLostError, MissingResourceError } from '../errors';
import { assertTableName } from '../event-log/names';
import {
  type PipelineDefinition,
  type ResolvedPipeline,
  resolvePipeline,
  startPosition,
} from '../pipeline/definition';
import { RetriesExhaustedError } from '../retry/errors';
import type { RetryPolicy } from '../retry/presets';
import { withRetry } from '../retry/with-retry';
import {
  comparePositions,
  formatPosition,
  type Position,
  parsePosition,
  positionTimeMs,
} from '../time/position';
import { type ServerClock, serverClockOf } from '../time/server-clock';
import { assertWholeMilliseconds } from '../validation/whole-milliseconds';
import {
  acquireLease,
  LEASE_HELD,
  type LeaseItem,
  leaseHeldValues,
  leaseLostReason,
  releaseLease,
  renewLease,
} from './fenced-lease';
import { sendNamingTable } from './send-naming-table';
import {
  type Lease,
  PIPELINE_STATUS,
  type PipelineState,
  type PipelineStatus,
  RUN_STATUS,
  type RunCounts,
  type RunRecord,
  type SeekRecord,
  type SendPlan,
} from './types';

const REGISTRY_KEY = 'pipelines';
const RUN_RETENTION_SECONDS = 30 * 24 * 3600;

/**
 * How many times a seek reads the checkpoint and writes over it before giving up with a
 * `ConflictError` (kind `seek-contention`): each attempt fails only when a checkpoint write or another seek landed between
 * its read and its write, which a fetcher does at most once a page.
 */
export const SEEK_MAX_ATTEMPTS = 8;
const SEEK_RETRY_POLICY: RetryPolicy = {
  maxAttempts: SEEK_MAX_ATTEMPTS,
  initialDelayMs: 20,
  maxDelayMs: 500,
  backoffFactor: 2,
};

/** Options of a {@link PipelineStore}. */
export interface PipelineStoreOptions {
  /** The state table: string hash key `pk`, string range key `sk` (the event log's layout). */
  readonly tableName: string;
  /** @default a new DynamoDBClient from the environment */
  readonly client?: DynamoDBClient;
  /** @default Date.now */
  readonly clock?: () => number;
}

/**
 * Pipelines and their state in DynamoDB: definitions, one checkpoint-and-lease item per pipeline,
 * run records and seek records. Every write is conditional:
 *
 * - a lease is taken only when free or expired, and each taking raises the pipeline's fencing token;
 * - a checkpoint is written only by the holder of the current token, only over the version it read,
 *   and never backwards; each write also renews the lease;
 * - a seek is the one way to move a checkpoint anywhere, and is recorded.
 *
 * @example
 * ```ts
 * const store = new PipelineStore({ tableName: 'sluice-state' });
 * await store.putPipeline({ name: 'billing', stream: 'orders', queueUrl, start: 'earliest' });
 * const lease = await store.acquireLease('billing', 'fetcher-1', 60_000);
 * if (lease) await store.writeCheckpoint(lease, { position: next, expectedVersion: lease.state.version });
 * ```
 */
export class PipelineStore {
  readonly tableName: string;
  private readonly client: DynamoDBClient;
  private readonly send: DynamoDBClient['send'];
  private readonly clock: () => number;
  private readonly serverClock: ServerClock;

  constructor(options: PipelineStoreOptions) {
    assertTableName(options?.tableName);
    this.tableName = options.tableName;
    this.client = options.client ?? new DynamoDBClient({});
    this.send = sendNamingTable(this.client, this.tableName, 'state table');
    this.clock = options.clock ?? Date.now;
    this.serverClock = serverClockOf(this.client);
  }

  /**
   * Registers or updates a pipeline. A new pipeline gets its state at its start position; an existing
   * one keeps its checkpoint (move it with {@link seek}).
   *
   * @example
   * ```ts
   * await store.putPipeline({ name: 'billing', stream: 'orders', queueUrl, start: { time: '2024-05-01T00:00:00Z' } });
   * ```
   */
  async putPipeline(definition: PipelineDefinition): Promise<ResolvedPipeline> {
    const pipeline = resolvePipeline(definition);
    const now = this.clock();
    // An update rather than a put, so that a halt (see `haltPipeline`) outlives re-registration: a
    // deployed fetcher registers its definition again on every cold start.
    await this.send(
      new UpdateItemCommand({
        TableName: this.tableName,
        Key: { pk: { S: REGISTRY_KEY }, sk: { S: pipeline.name } },
        UpdateExpression: 'SET #definition = :definition, updatedAt = :now',
        ExpressionAttributeNames: { '#definition': 'definition' },
        ExpressionAttributeValues: {
          ':definition': { S: JSON.stringify(definition) },
          ':now': { N: String(now) },
        },
      }),
    );
    try {
      await this.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: stateItem({
            pipeline: pipeline.name,
            position: startPosition(pipeline.start, now),
            version: 0,
            epoch: 0,
            checkpointToken: 0,
            checkpointedAt: now,
            status: PIPELINE_STATUS.running,
            ...(pipeline.stopAt ? { stopAt: pipeline.stopAt } : {}),
            leaseExpiresAt: 0,
            leaseToken: 0,
          }),
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
    return pipeline;
  }

  /**
   * A pipeline's definition with its defaults, or `undefined`.
   *
   * @example
   * ```ts
   * const pipeline = await store.getPipeline('billing');
   * ```
   */
  async getPipeline(name: string): Promise<ResolvedPipeline | undefined> {
    const output = await this.send(
      new GetItemCommand({
        TableName: this.tableName,
        Key: { pk: { S: REGISTRY_KEY }, sk: { S: name } },
        ConsistentRead: true,
      }),
    );
    return output.Item ? registeredPipeline(output.Item) : undefined;
  }

  /**
   * Stops a pipeline until {@link resumePipeline}: the fetcher skips it, as it skips a disabled one,
   * and the halt outlives the pipeline's re-registration. `getPipeline` and `listPipelines` report it
   * as `enabled: false` with `halted: { at, reason }`. Halting a halted pipeline keeps its first reason.
   *
   * @throws `MissingResourceError` (resource `pipeline`) when no pipeline of that name is registered.
   *
   * @example
   * ```ts
   * await store.haltPipeline('orders.transform', 'event 0190... failed: price missing');
   * ```
   */
  async haltPipeline(name: string, reason: string): Promise<void> {
    try {
      await this.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { pk: { S: REGISTRY_KEY }, sk: { S: name } },
          UpdateExpression:
            'SET haltedAt = if_not_exists(haltedAt, :now), haltReason = if_not_exists(haltReason, :reason)',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':now': { N: String(this.clock()) }, ':reason': { S: reason } },
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) throw new MissingResourceError('pipeline', name);
      throw error;
    }
  }

  /**
   * Lifts a halt set by {@link haltPipeline}; the pipeline carries on from its checkpoint.
   *
   * @throws `MissingResourceError` (resource `pipeline`) when no pipeline of that name is registered.
   *
   * @example
   * ```ts
   * await store.resumePipeline('orders.transform');
   * ```
   */
  async resumePipeline(name: string): Promise<void> {
    try {
      await this.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { pk: { S: REGISTRY_KEY }, sk: { S: name } },
          UpdateExpression: 'REMOVE haltedAt, haltReason',
          ConditionExpression: 'attribute_exists(pk)',
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) throw new MissingResourceError('pipeline', name);
      throw error;
    }
  }

  /**
   * Every registered pipeline. A stored definition that no longer validates is returned in `invalid`
   * with its error, so one bad record does not stop the others.
   *
   * @example
   * ```ts
   * const { pipelines, invalid } = await store.listPipelines();
   * ```
   */
  async listPipelines(): Promise<{
    pipelines: ResolvedPipeline[];
    invalid: { name: string; error: Error }[];
  }> {
    const pipelines: ResolvedPipeline[] = [];
    const invalid: { name: string; error: Error }[] = [];
    let startKey: Record<string, AttributeValue> | undefined;
    do {
      const output = await this.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': { S: REGISTRY_KEY } },
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of output.Items ?? []) {
        const name = item.sk?.S ?? '';
        try {
          pipelines.push(registeredPipeline(item));
        } catch (error) {
          invalid.push({ name, error: error as Error });
        }
      }
      startKey = output.LastEvaluatedKey;
    } while (startKey);
    return { pipelines, invalid };
  }

  /**
   * A pipeline's checkpoint and lease, or `undefined` if it has none.
   *
   * @example
   * ```ts
   * const { position } = (await store.getState('billing'))!;
   * ```
   */
  async getState(pipeline: string): Promise<PipelineState | undefined> {
    const output = await this.send(
      new GetItemCommand({ TableName: this.tableName, Key: stateKey(pipeline), ConsistentRead: true }),
    );
    return output.Item ? parseState(output.Item) : undefined;
  }

  /**
   * Takes the pipeline's lease if it is free or expired (or already this owner's), raising its fencing
   * token; resolves to the lease and the state it found, or `undefined` when someone else holds it.
   *
   * @example
   * ```ts
   * const lease = await store.acquireLease('billing', `fetcher-${context.awsRequestId}`, 60_000);
   * ```
   */
  async acquireLease(pipeline: string, owner: string, durationMs: number): Promise<Lease | undefined> {
    checkDuration(durationMs);
    const result = await acquireLease(this.leaseItem(pipeline), owner, durationMs, this.clock(), {
      itemMustExist: true,
    });
    if (!result.taken) {
      if (!result.item) throw new MissingResourceError('pipeline', pipeline);
      return undefined;
    }
    const state = parseState(result.item);
    return { pipeline, owner, token: state.leaseToken, expiresAt: state.leaseExpiresAt, state };
  }

  /**
   * Extends a lease this owner still holds; throws `LeaseLostError` if it does not.
   *
   * @example
   * ```ts
   * lease = await store.renewLease(lease, 60_000);
   * ```
   */
  async renewLease(lease: Lease, durationMs: number): Promise<Lease> {
    checkDuration(durationMs);
    const now = this.clock();
    const lost = await renewLease(this.leaseItem(lease.pipeline), lease, durationMs, now);
    if (lost) throw this.leaseLost(lease, lost.item, now);
    return { ...lease, expiresAt: now + durationMs };
  }

  /**
   * Moves the checkpoint forward to `position`, if this lease is still current and the checkpoint is
   * still at `expectedVersion`; renews the lease in the same write. Resolves to the new version.
   * `sendPlan` is stored with it (the messages about to be sent past `position`), or cleared when
   * left out.
   *
   * @throws `LeaseLostError` (another fetcher took over, or the lease expired), `ConflictError` (kind `checkpoint-moved`)
   * (the checkpoint was moved by a seek), `ConflictError` (kind `checkpoint-regression`) (the position is behind the one read),
   * `ConflictError` (kind `checkpoint-in-future`) (the position lies after DynamoDB's clock: the writer's clock runs fast).
   *
   * @example
   * ```ts
   * const version = await store.writeCheckpoint(lease, { position, expectedVersion, leaseDurationMs: 60_000 });
   * ```
   */
  async writeCheckpoint(
    lease: Lease,
    write: {
      position: Position;
      expectedVersion: number;
      previous: Position;
      leaseDurationMs: number;
      status?: PipelineStatus;
      sendPlan?: SendPlan;
    },
  ): Promise<number> {
    if (comparePositions(write.position, write.previous) < 0) {
      throw new ConflictError({
        kind: 'checkpoint-regression',
        pipeline: lease.pipeline,
        from: formatPosition(write.previous),
        position: formatPosition(write.position),
      });
    }
    const latest = this.serverClock.bounds()?.latest;
    if (
      latest !== undefined &&
      positionTimeMs(write.position) > latest &&
      comparePositions(write.position, write.previous) > 0
    ) {
      throw new ConflictError({
        kind: 'checkpoint-in-future',
        pipeline: lease.pipeline,
        position: formatPosition(write.position),
        positionTimeMs: positionTimeMs(write.position),
        serverTimeMs: latest,
      });
    }
    checkDuration(write.leaseDurationMs);
    const now = this.clock();
    try {
      await this.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: stateKey(lease.pipeline),
          UpdateExpression: `SET #position = :position, checkpointToken = :token, checkpointedAt = :now, leaseExpiresAt = :expiresAt, #status = :status${write.sendPlan ? ', sendPlan = :plan' : ''} ADD version :one${write.sendPlan ? '' : ' REMOVE sendPlan'}`,
          ConditionExpression: `version = :version AND ${LEASE_HELD}`,
          ExpressionAttributeNames: { '#position': 'position', '#status': 'status' },
          ExpressionAttributeValues: {
            ...(write.sendPlan ? { ':plan': { S: JSON.stringify(write.sendPlan) } } : {}),
            ':position': { S: formatPosition(write.position) },
            ...leaseHeldValues(lease, now),
            ':expiresAt': { N: String(now + write.leaseDurationMs) },
            ':status': { S: write.status ?? PIPELINE_STATUS.running },
            ':version': { N: String(write.expectedVersion) },
            ':one': { N: '1' },
          },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return write.expectedVersion + 1;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const current = error.Item ? parseState(error.Item) : undefined;
      if (
        current &&
        current.version === write.expectedVersion + 1 &&
        current.checkpointToken === lease.token &&
        current.leaseOwner === lease.owner &&
        formatPosition(current.position) === formatPosition(write.position)
      ) {
        // This very write landed and its response was lost; the SDK's retry found it done. Only the
        // holder of this token writes checkpoints with it, and a seek writes token 0.
        return write.expectedVersion + 1;
      }
      if (
        current &&
        current.leaseToken === lease.token &&
        current.leaseOwner === lease.owner &&
        current.leaseExpiresAt > now
      ) {
        throw new ConflictError({
          kind: 'checkpoint-moved',
          pipeline: lease.pipeline,
          expectedVersion: write.expectedVersion,
          actualVersion: current.version,
        });
      }
      throw this.leaseLost(lease, error.Item, now);
    }
  }

  /**
   * Gives a lease up so that the next fetcher need not wait for it to expire. Does nothing if the lease
   * was already lost.
   *
   * @example
   * ```ts
   * await store.releaseLease(lease);
   * ```
   */
  async releaseLease(lease: Lease): Promise<void> {
    await releaseLease(this.leaseItem(lease.pipeline), lease);
  }

  /**
   * Moves a pipeline's checkpoint to any position, forwards or back (the data pump's restart), and
   * records the move. A fetcher working on the pipeline at the time finds its next checkpoint write
   * refused and stops; the next run starts from here.
   *
   * The seek reads the checkpoint, then writes over the version it read, so that the seek record names
   * the position it really moved from. When a fetcher (or another seek) writes in between, the seek
   * reads again and retries, up to {@link SEEK_MAX_ATTEMPTS} times with short, jittered waits.
   *
   * @throws `MissingResourceError` (resource `pipeline`) when no pipeline of that name is registered; `ConflictError` (kind `seek-contention`)
   * when the checkpoint changed under every attempt (nothing was written: seek again, or stop the
   * pipeline's fetcher first).
   *
   * @example
   * ```ts
   * await store.seek('billing', positionAtTime(new Date('2024-05-01T00:00:00Z')), { stopAt: positionAtTime(new Date('2024-05-02T00:00:00Z')), reason: 'replay 1 May' });
   * ```
   */
  async seek(
    pipeline: string,
    position: Position,
    options: { stopAt?: Position | null; reason?: string } = {},
  ): Promise<PipelineState> {
    const target = formatPosition(position);
    const stopAt =
      options.stopAt === undefined || options.stopAt === null ? undefined : formatPosition(options.stopAt);
    try {
      await withRetry(() => this.seekOnce(pipeline, target, stopAt, options), {
        preset: SEEK_RETRY_POLICY,
        name: `seek pipeline '${pipeline}'`,
        jitter: 'full',
        shouldRetry: isVersionConflict,
      });
    } catch (error) {
      if (error instanceof RetriesExhaustedError)
        throw new ConflictError(
          { kind: 'seek-contention', pipeline, attempts: error.attempts },
          { cause: error.lastError },
        );
      throw error;
    }
    return (await this.getState(pipeline)) as PipelineState;
  }

  /** One read-modify-write of a seek; fails with the transaction's cancellation when the version moved. */
  private async seekOnce(
    pipeline: string,
    target: string,
    stopAt: string | undefined,
    options: { stopAt?: Position | null; reason?: string },
  ): Promise<void> {
    const current = await this.getState(pipeline);
    if (!current) throw new MissingResourceError('pipeline', pipeline);
    const now = this.clock();
    const sets = [
      '#position = :position',
      'checkpointToken = :zero',
      'checkpointedAt = :now',
      '#status = :running',
    ];
    if (stopAt !== undefined) sets.push('stopAt = :stopAt');
    // A fetcher's send plan belongs to the old epoch: the events it names are sent again from here.
    const removes = ['sendPlan', ...(options.stopAt === null ? ['stopAt'] : [])];
    const updateExpression = `SET ${sets.join(', ')} ADD version :one, epoch :one REMOVE ${removes.join(', ')}`;
    await this.send(
      new TransactWriteItemsCommand({
        // The SDK retries a request whose response was lost; the token makes that retry a no-op.
        ClientRequestToken: randomUUID(),
        TransactItems: [
          {
            Update: {
              TableName: this.tableName,
              Key: stateKey(pipeline),
              UpdateExpression: updateExpression,
              ConditionExpression: 'version = :version',
              ExpressionAttributeNames: { '#position': 'position', '#status': 'status' },
              ExpressionAttributeValues: {
                ':position': { S: target },
                ':zero': { N: '0' },
                ':now': { N: String(now) },
                ':running': { S: PIPELINE_STATUS.running },
                ':one': { N: '1' },
                ':version': { N: String(current.version) },
                ...(stopAt === undefined ? {} : { ':stopAt': { S: stopAt } }),
              },
            },
          },
          {
            Put: {
              TableName: this.tableName,
              Item: {
                pk: { S: `pipeline#${pipeline}#seeks` },
                sk: { S: `${new Date(now).toISOString()}#${randomUUID()}` },
                from: { S: formatPosition(current.position) },
                to: { S: target },
                ...(stopAt === undefined ? {} : { stopAt: { S: stopAt } }),
                ...(options.reason === undefined ? {} : { reason: { S: options.reason } }),
                at: { N: String(now) },
              },
            },
          },
        ],
      }),
    );
  }

  /**
   * The pipeline's recorded seeks, newest first.
   *
   * @example
   * ```ts
   * const [lastSeek] = await store.listSeeks('billing', 1);
   * ```
   */
  async listSeeks(pipeline: string, limit = 20): Promise<SeekRecord[]> {
    const items = await this.newestFirst(`pipeline#${pipeline}#seeks`, limit);
    return items.map((item) => ({
      pipeline,
      at: Number(item.at?.N),
      from: item.from?.S as string,
      to: item.to?.S as string,
      ...(item.stopAt?.S ? { stopAt: item.stopAt.S } : {}),
      ...(item.reason?.S ? { reason: item.reason.S } : {}),
    }));
  }

  /**
   * Records the start of a fetcher run on a pipeline.
   *
   * @example
   * ```ts
   * const run = await store.startRun(lease);
   * ```
   */
  async startRun(lease: Lease): Promise<RunRecord> {
    const run: RunRecord = {
      pipeline: lease.pipeline,
      runId: randomUUID(),
      owner: lease.owner,
      leaseToken: lease.token,
      status: RUN_STATUS.started,
      startedAt: this.clock(),
      startPosition: formatPosition(lease.state.position),
    };
    await this.send(new PutItemCommand({ TableName: this.tableName, Item: runItem(run) }));
    return run;
  }

  /**
   * Records how a run ended: finished, or failed with its error.
   *
   * @example
   * ```ts
   * await store.endRun(run, { counts, stopReason: 'caught up', endPosition });
   * ```
   */
  async endRun(
    run: RunRecord,
    outcome: {
      counts: RunCounts;
      stopReason?: string;
      endPosition?: Position;
      error?: Error;
      /** Events after `from` up to `to` had passed the stream's retention when the run read them. */
      expired?: { from: Position; to: Position };
    },
  ): Promise<RunRecord> {
    const ended: RunRecord = {
      ...run,
      status: outcome.error ? RUN_STATUS.failed : RUN_STATUS.finished,
      endedAt: this.clock(),
      counts: { ...outcome.counts },
      ...(outcome.stopReason ? { stopReason: outcome.stopReason } : {}),
      ...(outcome.endPosition ? { endPosition: formatPosition(outcome.endPosition) } : {}),
      ...(outcome.error ? { error: { name: outcome.error.name, message: outcome.error.message } } : {}),
      ...(outcome.expired
        ? { expired: { from: formatPosition(outcome.expired.from), to: formatPosition(outcome.expired.to) } }
        : {}),
    };
    await this.send(new PutItemCommand({ TableName: this.tableName, Item: runItem(ended) }));
    return ended;
  }

  /**
   * A pipeline's runs, newest first.
   *
   * @example
   * ```ts
   * const [latest] = await store.listRuns('billing', 1);
   * ```
   */
  async listRuns(pipeline: string, limit = 20): Promise<RunRecord[]> {
    const items = await this.newestFirst(`pipeline#${pipeline}#runs`, limit);
    return items.map((item) => JSON.parse(item.record?.S ?? '{}') as RunRecord);
  }

  /** The newest `limit` items of a record list (runs, seeks), whose sort keys start with a timestamp. */
  private async newestFirst(partitionKey: string, limit: number): Promise<Record<string, AttributeValue>[]> {
    const output = await this.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': { S: partitionKey } },
        ScanIndexForward: false,
        Limit: limit,
        ConsistentRead: true,
      }),
    );
    return output.Items ?? [];
  }

  private leaseLost(
    lease: Lease,
    item: Record<string, AttributeValue> | undefined,
    now: number,
  ): LeaseLostError {
    if (!item)
      return new LeaseLostError({
        lease: 'fetcher',
        pipeline: lease.pipeline,
        token: lease.token,
        reason: 'the pipeline state is gone',
      });
    const lost = leaseLostReason(lease, item, now, {
      takenOver: 'another fetcher took the pipeline over',
      lease: 'lease',
    });
    return new LeaseLostError({ lease: 'fetcher', pipeline: lease.pipeline, token: lease.token, ...lost });
  }

  /** Where a pipeline's lease lives. */
  private leaseItem(pipeline: string): LeaseItem {
    return { send: this.send, tableName: this.tableName, key: stateKey(pipeline) };
  }
}

/** The seek's own condition failed: the checkpoint's version moved between its read and its write. */
function isVersionConflict(error: unknown): boolean {
  return (
    error instanceof TransactionCanceledException &&
    error.CancellationReasons?.[0]?.Code === 'ConditionalCheckFailed'
  );
}

function stateKey(pipeline: string): Record<string, AttributeValue> {
  return { pk: { S: `pipeline#${pipeline}` }, sk: { S: 'state' } };
}

function stateItem(state: PipelineState): Record<string, AttributeValue> {
  return {
    ...stateKey(state.pipeline),
    position: { S: formatPosition(state.position) },
    version: { N: String(state.version) },
    epoch: { N: String(state.epoch) },
    checkpointToken: { N: String(state.checkpointToken) },
    checkpointedAt: { N: String(state.checkpointedAt) },
    status: { S: state.status },
    ...(state.stopAt ? { stopAt: { S: formatPosition(state.stopAt) } } : {}),
    ...(state.leaseOwner ? { leaseOwner: { S: state.leaseOwner } } : {}),
    leaseExpiresAt: { N: String(state.leaseExpiresAt) },
    leaseToken: { N: String(state.leaseToken) },
  };
}

function parseState(item: Record<string, AttributeValue>): PipelineState {
  const pipeline = (item.pk?.S ?? '').replace(/^pipeline#/, '');
  const stopAt = item.stopAt?.S;
  const leaseOwner = item.leaseOwner?.S;
  return {
    pipeline,
    position: parsePosition(item.position?.S ?? ''),
    version: Number(item.version?.N ?? 0),
    epoch: Number(item.epoch?.N ?? 0),
    checkpointToken: Number(item.checkpointToken?.N ?? 0),
    checkpointedAt: Number(item.checkpointedAt?.N ?? 0),
    status: (item.status?.S as PipelineStatus | undefined) ?? PIPELINE_STATUS.running,
    ...(stopAt ? { stopAt: parsePosition(stopAt) } : {}),
    ...(leaseOwner ? { leaseOwner } : {}),
    leaseExpiresAt: Number(item.leaseExpiresAt?.N ?? 0),
    leaseToken: Number(item.leaseToken?.N ?? 0),
    ...(item.sendPlan?.S ? { sendPlan: JSON.parse(item.sendPlan.S) as SendPlan } : {}),
  };
}

function runItem(run: RunRecord): Record<string, AttributeValue> {
  return {
    pk: { S: `pipeline#${run.pipeline}#runs` },
    sk: { S: `${new Date(run.startedAt).toISOString()}#${run.runId}` },
    status: { S: run.status },
    record: { S: JSON.stringify(run) },
    expiresAt: { N: String(Math.floor(run.startedAt / 1000) + RUN_RETENTION_SECONDS) },
  };
}

/** How long a fetcher's lease may last. */
const LEASE_DURATION_RANGE = { min: 1_000, max: 3_600_000 } as const;

function checkDuration(durationMs: number): void {
  assertWholeMilliseconds('lease duration', durationMs, LEASE_DURATION_RANGE);
}

/** A registry item as a resolved pipeline: a halted pipeline is disabled, and says why. */
function registeredPipeline(item: Record<string, AttributeValue>): ResolvedPipeline {
  const pipeline = resolvePipeline(JSON.parse(item.definition?.S ?? ''));
  if (item.haltedAt?.N === undefined) return pipeline;
  return {
    ...pipeline,
    enabled: false,
    halted: { at: Number(item.haltedAt.N), reason: item.haltReason?.S ?? '' },
  };
}
