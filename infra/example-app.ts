import { fileURLToPath } from 'node:url';
import { App, type AppProps, Aspects, CfnOutput, Stack, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { EventLog } from './event-log';
import { EventPipeline } from './event-pipeline';
import { SluiceGuardrails } from './guardrails';

/** The worker of the example pipeline: the demo's handler. */
export const EXAMPLE_WORKER_ENTRY = fileURLToPath(
  new URL('../examples/handlers/orders-worker.ts', import.meta.url),
);

/**
 * The example deployment: the event log and one pipeline, `orders`, whose worker is the demo's
 * handler, with the guardrails and cdk-nag's AwsSolutions checks on. It synthesizes offline, with
 * no credentials and no lookups.
 *
 * @example
 * ```ts
 * const { app } = exampleApp();
 * app.synth();
 * ```
 */
export function exampleApp(props: AppProps = {}): { app: App; stack: Stack; pipeline: EventPipeline } {
  const app = new App(props);
  const stack = new Stack(app, 'SluiceExample', {
    description: 'Sluice example: an event log and the orders pipeline',
  });
  const eventLog = new EventLog(stack, 'EventLog');
  const pipeline = new EventPipeline(stack, 'Orders', {
    pipelineName: 'orders',
    eventLog,
    stream: 'orders',
    eventTypes: ['order.placed'],
    entry: EXAMPLE_WORKER_ENTRY,
    outputStreams: ['invoices'],
    maxConcurrency: 10,
  });
  new CfnOutput(stack, 'EventLogTable', { value: eventLog.table.tableName });
  new CfnOutput(stack, 'StateTable', { value: pipeline.stateTable.table.tableName });
  new CfnOutput(stack, 'QueueUrl', { value: pipeline.queue.queueUrl });
  new CfnOutput(stack, 'DeadLetterQueueUrl', { value: pipeline.deadLetterQueue.queueUrl });
  new CfnOutput(stack, 'EventBusName', { value: pipeline.eventBus.eventBusName });
  new CfnOutput(stack, 'Dashboard', { value: pipeline.dashboard.dashboardName });

  // Unsafe queue and event-source settings anywhere in the app fail the synth.
  Aspects.of(app).add(new SluiceGuardrails());

  // cdk-nag 3 runs as a CDK validation plugin (it is no longer an Aspect): synth fails on any AWS
  // Solutions finding, error or warning, that has not been acknowledged. Acknowledging takes the
  // place of v2's `NagSuppressions`, one rule at a time and with its reason in code:
  //   Validations.of(construct).acknowledge({ id: 'AwsSolutions-DDB3', reason: '...' });
  // This app needs no acknowledgements.
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  return { app, stack, pipeline };
}
