import { PERMANENT_ERROR_CODES, TRANSIENT_ERROR_CODES } from './constants';
import type { SendFailureReason } from './errors';

const TRANSIENT = new Set<string>(TRANSIENT_ERROR_CODES);
const PERMANENT = new Set<string>(PERMANENT_ERROR_CODES);

interface ErrorShape {
  name?: unknown;
  code?: unknown;
  Code?: unknown;
  message?: unknown;
  $fault?: unknown;
  $retryable?: unknown;
  $metadata?: { httpStatusCode?: unknown };
}

/** The error codes a thrown SDK error carries, under any of the names SDK versions give them. */
function errorCodes(error: unknown): string[] {
  if (typeof error !== 'object' || error === null) return [];
  const shape = error as ErrorShape;
  return [shape.name, shape.code, shape.Code].filter((code): code is string => typeof code === 'string');
}

/**
 * Whether a failed SendMessageBatch call is worth sending again: throttling, a server-side fault or a
 * network error, and not an error that no retry can fix (a missing queue, an invalid parameter).
 */
export function isTransientCallError(error: unknown): boolean {
  const codes = errorCodes(error);
  if (codes.some((code) => PERMANENT.has(code))) return false;
  if (codes.some((code) => TRANSIENT.has(code))) return true;
  if (typeof error !== 'object' || error === null) return false;
  const shape = error as ErrorShape;
  if (shape.$fault === 'server' || shape.$retryable) return true;
  const status = shape.$metadata?.httpStatusCode;
  return typeof status === 'number' && (status >= 500 || status === 429);
}

/** Why a whole SendMessageBatch call failed, as the reason of each of its entries. */
export function callFailureReason(error: unknown): SendFailureReason {
  const shape = (typeof error === 'object' && error !== null ? error : {}) as ErrorShape;
  const code = errorCodes(error).find((candidate) => candidate !== 'Error');
  return {
    code: code ?? 'UnknownError',
    message: typeof shape.message === 'string' && shape.message !== '' ? shape.message : String(error),
    senderFault: shape.$fault === 'client',
  };
}
