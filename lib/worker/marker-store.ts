import { createHash } from 'node:crypto';
import { type AttributeValue, DynamoDBClient, type TransactWriteItem } from '@aws-sdk/client-dynamodb';
import type { Envelope } from '../messages/envelope';
import { batchGetItems } from '../state/batch-get';
import { batchPutItems } from '../state/batch-write';
import { attributeKey, expiresAfter, markerItemKey, messageNameOfMarker } from '../state/keys';
import { sendNamingTable } from '../state/send-naming-table';

/** How long markers are kept: longer than SQS keeps a message (14 days at most). */
export const DEFAULT_MARKER_RETENTION_SECONDS = 15 * 24 * 3600;

/** What a message's marker says. */
export interface MessageMarker {
  /** `done`: every event handled (succeeded, or handed to the failed handler). `partial`: some still to do. */
  readonly status: 'done' | 'partial';
  /** Events that succeeded or were handed on; not run again. */
  readonly completedIds: ReadonlySet<string>;
  /** Failed attempts per event so far. */
  readonly failures: Readonly<Record<string, number>>;
  /** Goes up by one with every write; absent on a marker written before markers had versions. */
  readonly version?: number;
}

/**
 * Idempotency markers, one item per message (not per event: most of a pipeline's cost is these
 * writes). A message is named by the hash of its event ids, so a redelivered message, or the same
 * events packed the same way by a fetcher that re-sent a page, find the same marker.
 *
 * @example
 * ```ts
 * const markers = new MarkerStore({ tableName: 'sluice-state', client });
 * const found = await markers.getMany('billing', [markerKey(['018f...', '018f...'])]);
 * ```
 */
export class MarkerStore {
  readonly tableName: string;
  private readonly client: DynamoDBClient;
  private readonly send: DynamoDBClient['send'];
  private readonly clock: () => number;
  private readonly retentionSeconds: number;

  constructor(options: {
    tableName: string;
    client?: DynamoDBClient;
    clock?: () => number;
    retentionSeconds?: number;
  }) {
    this.tableName = options.tableName;
    this.client = options.client ?? new DynamoDBClient({});
    this.send = sendNamingTable(this.client, this.tableName, 'state table');
    this.clock = options.clock ?? Date.now;
    this.retentionSeconds = options.retentionSeconds ?? DEFAULT_MARKER_RETENTION_SECONDS;
  }

  /**
   * The markers that exist among `keys`, read consistently. A key DynamoDB leaves unprocessed is read
   * again with backoff and never taken for a missing marker (that would run a handled message again):
   * when it still cannot be read, this throws.
   */
  async getMany(pipeline: string, keys: readonly string[]): Promise<Map<string, MessageMarker>> {
    const found = new Map<string, MessageMarker>();
    const items = await batchGetItems({
      send: this.send,
      tableName: this.tableName,
      keys: [...new Set(keys)].map((key) => markerKeyAttributes(pipeline, key)),
      what: 'idempotency markers',
    });
    for (const item of items) found.set(messageNameOfMarker(pipeline, item.pk?.S ?? ''), parseMarker(item));
    return found;
  }

  /**
   * The write that records a message's marker over the one read before the handler ran (`read`,
   * undefined when there was none). It is refused if the marker changed since: another delivery of
   * the same message (a redelivery, or a fetcher's re-send) recorded progress first. So outputs
   * committed with this write are never committed twice, whether the other delivery finished the
   * message or only part of it.
   */
  markerWrite(pipeline: string, key: string, marker: MessageMarker, read?: MessageMarker): TransactWriteItem {
    const item: Record<string, AttributeValue> = {
      ...markerKeyAttributes(pipeline, key),
      status: { S: marker.status },
      failures: { S: JSON.stringify(marker.failures) },
      version: { N: String((read?.version ?? 0) + 1) },
      updatedAt: { N: String(this.clock()) },
      expiresAt: { N: String(expiresAfter(this.clock(), this.retentionSeconds)) },
    };
    // A done message is skipped whole on redelivery, so its marker needs no list of event ids: leaving
    // it out keeps the write at one write unit instead of about three for a packed message.
    if (marker.status !== 'done' && marker.completedIds.size > 0)
      item.completed = { SS: [...marker.completedIds] };
    const condition: Pick<
      NonNullable<TransactWriteItem['Put']>,
      'ConditionExpression' | 'ExpressionAttributeNames' | 'ExpressionAttributeValues'
    > = !read
      ? { ConditionExpression: 'attribute_not_exists(pk)' }
      : read.version === undefined
        ? {
            ConditionExpression:
              'attribute_exists(pk) AND attribute_not_exists(#version) AND #status <> :done',
            ExpressionAttributeNames: { '#version': 'version', '#status': 'status' },
            ExpressionAttributeValues: { ':done': { S: 'done' } },
          }
        : {
            // A done marker is final: it may have been written over the version read, without a
            // condition, by another delivery that finished the message (see putDone).
            ConditionExpression: '#version = :version AND #status <> :done',
            ExpressionAttributeNames: { '#version': 'version', '#status': 'status' },
            ExpressionAttributeValues: { ':version': { N: String(read.version) }, ':done': { S: 'done' } },
          };
    return { Put: { TableName: this.tableName, Item: item, ...condition } };
  }

  /**
   * Records messages as done, 25 a request, without conditions: for messages whose handling
   * committed no output events, so there is nothing a concurrent delivery could commit twice. A done
   * marker is final, and the conditional writes of {@link markerWrite} refuse to replace one, so
   * writing it over whatever another delivery recorded loses nothing: every event of the message is
   * handled, or handed to the failed handler. Throws when some cannot be written (see
   * `batchPutItems`); none is then taken as recorded.
   */
  async putDone(
    pipeline: string,
    messages: readonly {
      readonly key: string;
      readonly failures: MessageMarker['failures'];
      readonly read?: MessageMarker;
    }[],
  ): Promise<void> {
    await batchPutItems({
      send: this.send,
      tableName: this.tableName,
      items: messages.map(({ key, failures, read }) => {
        const done: MessageMarker = { status: 'done', completedIds: new Set(), failures };
        return this.markerWrite(pipeline, key, done, read).Put?.Item as Record<string, AttributeValue>;
      }),
      what: 'idempotency markers',
    });
  }
}

/**
 * The name of a message: SHA-256 of the pipeline that sent it, its replay epoch, the redrive that
 * sent it back (if one did) and its event ids, sorted. A redelivery or a fetcher's re-send has the
 * same name; a backfill (its own pipeline name), a replay after a seek (a new epoch) or a redrive (a
 * new redrive identity) does not, so it is handled again.
 *
 * @example
 * ```ts
 * markerKey(envelope.events.map((event) => event.id), { pipeline: envelope.pipeline, epoch: envelope.epoch ?? 0 });
 * ```
 */
export function markerKey(
  eventIds: readonly string[],
  sentBy: { readonly pipeline: string; readonly epoch: number; readonly redrive?: string },
): string {
  // Without a redrive the text is what it was before redrives had identities: markers of messages
  // in flight across an upgrade keep their names.
  const redrive = sentBy.redrive === undefined ? '' : `redrive:${sentBy.redrive}#`;
  return createHash('sha256')
    .update(`${sentBy.pipeline}#${sentBy.epoch}#${redrive}${[...eventIds].sort().join(',')}`)
    .digest('base64url');
}

/**
 * The name of the marker of a message, read from its envelope (see {@link markerKey}).
 *
 * @example
 * ```ts
 * const key = markerKeyOf(parseEnvelope(record.body, record.messageId));
 * ```
 */
export function markerKeyOf(envelope: Pick<Envelope, 'pipeline' | 'epoch' | 'redrive' | 'events'>): string {
  return markerKey(
    envelope.events.map((event) => event.id),
    {
      pipeline: envelope.pipeline,
      epoch: envelope.epoch ?? 0,
      ...(envelope.redrive === undefined ? {} : { redrive: envelope.redrive }),
    },
  );
}

function markerKeyAttributes(pipeline: string, key: string): Record<string, AttributeValue> {
  return attributeKey(markerItemKey(pipeline, key));
}

function parseMarker(item: Record<string, AttributeValue>): MessageMarker {
  return {
    status: item.status?.S === 'done' ? 'done' : 'partial',
    completedIds: new Set(item.completed?.SS ?? []),
    failures: JSON.parse(item.failures?.S ?? '{}') as Record<string, number>,
    ...(item.version?.N === undefined ? {} : { version: Number(item.version.N) }),
  };
}
