/** How long a sync lock lasts unless renewed (every cursor save renews it), in milliseconds. */
export const DEFAULT_SYNC_LEASE_MS = 5 * 60_000;
/** The least and most a sync lock may last, in milliseconds. */
export const SYNC_LEASE_RANGE = { min: 1_000, max: 3_600_000 } as const;
/** How long run records are kept (DynamoDB TTL on `expiresAt`), in seconds. */
export const SYNC_RUN_RETENTION_SECONDS = 30 * 24 * 3600;
/** The longest a server's `Retry-After` may make an HTTP fetch wait, by default, in milliseconds. */
export const DEFAULT_MAX_RETRY_AFTER_MS = 60_000;
/** The longest record key the content-hash store takes, in bytes (DynamoDB keys hold 2,048). */
export const MAX_RECORD_KEY_BYTES = 1_024;
/** The rule for sync resource names: they go into DynamoDB keys, which use `#` as a separator. */
export const RESOURCE_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
export const RESOURCE_NAME_RULE =
  '1 to 128 letters, digits, dots, colons, underscores or hyphens, starting with a letter or digit';

/** Whether a sync run got through all its work, or stopped at its time budget with a cursor saved. */
export const SYNC_STATUS = { complete: 'complete', partial: 'partial' } as const;
export type SyncStatus = (typeof SYNC_STATUS)[keyof typeof SYNC_STATUS];

/** What `upsertWithHash` did with a record. */
export const UPSERT_ACTION = { created: 'created', updated: 'updated', unchanged: 'unchanged' } as const;
export type UpsertAction = (typeof UPSERT_ACTION)[keyof typeof UPSERT_ACTION];
