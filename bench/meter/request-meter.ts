import { type BilledCall, billCall } from './billing';

/** The totals of one operation of one service. */
export interface OperationCount {
  /** Calls sent, each retry by the SDK counted again (AWS bills each). */
  calls: number;
  /** Calls that came back with an error. */
  errors: number;
  sqsRequests: number;
  writeUnits: number;
  readUnits: number;
  payloadBytes: number;
}

/** Counts by `<service>.<operation>`, such as `SQS.SendMessageBatch`. */
export type RequestCounts = Record<string, OperationCount>;

/** DynamoDB request units billed against one table. */
export interface TableUnits {
  readUnits: number;
  writeUnits: number;
}

const MIDDLEWARE_NAME = 'requestMeter';

/**
 * Counts every AWS call a client sends, by service and operation, with its payload size and what AWS
 * bills for it (see `billCall`). Attach it to as many clients as you like; each HTTP attempt is
 * counted, so SDK retries show, as they do on the bill.
 *
 * It sits in the `deserialize` step, inside the SDK's retry loop, and reads the parsed output, so a
 * receive is billed by the messages that came back and a query by the items it returned.
 *
 * @example
 * ```ts
 * const meter = new RequestMeter();
 * meter.attach(sqs);
 * meter.attach(dynamodb);
 * await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'hello' }));
 * meter.counts()['SQS.SendMessage']; // { calls: 1, errors: 0, sqsRequests: 1, ... }
 * ```
 */
export class RequestMeter {
  private readonly totals: RequestCounts = {};
  private readonly tables: Record<string, TableUnits> = {};
  private paused = false;

  /** Adds the meter to a client's middleware stack. Attaching twice to one client counts once. */
  attach<TClient extends { middlewareStack: unknown }>(client: TClient): TClient {
    const stack = (client as unknown as { middlewareStack: MiddlewareStack }).middlewareStack;
    stack.add(
      (next, context) => async (args) => {
        const service = serviceName(context.clientName);
        const operation = (context.commandName ?? 'Unknown').replace(/Command$/, '');
        try {
          const result = await next(args);
          this.record({ service, operation, input: args.input, output: result.output }, false);
          return result;
        } catch (error) {
          // A failed call still costs a request (and a failed conditional write its units).
          this.record({ service, operation, input: args.input }, true);
          throw error;
        }
      },
      { step: 'deserialize', priority: 'high', name: MIDDLEWARE_NAME, override: true },
    );
    return client;
  }

  /** Stops counting until `resume()`: for set-up and checks that are not the system's own work. */
  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
  }

  /** A copy of the counts so far. */
  counts(): RequestCounts {
    return structuredClone(this.totals);
  }

  /**
   * DynamoDB request units by table name, so far. A batch call that spans tables is counted under
   * their names joined by `+`.
   */
  unitsByTable(): Record<string, TableUnits> {
    return structuredClone(this.tables);
  }

  /** Forgets every count. */
  reset(): void {
    for (const key of Object.keys(this.totals)) delete this.totals[key];
    for (const key of Object.keys(this.tables)) delete this.tables[key];
  }

  private record(call: Parameters<typeof billCall>[0], failed: boolean): void {
    if (this.paused) return;
    const billed: BilledCall = billCall(call);
    const key = `${call.service}.${call.operation}`;
    const total = this.totals[key] ?? emptyCount();
    this.totals[key] = total;
    total.calls += 1;
    if (failed) total.errors += 1;
    total.sqsRequests += billed.sqsRequests;
    total.writeUnits += billed.writeUnits;
    total.readUnits += billed.readUnits;
    total.payloadBytes += billed.payloadBytes;
    if (billed.readUnits > 0 || billed.writeUnits > 0) {
      const table = tableOf(call.input);
      const units = this.tables[table] ?? { readUnits: 0, writeUnits: 0 };
      this.tables[table] = units;
      units.readUnits += billed.readUnits;
      units.writeUnits += billed.writeUnits;
    }
  }
}

/** The table a DynamoDB call names: its `TableName`, or those of its batch or transaction. */
export function tableOf(input: unknown): string {
  const request = (input ?? {}) as {
    TableName?: string;
    RequestItems?: Record<string, unknown>;
    TransactItems?: Record<string, { TableName?: string } | undefined>[];
  };
  if (request.TableName) return request.TableName;
  const names = new Set<string>(Object.keys(request.RequestItems ?? {}));
  for (const item of request.TransactItems ?? [])
    for (const part of Object.values(item)) if (part?.TableName) names.add(part.TableName);
  return names.size === 0 ? 'unknown' : [...names].sort().join('+');
}

function emptyCount(): OperationCount {
  return { calls: 0, errors: 0, sqsRequests: 0, writeUnits: 0, readUnits: 0, payloadBytes: 0 };
}

interface MiddlewareStack {
  add(
    middleware: (
      next: (args: { input: unknown }) => Promise<{ output: unknown }>,
      context: { clientName?: string; commandName?: string },
    ) => (args: { input: unknown }) => Promise<{ output: unknown }>,
    options: { step: 'deserialize'; priority: 'high'; name: string; override: boolean },
  ): void;
}

function serviceName(clientName: string | undefined): string {
  if (clientName === 'SQSClient') return 'SQS';
  if (clientName === 'DynamoDBClient') return 'DynamoDB';
  return (clientName ?? 'Unknown').replace(/Client$/, '');
}
