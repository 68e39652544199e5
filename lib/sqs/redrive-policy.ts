import { GetQueueAttributesCommand, GetQueueUrlCommand, type SQSClient } from '@aws-sdk/client-sqs';

// A queue's redrive policy, read once for everyone who needs it: the fetcher (where to set aside an
// event SQS refuses), the pull consumer (whether SQS would move a message before it gives up) and the
// CLI (which dead-letter queue to redrive or report on).

/** What a queue's redrive policy says, as far as Sluice reads it. */
export interface RedrivePolicy {
  /** The ARN of the dead-letter queue, as written in the policy. */
  readonly deadLetterTargetArn?: unknown;
  /** Receives after which SQS moves a message to the dead-letter queue. */
  readonly maxReceiveCount?: number;
}

/**
 * Where a queue's dead letters go: the dead-letter queue's URL, or why none could be found (`kind`
 * `no-policy` when the queue has no redrive policy, `unusable-policy` when it has one that names no
 * queue Sluice can find).
 */
export type DeadLetterQueueLookup =
  | { readonly found: true; readonly url: string }
  | { readonly found: false; readonly kind: 'no-policy' | 'unusable-policy'; readonly reason: string };

/**
 * The redrive policy of a queue, or `undefined` when it has none. A policy that is not JSON is read
 * as an empty one.
 *
 * @example
 * ```ts
 * const policy = await readRedrivePolicy(sqs, queueUrl);
 * policy?.maxReceiveCount; // 11
 * ```
 */
export async function readRedrivePolicy(
  sqs: SQSClient,
  queueUrl: string,
): Promise<RedrivePolicy | undefined> {
  const output = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['RedrivePolicy'] }),
  );
  const text = output.Attributes?.RedrivePolicy;
  if (!text) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return {};
  }
  if (typeof parsed !== 'object' || parsed === null) return {};
  const { deadLetterTargetArn, maxReceiveCount } = parsed as Record<string, unknown>;
  const count = Number(maxReceiveCount);
  return { deadLetterTargetArn, ...(Number.isFinite(count) ? { maxReceiveCount: count } : {}) };
}

/**
 * The dead-letter queue that a queue's redrive policy names, found by its ARN (in any account and
 * region the ARN names), or why there is none.
 *
 * @example
 * ```ts
 * const lookup = await findDeadLetterQueue(sqs, queueUrl);
 * if (lookup.found) console.log(lookup.url); else console.log(lookup.reason);
 * ```
 */
export async function findDeadLetterQueue(sqs: SQSClient, queueUrl: string): Promise<DeadLetterQueueLookup> {
  const policy = await readRedrivePolicy(sqs, queueUrl);
  if (policy === undefined) return { found: false, kind: 'no-policy', reason: 'it has no redrive policy' };
  const arn = String(policy.deadLetterTargetArn ?? '');
  const match = /^arn:[a-z-]+:sqs:[a-z0-9-]+:(\d+):(.+)$/.exec(arn);
  if (!match)
    return {
      found: false,
      kind: 'unusable-policy',
      reason: `its redrive policy names no queue ARN (given ${arn})`,
    };
  const [, account, name] = match;
  const found = await sqs.send(new GetQueueUrlCommand({ QueueName: name, QueueOwnerAWSAccountId: account }));
  if (!found.QueueUrl) return { found: false, kind: 'unusable-policy', reason: `no URL found for ${arn}` };
  return { found: true, url: found.QueueUrl };
}
