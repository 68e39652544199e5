import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../lib/errors';
import { INGEST_ENVIRONMENT, readIngestEnvironment } from '../../lib/ingest';

/** A complete, valid environment, with some variables replaced. */
function environment(overrides: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return {
    [INGEST_ENVIRONMENT.eventLogTable]: 'sluice-events',
    [INGEST_ENVIRONMENT.stateTable]: 'sluice-state',
    [INGEST_ENVIRONMENT.source]: 'crm-customers',
    [INGEST_ENVIRONMENT.url]: 'https://crm.example.com/customers?limit=100',
    [INGEST_ENVIRONMENT.stream]: 'customers',
    [INGEST_ENVIRONMENT.eventType]: 'customer.changed',
    ...overrides,
  };
}

describe('readIngestEnvironment', () => {
  it('reads the required variables and the optional ones given', () => {
    const settings = readIngestEnvironment(
      environment({ SLUICE_INGEST_ITEMS_FIELD: 'data.items', SLUICE_INGEST_LEASE_DURATION_MS: '90000' }),
    );
    expect(settings).toEqual({
      eventLogTable: 'sluice-events',
      stateTable: 'sluice-state',
      source: 'crm-customers',
      url: 'https://crm.example.com/customers?limit=100',
      stream: 'customers',
      eventType: 'customer.changed',
      itemsField: 'data.items',
      leaseDurationMs: 90_000,
    });
  });

  it('fails naming every missing or malformed variable and the value given', () => {
    // Prepare
    const env = environment({
      SLUICE_STATE_TABLE: undefined,
      SLUICE_INGEST_URL: 'ftp://crm.example.com',
      SLUICE_INGEST_STREAM: 'customers#1',
      SLUICE_INGEST_RETRY_PRESET: 'slow',
    });

    // Act
    let error: unknown;
    try {
      readIngestEnvironment(env);
    } catch (caught) {
      error = caught;
    }

    // Assess
    expect(error).toBeInstanceOf(ValidationError);
    const message = (error as Error).message;
    expect(message).toMatch(/SLUICE_STATE_TABLE must be set to a DynamoDB table name/);
    expect(message).toMatch(
      /SLUICE_INGEST_URL must be an http or https URL \(given "ftp:\/\/crm.example.com"\)/,
    );
    expect(message).toMatch(/SLUICE_INGEST_STREAM must be a stream name .* \(given "customers#1"\)/);
    expect(message).toMatch(
      /SLUICE_INGEST_RETRY_PRESET must be one of fast, standard, rateLimit, dns, verification, aws \(given "slow"\)/,
    );
  });
});
