import { describe, expect, it } from 'vitest';
import { costPerMillionEvents, requestsPer1000Events } from '../../bench/cost/cost-model';
import { PRICES } from '../../bench/cost/prices';
import { billCall, readUnitsFor, sqsRequestsFor, writeUnitsFor } from '../../bench/meter/billing';
import type { OperationCount } from '../../bench/meter/request-meter';

/** A string attribute of exactly `bytes` bytes, under a one-letter name. */
function item(bytes: number, name = 'd') {
  return { [name]: { S: 'x'.repeat(bytes - name.length) } };
}

function count(overrides: Partial<OperationCount>): OperationCount {
  return { calls: 1, errors: 0, sqsRequests: 0, writeUnits: 0, readUnits: 0, payloadBytes: 0, ...overrides };
}

describe('SQS billing', () => {
  it('bills one request per started 64 KB of payload, and at least one', () => {
    expect(sqsRequestsFor(0)).toBe(1);
    expect(sqsRequestsFor(65_536)).toBe(1);
    expect(sqsRequestsFor(65_537)).toBe(2);
    expect(sqsRequestsFor(1_048_576)).toBe(16);
  });

  it('bills a batch send by the sum of its messages and their attributes', () => {
    // Prepare: ten messages of 7,000 bytes (70,000), one with a 10-byte attribute.
    const entries = Array.from({ length: 10 }, (_, index) => ({
      Id: String(index),
      MessageBody: 'x'.repeat(7_000),
    }));
    const withAttribute = {
      ...entries[0],
      MessageAttributes: { abc: { DataType: 'String', StringValue: 'v' } },
    };

    // Act
    const billed = billCall({
      service: 'SQS',
      operation: 'SendMessageBatch',
      input: { Entries: [withAttribute, ...entries.slice(1)] },
    });

    // Assess: 70,000 + 'abc' + 'String' + 'v' = 70,010 bytes, two 64 KB chunks.
    expect(billed).toEqual({ sqsRequests: 2, writeUnits: 0, readUnits: 0, payloadBytes: 70_010 });
  });

  it('bills a receive by the messages that came back, and an empty one as one request', () => {
    const full = billCall({
      service: 'SQS',
      operation: 'ReceiveMessage',
      input: {},
      output: { Messages: Array.from({ length: 10 }, () => ({ Body: 'x'.repeat(60_000) })) },
    });
    const empty = billCall({ service: 'SQS', operation: 'ReceiveMessage', input: {}, output: {} });
    expect(full.sqsRequests).toBe(10); // 600,000 bytes / 65,536 = 9.16, so 10
    expect(empty.sqsRequests).toBe(1);
  });

  it('bills a delete batch as one request', () => {
    expect(
      billCall({ service: 'SQS', operation: 'DeleteMessageBatch', input: { Entries: [] } }).sqsRequests,
    ).toBe(1);
  });
});

describe('DynamoDB billing', () => {
  it('rounds writes up to whole 1 KB units and doubles them in a transaction', () => {
    expect(writeUnitsFor(0)).toBe(1);
    expect(writeUnitsFor(1_024)).toBe(1);
    expect(writeUnitsFor(1_025)).toBe(2);
    expect(writeUnitsFor(1_025, { transactional: true })).toBe(4);
  });

  it('rounds reads up to 4 KB units, halves eventually consistent ones and doubles transactional ones', () => {
    expect(readUnitsFor(0, { consistent: false })).toBe(0.5);
    expect(readUnitsFor(4_096, { consistent: true })).toBe(1);
    expect(readUnitsFor(4_097, { consistent: true })).toBe(2);
    expect(readUnitsFor(4_097, { consistent: false })).toBe(1);
    expect(readUnitsFor(4_097, { consistent: true, transactional: true })).toBe(4);
  });

  it('bills a PutItem by the size of its item: names and values', () => {
    const billed = billCall({ service: 'DynamoDB', operation: 'PutItem', input: { Item: item(2_049) } });
    expect(billed).toEqual({ sqsRequests: 0, writeUnits: 3, readUnits: 0, payloadBytes: 2_049 });
  });

  it('bills a TransactWriteItems at twice the units of each item', () => {
    const billed = billCall({
      service: 'DynamoDB',
      operation: 'TransactWriteItems',
      input: { TransactItems: [{ Put: { Item: item(1_500) } }, { Put: { Item: item(100) } }] },
    });
    expect(billed.writeUnits).toBe(2 * 2 + 2 * 1);
  });

  it('bills a BatchWriteItem per item, each rounded on its own', () => {
    const billed = billCall({
      service: 'DynamoDB',
      operation: 'BatchWriteItem',
      input: {
        RequestItems: {
          t: [
            { PutRequest: { Item: item(1_100) } },
            { PutRequest: { Item: item(10) } },
            { DeleteRequest: { Key: item(20) } },
          ],
        },
      },
    });
    expect(billed.writeUnits).toBe(2 + 1 + 1);
  });

  it('bills a BatchGetItem per requested key, found or not', () => {
    const billed = billCall({
      service: 'DynamoDB',
      operation: 'BatchGetItem',
      input: { RequestItems: { t: { Keys: [item(10), item(10), item(10)], ConsistentRead: true } } },
      output: { Responses: { t: [item(5_000)] } },
    });
    // One found item of 5,000 bytes (2 units) and two keys found empty (1 unit each).
    expect(billed.readUnits).toBe(4);
  });

  it('bills a Query by the total size of what it returned, not per item', () => {
    const items = Array.from({ length: 10 }, () => item(1_000));
    const consistent = billCall({
      service: 'DynamoDB',
      operation: 'Query',
      input: { ConsistentRead: true },
      output: { Items: items },
    });
    const eventual = billCall({
      service: 'DynamoDB',
      operation: 'Query',
      input: {},
      output: { Items: items },
    });
    expect(consistent.readUnits).toBe(3); // 10,000 bytes in 4 KB units
    expect(eventual.readUnits).toBe(1.5);
  });

  it('bills a GetItem that finds nothing at the minimum', () => {
    expect(
      billCall({ service: 'DynamoDB', operation: 'GetItem', input: { ConsistentRead: true }, output: {} })
        .readUnits,
    ).toBe(1);
  });

  it('bills control-plane calls as nothing', () => {
    expect(billCall({ service: 'DynamoDB', operation: 'CreateTable', input: {} })).toEqual({
      sqsRequests: 0,
      writeUnits: 0,
      readUnits: 0,
      payloadBytes: 0,
    });
  });
});

describe('the cost model', () => {
  it('scales billed requests to 1,000 events, by kind and by operation', () => {
    const per1000 = requestsPer1000Events({
      events: 2_000,
      lambdaInvocations: 8,
      counts: {
        'SQS.SendMessageBatch': count({ sqsRequests: 36 }),
        'DynamoDB.Query': count({ readUnits: 300 }),
        'DynamoDB.PutItem': count({ writeUnits: 40 }),
      },
    });
    expect(per1000).toEqual({
      total: 192, // (36 + 300 + 40 + 8) / 2
      sqsRequests: 18,
      dynamoDbWriteUnits: 20,
      dynamoDbReadUnits: 150,
      lambdaInvocations: 4,
      byOperation: { 'SQS.SendMessageBatch': 18, 'DynamoDB.Query': 150, 'DynamoDB.PutItem': 20 },
    });
  });

  it('prices a million events at the dated public prices', () => {
    // Prepare: per event, 1 SQS request, 2 write units, 1 read unit and 0.1 Lambda invocations.
    const usage = {
      events: 1_000,
      lambdaInvocations: 100,
      counts: { x: count({ sqsRequests: 1_000, writeUnits: 2_000, readUnits: 1_000 }) },
    };

    // Act
    const cost = costPerMillionEvents(usage);

    // Assess: $0.40 + 2 × $0.625 + $0.125 + 0.1 × $0.20.
    expect(PRICES.asOf).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(cost.sqs).toBeCloseTo(0.4, 6);
    expect(cost.dynamoDb).toBeCloseTo(1.375, 6);
    expect(cost.lambdaRequests).toBeCloseTo(0.02, 6);
    expect(cost.total).toBeCloseTo(1.795, 6);
  });

  it('fails when there are no events to divide by', () => {
    expect(() => costPerMillionEvents({ events: 0, lambdaInvocations: 0, counts: {} })).toThrow(
      'events must be a positive number (given 0)',
    );
  });
});
