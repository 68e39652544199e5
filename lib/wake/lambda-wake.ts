import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { WAKE_EVENT_SOURCE, type WakeEvent, type WakeRoute, WOKEN_RUN_UNTIL_IDLE_MS } from './wake-routes';

/**
 * Wakes a route's fetcher function on AWS: an asynchronous invocation (`InvocationType: 'Event'`,
 * which Lambda queues and retries), with a {@link WakeEvent} that tells the run to leave once idle,
 * and once it has read through `readThrough` (the newest id the waker saw) when one is given.
 *
 * @example
 * ```ts
 * const waker = new Waker({ routes, wake: lambdaWake(new LambdaClient({})) });
 * ```
 */
export function lambdaWake(
  client: LambdaClient,
): (route: Pick<WakeRoute, 'pipeline' | 'target' | 'untilIdleMs'>, readThrough?: string) => Promise<void> {
  return async (route, readThrough) => {
    const event: WakeEvent = {
      source: WAKE_EVENT_SOURCE,
      pipeline: route.pipeline,
      untilIdleMs: route.untilIdleMs,
      ...(readThrough === undefined ? {} : { readThrough }),
    };
    await client.send(
      new InvokeCommand({
        FunctionName: route.target,
        InvocationType: 'Event',
        Payload: new TextEncoder().encode(JSON.stringify(event)),
      }),
    );
  };
}

/**
 * A fetcher function's `handOff` (see `FetcherOptions.handOff`): it invokes itself asynchronously,
 * as the waker would, to read through the events a run had to leave.
 *
 * @example
 * ```ts
 * const handOff = lambdaHandOff(new LambdaClient({}), process.env.AWS_LAMBDA_FUNCTION_NAME);
 * ```
 */
export function lambdaHandOff(
  client: LambdaClient,
  functionName: string,
): (pipeline: string, readThrough: string) => Promise<void> {
  const wake = lambdaWake(client);
  return (pipeline, readThrough) =>
    wake({ pipeline, target: functionName, untilIdleMs: WOKEN_RUN_UNTIL_IDLE_MS }, readThrough);
}
