/** The parts of a Lambda SQS event record the worker reads. */
export interface SqsRecord {
  readonly messageId: string;
  readonly receiptHandle: string;
  readonly body: string;
  readonly attributes: {
    readonly ApproximateReceiveCount?: string;
    readonly SentTimestamp?: string;
    readonly MessageGroupId?: string;
    readonly [name: string]: string | undefined;
  };
  readonly eventSourceARN?: string;
}

/** A Lambda SQS event. */
export interface SqsEvent {
  readonly Records: readonly SqsRecord[];
}

/**
 * The queue URL of an SQS queue ARN (`arn:aws:sqs:eu-west-1:123456789012:orders` →
 * `https://sqs.eu-west-1.amazonaws.com/123456789012/orders`), or `undefined` if it is not one.
 *
 * @example
 * ```ts
 * queueUrlFromArn(record.eventSourceARN);
 * ```
 */
export function queueUrlFromArn(arn: string | undefined): string | undefined {
  const match = /^arn:(aws[a-z-]*):sqs:([a-z0-9-]+):(\d{12}):(.+)$/.exec(arn ?? '');
  if (!match) return undefined;
  const [, partition, region, account, name] = match;
  const domain = partition === 'aws-cn' ? 'amazonaws.com.cn' : 'amazonaws.com';
  return `https://sqs.${region}.${domain}/${account}/${name}`;
}
