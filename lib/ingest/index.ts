export {
  INGEST_ENVIRONMENT,
  type IngestEnvironment,
  ingestFromEnvironment,
  readIngestEnvironment,
} from './from-environment';
export { type HttpJsonSourceOptions, httpJsonSource, type JsonRecord } from './http-json-source';
export { type IngestResult, type RunIngestOptions, runIngest } from './run-ingest';
export type { IngestChange, IngestEvent, IngestSource, SourcePage } from './types';
