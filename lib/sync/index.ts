export { ConflictError, LeaseLostError } from '../errors';
export {
  type BatchTimeoutResult,
  type ProcessBatchWithTimeoutOptions,
  processBatchWithTimeout,
} from './batch-timeout';
export {
  DEFAULT_MAX_RETRY_AFTER_MS,
  DEFAULT_SYNC_LEASE_MS,
  SYNC_STATUS,
  type SyncStatus,
  UPSERT_ACTION,
  type UpsertAction,
} from './constants';
export { canonicalJson, computeContentHash } from './content-hash';
export { DynamoDBContentHashStore, type DynamoDBContentHashStoreOptions } from './content-hash-store';
export { DynamoDBSyncStore, type DynamoDBSyncStoreOptions } from './dynamodb-sync-store';
export { HttpStatusError, PaginationError } from './errors';
export { type FetchJsonOptions, fetchJson } from './http';
export { assertRecordKey, assertResourceName } from './keys';
export {
  type CursorPage,
  type PageInfo,
  type PaginateCursorOptions,
  type PaginateOffsetOptions,
  type PaginationContext,
  type PaginationResult,
  paginateCursor,
  paginateOffset,
  type WhenDone,
} from './paginate';
export {
  type SyncRunContext,
  type SyncRunDone,
  type SyncRunSkipped,
  type WithSyncRunOptions,
  withSyncRun,
} from './run';
export type {
  SavedCursor,
  SyncCounts,
  SyncLock,
  SyncNotifier,
  SyncRunRecord,
  SyncRunTracker,
  SyncStateStore,
} from './types';
export { type RecordChange, type UpsertResult, type UpsertWithHashOptions, upsertWithHash } from './upsert';
