import { describe, expect, it } from 'vitest';
import { endpointError } from '../../cli/errors';
import { renderTable } from '../../cli/format';

describe('renderTable', () => {
  it('wraps columns that do not fit into further tables, repeating the first column', () => {
    // Prepare
    const head = ['Pipeline', 'Alpha', 'Beta', 'Gamma'];
    const rows = [['billing', 'a'.repeat(30), 'b'.repeat(30), 'c'.repeat(30)]];

    // Act
    const text = renderTable(head, rows, 60);

    // Assess
    const lines = text.split('\n');
    expect(Math.max(...lines.map((line) => line.length))).toBeLessThanOrEqual(60);
    expect(lines.filter((line) => line.includes('Pipeline'))).toHaveLength(3);
    for (const cell of rows[0] ?? []) expect(text).toContain(cell);
  });

  it('keeps one table when the columns fit', () => {
    const text = renderTable(['Pipeline', 'Lag'], [['billing', '3s']]);

    expect(text.split('\n').filter((line) => line.includes('Pipeline'))).toHaveLength(1);
  });
});

describe('endpointError', () => {
  it('names the service, the endpoint and the call when the endpoint cannot be reached', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' });

    const error = endpointError('SQS', 'http://127.0.0.1:9', 'GetQueueAttributes', refused);

    expect(error?.message).toMatch(
      /^SQS at http:\/\/127\.0\.0\.1:9 cannot be reached \(GetQueueAttributes: ECONNREFUSED\): is `sluice dev` running/,
    );
    expect(error?.cause).toBe(refused);
  });

  it('leaves an error the service answered with alone: it names its problem', () => {
    const answered = Object.assign(new Error('Requested resource not found'), {
      name: 'ResourceNotFoundException',
      $metadata: { httpStatusCode: 400 },
    });

    expect(endpointError('DynamoDB', 'http://127.0.0.1:8000', 'Query', answered)).toBeUndefined();
  });
});
