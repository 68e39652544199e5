import { App, Stack, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { EventLog } from './event-log';

// An example deployment: one environment-agnostic stack holding the event log table. It synthesizes
// offline, with no credentials and no context lookups.
const app = new App();
const stack = new Stack(app, 'SluiceExample', {
  description: 'Sluice example: the event log table',
});
new EventLog(stack, 'EventLog');

// cdk-nag 3 runs as a CDK validation plugin (it is no longer an Aspect): synth fails on any AWS
// Solutions finding, error or warning, that has not been acknowledged. Acknowledging takes the place of
// v2's `NagSuppressions`, one rule at a time and with its reason in code:
//   Validations.of(construct).acknowledge({ id: 'AwsSolutions-DDB3', reason: '...' });
// This app needs no acknowledgements.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
