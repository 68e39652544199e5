export {
  DEFAULT_DRAIN_TIMEOUT_SECONDS,
  MAX_RESERVE_EVENTS,
  MAX_RETRY_AFTER_SECONDS,
  PULL_CONSUMER_DEFAULTS,
  PULL_CONSUMER_LIMITS,
} from './constants';
export { ConsumerError } from './errors';
export { validatePullConsumerOptions } from './options';
export { PullConsumer } from './pull-consumer';
export type {
  ConsumerLogger,
  ConsumerStats,
  FailOptions,
  FinallyFailedHandler,
  PullConsumerOptions,
  ReservedEvent,
  StopOptions,
  StopResult,
} from './types';
