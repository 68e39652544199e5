import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { WAKE_EVENT_SOURCE, type WakeEvent, type WakeRoute } from './wake-routes';

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
export function lambdaWake(client: LambdaClient): (route: WakeRoute, readThrough?: string) => Promise<void> {
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
