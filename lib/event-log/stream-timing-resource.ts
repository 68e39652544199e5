import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ConflictError, describe } from '../errors';
import { NAME_PATTERN } from './names';
import { loadStreamTiming, streamTimingProblems } from './stream-timing';

// The deploy-time resource of `EventLog.declareStreamTiming` (in `infra/`): a CloudFormation custom
// resource, answered by a function of the log, that stores a stream's timing before its first commit.

/** The part of a CloudFormation custom resource request that the stream-timing resource reads. */
export interface StreamTimingResourceRequest {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  readonly ResponseURL: string;
  readonly StackId: string;
  readonly RequestId: string;
  readonly LogicalResourceId: string;
  readonly PhysicalResourceId?: string;
  /** As CloudFormation passes them: every value a string. */
  readonly ResourceProperties: Readonly<Record<string, unknown>>;
}

/** The properties the resource is declared with (`infra/event-log.ts` writes them). */
export const STREAM_TIMING_PROPERTIES = {
  tableName: 'TableName',
  stream: 'Stream',
  settleWindowMs: 'SettleWindowMs',
  commitDeadlineMs: 'CommitDeadlineMs',
} as const;

/** What the resource answered. */
export interface StreamTimingResourceOutcome {
  readonly status: 'SUCCESS' | 'FAILED';
  readonly reason?: string;
}

/**
 * Answers a stream-timing request: on create and update, stores the declared timing with the stream
 * unless it has one, and fails, naming both, when the stream's stored timing differs (a stream's
 * timing cannot be changed in place); on delete, leaves the timing with the stream's events. The
 * answer always goes to `ResponseURL`, as CloudFormation waits for it, even when the request is
 * malformed or DynamoDB fails.
 *
 * @example
 * ```ts
 * export const handler = (request: StreamTimingResourceRequest) => answerStreamTimingRequest(request, client);
 * ```
 */
export async function answerStreamTimingRequest(
  request: StreamTimingResourceRequest,
  client: DynamoDBClient,
  put: typeof fetch = fetch,
): Promise<StreamTimingResourceOutcome> {
  const outcome = await storeDeclaredTiming(request, client).catch(
    (error: unknown): StreamTimingResourceOutcome => ({
      status: 'FAILED',
      reason: error instanceof Error ? error.message : String(error),
    }),
  );
  const stream = request.ResourceProperties[STREAM_TIMING_PROPERTIES.stream];
  const body = JSON.stringify({
    Status: outcome.status,
    Reason: outcome.reason ?? 'stored',
    PhysicalResourceId: request.PhysicalResourceId ?? `stream-timing-${String(stream)}`,
    StackId: request.StackId,
    RequestId: request.RequestId,
    LogicalResourceId: request.LogicalResourceId,
  });
  const response = await put(request.ResponseURL, {
    method: 'PUT',
    // The pre-signed URL is signed without a content type.
    headers: { 'content-type': '', 'content-length': String(Buffer.byteLength(body)) },
    body,
  });
  if (!response.ok) throw new Error(`CloudFormation refused the answer: HTTP ${response.status}`);
  return outcome;
}

async function storeDeclaredTiming(
  request: StreamTimingResourceRequest,
  client: DynamoDBClient,
): Promise<StreamTimingResourceOutcome> {
  if (request.RequestType === 'Delete') return { status: 'SUCCESS' };
  const properties = request.ResourceProperties;
  const tableName = properties[STREAM_TIMING_PROPERTIES.tableName];
  const stream = properties[STREAM_TIMING_PROPERTIES.stream];
  const declared = {
    settleWindowMs: Number(properties[STREAM_TIMING_PROPERTIES.settleWindowMs]),
    commitDeadlineMs: Number(properties[STREAM_TIMING_PROPERTIES.commitDeadlineMs]),
  };
  const problems = [
    ...(typeof tableName === 'string' && tableName !== ''
      ? []
      : [`TableName must be a table name (given ${describe(tableName)})`]),
    ...(typeof stream === 'string' && NAME_PATTERN.test(stream)
      ? []
      : [`Stream must be a stream name (given ${describe(stream)})`]),
    ...streamTimingProblems('', declared),
  ];
  if (problems.length > 0)
    return { status: 'FAILED', reason: `invalid stream timing: ${problems.join('; ')}` };
  try {
    await loadStreamTiming(client, tableName as string, stream as string, declared);
  } catch (error) {
    if (!(error instanceof ConflictError)) throw error;
    return {
      status: 'FAILED',
      reason: `a stream's timing cannot be changed in place, and ${error.message}`,
    };
  }
  return { status: 'SUCCESS' };
}
