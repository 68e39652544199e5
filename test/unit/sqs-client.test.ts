import { describe, expect, it } from 'vitest';
import { configuredSqsEndpoint, sqsClientConfig } from '../../lib/sqs/client';

describe('sqsClientConfig', () => {
  it('sends to the configured endpoint, not the queue URL host, when AWS_ENDPOINT_URL_SQS is set', () => {
    const config = sqsClientConfig({}, { AWS_ENDPOINT_URL_SQS: 'http://127.0.0.1:4566' });

    expect(config).toEqual({ useQueueUrlAsEndpoint: false });
  });

  it('does the same for AWS_ENDPOINT_URL and for an endpoint given in the config', () => {
    expect(sqsClientConfig({}, { AWS_ENDPOINT_URL: 'http://127.0.0.1:4566' })).toEqual({
      useQueueUrlAsEndpoint: false,
    });
    expect(sqsClientConfig({ endpoint: 'http://127.0.0.1:1' }, {})).toEqual({
      endpoint: 'http://127.0.0.1:1',
      useQueueUrlAsEndpoint: false,
    });
  });

  it("leaves the SDK's default on AWS, and an explicit choice alone", () => {
    expect(sqsClientConfig({ region: 'eu-west-1' }, {})).toEqual({ region: 'eu-west-1' });
    expect(
      sqsClientConfig({ useQueueUrlAsEndpoint: true }, { AWS_ENDPOINT_URL_SQS: 'http://127.0.0.1:1' }),
    ).toEqual({ useQueueUrlAsEndpoint: true });
  });

  it('ignores endpoint variables when AWS_IGNORE_CONFIGURED_ENDPOINT_URLS is true, as the SDK does', () => {
    expect(
      configuredSqsEndpoint(
        {},
        { AWS_ENDPOINT_URL_SQS: 'http://127.0.0.1:1', AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'true' },
      ),
    ).toBeUndefined();
  });
});
