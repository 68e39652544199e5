import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';

/** The failures AWS produces that the emulators never do. */
export const FAULT_KINDS = {
  /** A 400 `ThrottlingException`, before the request reaches the service. */
  throttle: 'throttle',
  /** A 503 `ServiceUnavailable`, before the request reaches the service. */
  serverError: 'server-error',
  /**
   * The request reaches the service and is carried out, but its response is lost: a `TimeoutError`.
   * The caller cannot tell whether it happened, as with a socket timeout on AWS.
   */
  timeout: 'timeout',
} as const;
export type FaultKind = (typeof FAULT_KINDS)[keyof typeof FAULT_KINDS];

/**
 * Where a fault is injected.
 *
 * - `per-attempt` (the default): inside the SDK's retry loop (step `finalizeRequest`, below the retry
 *   middleware), as AWS fails a single HTTP request: the SDK's own retryer sees the fault and retries
 *   it with its backoff and retry quota, and the caller sees an error only when those retries run out.
 *   This is how throttling, 5xx and timeouts reach an application on AWS.
 * - `per-call`: outside the SDK's retries (step `initialize`): every chosen call fails as a whole, so the
 *   caller's own retry logic is what gets tested. Harsher than AWS, for testing that logic.
 */
export type FaultPlacement = 'per-attempt' | 'per-call';

/** Which calls of a client fail, and how. */
export interface FaultPlan {
  /** The share of eligible requests that fail, from 0 to 1. */
  readonly rate: number;
  /** Fixes which requests fail: the n-th request of an operation on a client fails or not by the seed alone. */
  readonly seed: number;
  /** @default every kind, chosen per fault by the seed */
  readonly kinds?: readonly FaultKind[];
  /** Services whose clients take faults, by client name without `Client` (`DynamoDB`, `SQS`). @default all */
  readonly services?: readonly string[];
  /** Operations that take faults, by command name (`SendMessageBatchCommand`). @default all */
  readonly operations?: readonly string[];
  /** @default 'per-attempt' */
  readonly placement?: FaultPlacement;
  /** Replaces the seeded choice: a fault when it returns less than `rate`. For tests that share one source. */
  readonly random?: () => number;
}

/** What an injector has done so far. */
export interface FaultCounts {
  /** Eligible requests seen. */
  readonly requests: number;
  readonly injected: number;
  readonly byKind: Readonly<Record<FaultKind, number>>;
  readonly byOperation: Readonly<Record<string, number>>;
}

/** A running injector: its counts, and a switch. */
export interface FaultInjector {
  counts(): FaultCounts;
  /** Faults stop (or start again): for a scenario's clean-up and its final checks. */
  setEnabled(enabled: boolean): void;
}

/**
 * Makes a share of a real SDK client's requests fail as AWS can fail them: throttling, server errors,
 * and timeouts whose request was carried out. Added through the client's own middleware stack (see
 * {@link FaultPlacement} for the step), so the request otherwise goes through the real SDK to the real
 * emulator. Seeded: which request of an operation fails depends on the seed, the client's label, the
 * operation and the request's number, not on how concurrent calls interleave.
 *
 * @example
 * ```ts
 * const sqs = new SQSClient({ endpoint });
 * const faults = injectFaults(sqs, { rate: 0.1, seed: 42, kinds: ['throttle', 'timeout'] }, 'worker');
 * // ... run the scenario ...
 * faults.counts().injected; // how many requests failed
 * ```
 */
export function injectFaults(
  client: DynamoDBClient | SQSClient,
  plan: FaultPlan,
  label = 'client',
): FaultInjector {
  if (!(plan.rate >= 0 && plan.rate <= 1))
    throw new RangeError(`rate must be from 0 to 1 (given ${plan.rate})`);
  const kinds = plan.kinds ?? Object.values(FAULT_KINDS);
  if (kinds.length === 0) throw new RangeError('kinds must name at least one fault kind');
  const placement = plan.placement ?? 'per-attempt';
  const seen = new Map<string, number>();
  const byKind: Record<FaultKind, number> = { throttle: 0, 'server-error': 0, timeout: 0 };
  const byOperation: Record<string, number> = {};
  let requests = 0;
  let injected = 0;
  let enabled = true;

  const fail = async <T>(operation: string, service: string, send: () => Promise<T>): Promise<T> => {
    const eligible =
      enabled &&
      (!plan.services || plan.services.includes(service)) &&
      (!plan.operations || plan.operations.includes(operation));
    if (!eligible) return send();
    requests += 1;
    const index = seen.get(operation) ?? 0;
    seen.set(operation, index + 1);
    const draw = plan.random ? plan.random() : unitHash(`${plan.seed}:${label}:${operation}:${index}`);
    if (draw >= plan.rate) return send();
    const kind =
      kinds[Math.floor(unitHash(`${plan.seed}:${label}:${operation}:${index}:kind`) * kinds.length)];
    injected += 1;
    byKind[kind as FaultKind] += 1;
    byOperation[operation] = (byOperation[operation] ?? 0) + 1;
    if (kind === FAULT_KINDS.timeout) {
      await send();
      throw faultError('TimeoutError', `${operation}: the response was lost (injected timeout)`, {
        $metadata: { attempts: 1, totalRetryDelay: 0 },
      });
    }
    if (kind === FAULT_KINDS.serverError)
      throw faultError('ServiceUnavailable', `${operation}: service unavailable (injected)`, {
        $fault: 'server',
        $metadata: { httpStatusCode: 503, attempts: 1, totalRetryDelay: 0 },
      });
    throw faultError('ThrottlingException', `${operation}: rate exceeded (injected)`, {
      $fault: 'client',
      $metadata: { httpStatusCode: 400, attempts: 1, totalRetryDelay: 0 },
      $retryable: { throttling: true },
    });
  };
  const stack = (client as DynamoDBClient).middlewareStack;
  const name = `injectFaults-${label}`;
  const serviceOf = (clientName: string | undefined) => (clientName ?? '').replace(/Client$/, '');
  if (placement === 'per-attempt') {
    stack.add(
      (next, context) => (args) =>
        fail(context.commandName ?? 'unknown', serviceOf(context.clientName), () => next(args)),
      { step: 'finalizeRequest', priority: 'low', name, override: true },
    );
  } else {
    stack.add(
      (next, context) => (args) =>
        fail(context.commandName ?? 'unknown', serviceOf(context.clientName), () => next(args)),
      { step: 'initialize', name, override: true },
    );
  }
  return {
    counts: () => ({ requests, injected, byKind: { ...byKind }, byOperation: { ...byOperation } }),
    setEnabled: (value) => {
      enabled = value;
    },
  };
}

/**
 * Makes a share of a client's calls fail with a throttling error before they are sent, as AWS does
 * under load, which the emulators never do. Outside the SDK's retries, so the caller's retry logic is
 * what gets tested. Seeded: the same seed fails the same calls.
 */
export function throttleSomeCalls(
  client: DynamoDBClient | SQSClient,
  options: { rate: number; random: () => number; commands?: readonly string[] },
): { readonly injected: () => number } {
  const injector = injectFaults(
    client,
    {
      rate: options.rate,
      seed: 0,
      random: options.random,
      kinds: [FAULT_KINDS.throttle],
      placement: 'per-call',
      ...(options.commands ? { operations: options.commands } : {}),
    },
    'throttle',
  );
  return { injected: () => injector.counts().injected };
}

function faultError(name: string, message: string, fields: Record<string, unknown>): Error {
  return Object.assign(new Error(message), { name, ...fields });
}

/** A number in [0, 1) from a string: FNV-1a, then a final mix. */
function unitHash(text: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index += 1) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return (hash >>> 0) / 4_294_967_296;
}
