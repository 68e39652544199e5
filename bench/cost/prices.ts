/**
 * Public on-demand prices in US dollars, as AWS lists them for us-east-1. Change `asOf` with them.
 * Sources: the SQS, DynamoDB and Lambda pricing pages.
 */
export const PRICES = {
  asOf: '2026-11-22',
  /** Standard queues; FIFO queues are $0.50. */
  sqsPerMillionRequests: 0.4,
  /** On-demand write request units. */
  dynamoDbPerMillionWriteUnits: 0.625,
  /** On-demand read request units. */
  dynamoDbPerMillionReadUnits: 0.125,
  /** Invocations; compute (GB-seconds) is priced apart and left out of the framework's overhead. */
  lambdaPerMillionRequests: 0.2,
} as const;

export type Prices = typeof PRICES;
