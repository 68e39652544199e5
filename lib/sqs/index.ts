export {
  MAX_BATCH_ENTRIES,
  MAX_BATCH_PAYLOAD_BYTES,
  MAX_DELAY_SECONDS,
  MAX_MESSAGE_ATTRIBUTES,
  MAX_MESSAGE_BYTES,
  SEND_DEFAULTS,
  SQS_BILLING_CHUNK_BYTES,
} from './constants';
export { type SendFailureReason, SendMessagesError } from './errors';
export { billedRequestsFor, type MessagePayload, messagePayloadBytes } from './message-size';
export {
  type OutgoingMessage,
  type SendFailure,
  type SendMessageBatchesOptions,
  type SendMessageBatchesResult,
  sendMessageBatches,
} from './send-message-batches';
