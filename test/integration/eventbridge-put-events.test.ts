import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKFILL_EVENTS, eventBridgePutEvents } from '../../lib/backfill';

// There is no EventBridge emulator here, so a loopback server speaks EventBridge's JSON protocol: the
// real SDK client serializes the request and parses the answer, and the server answers as EventBridge
// does, with 200 and an entry result for each event, refusing those the test chooses.

interface PutEventsRequest {
  Entries: { EventBusName: string; Source: string; DetailType: string; Detail: string }[];
}

let server: Server;
let client: EventBridgeClient;
const received: PutEventsRequest[] = [];
/** Detail types the server refuses, as EventBridge does: in the entry results, not the status. */
const refusedTypes = new Set<string>();

beforeAll(async () => {
  server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => {
      body += chunk;
    });
    request.on('end', () => {
      const parsed = JSON.parse(body) as PutEventsRequest;
      received.push(parsed);
      const entries = parsed.Entries.map((entry, index) =>
        refusedTypes.has(entry.DetailType)
          ? { ErrorCode: 'InternalFailure', ErrorMessage: 'try again' }
          : { EventId: `event-${index}` },
      );
      response.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
      response.end(
        JSON.stringify({
          Entries: entries,
          FailedEntryCount: entries.filter((e) => 'ErrorCode' in e).length,
        }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  client = new EventBridgeClient({
    endpoint: `http://127.0.0.1:${port}`,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
});
afterAll(async () => {
  client?.destroy();
  await new Promise((resolve) => server?.close(resolve));
});

const completed = {
  source: BACKFILL_EVENTS.source,
  detailType: BACKFILL_EVENTS.completed,
  detail: { pipeline: 'billing', backfillId: 'b1', eventsSent: 3 },
};

describe('eventBridgePutEvents', () => {
  it('puts each event on the named bus with its source, detail type and JSON detail', async () => {
    // Prepare
    received.length = 0;
    const putEvents = eventBridgePutEvents(client, 'sluice-bus');

    // Act
    await putEvents([completed]);

    // Assess
    expect(received).toEqual([
      {
        Entries: [
          {
            EventBusName: 'sluice-bus',
            Source: 'sluice',
            DetailType: 'Backfill Completed',
            Detail: JSON.stringify(completed.detail),
          },
        ],
      },
    ]);
  });

  it('throws when EventBridge refuses an entry though it answers 200, naming the code', async () => {
    // Prepare
    refusedTypes.add('Backfill Completed');
    const putEvents = eventBridgePutEvents(client, 'sluice-bus');

    // Act
    const attempt = putEvents([completed]);

    // Assess
    await expect(attempt).rejects.toThrow(
      'EventBridge bus sluice-bus refused 1 of 1 events: "Backfill Completed": InternalFailure try again',
    );
    refusedTypes.clear();
  });

  it('sends nothing for no events', async () => {
    received.length = 0;
    await eventBridgePutEvents(client, 'sluice-bus')([]);
    expect(received).toEqual([]);
  });
});
