import { describe, expect, it } from 'vitest';
import {
  endToEndCost,
  mergeCounts,
  splitEventSourceCalls,
  storageCostRun,
  writeUnitsPerEvent,
} from '../../bench/cost/end-to-end';
import { PRICES } from '../../bench/cost/prices';
import type { OperationCount } from '../../bench/meter/request-meter';

function count(overrides: Partial<OperationCount>): OperationCount {
  return { calls: 1, errors: 0, sqsRequests: 0, writeUnits: 0, readUnits: 0, payloadBytes: 0, ...overrides };
}

describe('end-to-end cost', () => {
  it('adds the counts of several meters operation by operation', () => {
    // Act
    const merged = mergeCounts(
      { 'DynamoDB.PutItem': count({ writeUnits: 2 }) },
      {
        'DynamoDB.PutItem': count({ writeUnits: 3, errors: 1 }),
        'SQS.SendMessage': count({ sqsRequests: 1 }),
      },
    );

    // Assess
    expect(merged['DynamoDB.PutItem']).toEqual(count({ calls: 2, errors: 1, writeUnits: 5 }));
    expect(merged['SQS.SendMessage']).toEqual(count({ sqsRequests: 1 }));
  });

  it("splits the event source's receives and deletes from the fetcher's calls", () => {
    // Act
    const { pump, eventSource } = splitEventSourceCalls({
      'DynamoDB.Query': count({ readUnits: 10 }),
      'SQS.SendMessageBatch': count({ sqsRequests: 2 }),
      'SQS.ReceiveMessage': count({ sqsRequests: 3 }),
      'SQS.DeleteMessageBatch': count({ sqsRequests: 1 }),
    });

    // Assess
    expect(Object.keys(pump).sort()).toEqual(['DynamoDB.Query', 'SQS.SendMessageBatch']);
    expect(Object.keys(eventSource).sort()).toEqual(['SQS.DeleteMessageBatch', 'SQS.ReceiveMessage']);
  });

  it('counts write units per event over every write of the producer', () => {
    expect(
      writeUnitsPerEvent(100, {
        'DynamoDB.TransactWriteItems': count({ writeUnits: 400 }),
        'DynamoDB.PutItem': count({ writeUnits: 1 }),
      }),
    ).toBe(4.01);
  });

  it('prices write, pump and handle per million events, and adds them up', () => {
    // Prepare: 1,000 events; 4 write units each; the pump 300 read units, 20 SQS requests and a run;
    // the handling 25 SQS requests, 20 write units and 10 invocations.
    const usage = {
      events: 1_000,
      write: { 'DynamoDB.TransactWriteItems': count({ writeUnits: 4_000 }) },
      pump: {
        'DynamoDB.Query': count({ readUnits: 300 }),
        'SQS.SendMessageBatch': count({ sqsRequests: 20 }),
      },
      pumpInvocations: 1,
      handle: {
        'SQS.ReceiveMessage': count({ sqsRequests: 25 }),
        'DynamoDB.PutItem': count({ writeUnits: 20 }),
      },
      handleInvocations: 10,
    };

    // Act
    const cost = endToEndCost(usage);

    // Assess: a price per million units times units per event is dollars per million events.
    expect(cost.write).toBeCloseTo(4 * PRICES.dynamoDbPerMillionWriteUnits, 6);
    expect(cost.pump).toBeCloseTo(
      0.3 * PRICES.dynamoDbPerMillionReadUnits +
        0.02 * PRICES.sqsPerMillionRequests +
        0.001 * PRICES.lambdaPerMillionRequests,
      6,
    );
    expect(cost.handle).toBeCloseTo(
      0.025 * PRICES.sqsPerMillionRequests +
        0.02 * PRICES.dynamoDbPerMillionWriteUnits +
        0.01 * PRICES.lambdaPerMillionRequests,
      6,
    );
    expect(cost.total).toBeCloseTo(cost.write + cost.pump + cost.handle, 6);

    // Act: the run's figures per 1,000 events
    const run = storageCostRun(usage, { logReadUnits: 290, elapsedMs: 500 });

    // Assess
    expect(run.writeUnitsPerEvent).toBe(4);
    expect(run.logReadUnitsPer1000Events).toBe(290);
    expect(run.sqsRequestsPer1000Events).toBe(45);
    expect(run.eventsPerSecond).toBe(2_000);
    expect(run.usdPerMillionEventsEndToEnd).toEqual(cost);
  });

  it('fails when there are no events', () => {
    expect(() => writeUnitsPerEvent(0, {})).toThrow(/positive number \(given 0\)/);
  });
});
