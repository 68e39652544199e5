export {
  type AttachBackfillsOptions,
  type AttachedBackfills,
  attachBackfills,
  LOCAL_BACKFILL_RULE,
} from '../backfill/local';
export {
  assertJavaPresent,
  type RunningDynamoDbLocal,
  type StartDynamoDbLocalOptions,
  startDynamoDbLocal,
} from './dynamodb-local';
export { type EmulatorEndpoints, type RunningEmulators, startEmulators } from './emulators';
export { type LocalEnvironmentCode, LocalEnvironmentError } from './errors';
export { findFreePort } from './free-port';
export {
  DYNAMODB_LOCAL_PACKAGE,
  type DynamoDbLocalFiles,
  defaultCacheDirectory,
  installDynamoDbLocal,
} from './install-dynamodb-local';
export * from './runtime';
export { type RunningSqsEmulator, type StartSqsEmulatorOptions, startSqsEmulator } from './sqs-emulator';
