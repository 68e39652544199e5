// The failed-event keys live with every other key of the state table, in `lib/state/keys.ts`.
export {
  claimKey,
  dayOf,
  daysNewestFirst,
  failureRecordKey,
  failuresPartition,
  isKeyTime,
  MAX_KEY_TIME_MS,
  malformedPartition,
  malformedRecordKey,
  sortKeyRange,
  type TableKey,
} from '../state/keys';
