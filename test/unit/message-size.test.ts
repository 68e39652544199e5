import type { MessageAttributeValue } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../lib/errors';
import { billedRequestsFor, MAX_MESSAGE_BYTES, messagePayloadBytes } from '../../lib/sqs';

const stringAttribute = (value: string, dataType = 'String'): MessageAttributeValue => ({
  DataType: dataType,
  StringValue: value,
});

describe('messagePayloadBytes', () => {
  it('counts the body in UTF-8 bytes, not characters', () => {
    // Prepare
    const bodies = { ascii: 'hello', twoByte: 'é', threeByte: '€', fourByte: '😀', mixed: 'añ€😀' };

    // Act
    const sizes = Object.fromEntries(
      Object.entries(bodies).map(([name, body]) => [name, messagePayloadBytes({ body })]),
    );

    // Assess
    expect(sizes).toEqual({ ascii: 5, twoByte: 2, threeByte: 3, fourByte: 4, mixed: 10 });
  });

  it('adds every attribute’s name, data type and value', () => {
    // Prepare
    const attributes = {
      trace: stringAttribute('abc'),
      count: stringAttribute('42', 'Number.int'),
      blob: { DataType: 'Binary', BinaryValue: new Uint8Array(10) },
      ünï: stringAttribute('€'),
    };

    // Act
    const size = messagePayloadBytes({ body: '{}', attributes });

    // Assess
    expect(size).toBe(2 + (5 + 6 + 3) + (5 + 10 + 2) + (4 + 6 + 10) + (5 + 6 + 3));
  });

  it('counts a message exactly at the limit as at the limit', () => {
    // Prepare
    const attributes = { trace: stringAttribute('abc') };
    const body = 'é'.repeat((MAX_MESSAGE_BYTES - 14) / 2);

    // Act
    const size = messagePayloadBytes({ body, attributes });

    // Assess
    expect(size).toBe(MAX_MESSAGE_BYTES);
  });

  it('fails when the body is not a string', () => {
    // Act
    const measure = () => messagePayloadBytes({ body: 42 as unknown as string });

    // Assess
    expect(measure).toThrow(ValidationError);
    expect(measure).toThrow(/message body must be a string \(given 42\)/);
  });
});

describe('billedRequestsFor', () => {
  it('bills one request for every started 64 KiB, and at least one', () => {
    // Prepare
    const payloads = [0, 1, 65_535, 65_536, 65_537, 131_072, 131_073, 300_000, 1_048_576];

    // Act
    const billed = payloads.map(billedRequestsFor);

    // Assess
    expect(billed).toEqual([1, 1, 1, 1, 2, 2, 3, 5, 16]);
  });

  it.each([-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])(
    'fails when payloadBytes is %s',
    (payloadBytes) => {
      // Act
      const bill = () => billedRequestsFor(payloadBytes);

      // Assess
      expect(bill).toThrow(ValidationError);
      expect(bill).toThrow(/payloadBytes must be a whole number of bytes, 0 or more/);
    },
  );
});
