import { Annotations, type IAspect, Stack } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { VISIBILITY_TIMEOUT_FACTOR } from '../lib/settings/visibility';

/** SQS's visibility timeout, and Lambda's timeout, when the template leaves them out. */
const DEFAULT_VISIBILITY_TIMEOUT_SECONDS = 30;
const DEFAULT_FUNCTION_TIMEOUT_SECONDS = 3;

/**
 * An Aspect that fails the synth (an error annotation on the offending construct, which
 * `cdk synth` and `cdk deploy` refuse) for settings that lose or repeat events in a queue-backed
 * worker, anywhere in the app, whoever built the resources:
 *
 * - an SQS event source without `ReportBatchItemFailures` (one failed message retries the batch);
 * - a queue whose visibility timeout is under 6× the timeout of a function it feeds (messages
 *   come back while still being handled);
 * - a queue with no dead-letter queue, unless it is itself one;
 * - a queue with no CloudWatch alarm on any of its metrics.
 *
 * It looks at each stack's resources as they will be deployed (the L1 constructs, rendered to
 * CloudFormation), so it also sees what a higher-level construct set or an override changed, and it
 * finds them by their CloudFormation type rather than their class, so it guards an app whatever
 * copy of aws-cdk-lib the app's constructs come from. Queues or functions from other stacks are not
 * resolved.
 *
 * @example
 * ```ts
 * Aspects.of(app).add(new SluiceGuardrails());
 * ```
 */
export class SluiceGuardrails implements IAspect {
  public visit(node: IConstruct): void {
    if (Stack.isStack(node)) checkStack(node);
  }
}

/** One resource of a stack as CloudFormation will see it: its type, logical id and properties. */
interface DeployedResource {
  readonly construct: IConstruct;
  readonly type: string;
  readonly logicalId: string;
  readonly properties: Record<string, unknown>;
}

/** What every L1 construct (`CfnResource`) has, in whichever copy of aws-cdk-lib it was made. */
interface RenderableResource extends IConstruct {
  readonly cfnResourceType: string;
  _toCloudFormation(): object;
}

/**
 * The resources of a stack, rendered as they will be deployed (property overrides included). They
 * are found by duck typing, never `instanceof`: an app with its own copy of aws-cdk-lib makes
 * constructs whose classes are not this package's, and they must be checked all the same.
 */
function deployedResources(stack: Stack): DeployedResource[] {
  const resources: DeployedResource[] = [];
  for (const construct of stack.node.findAll()) {
    if (!isRenderableResource(construct)) continue;
    const rendered = stack.resolve(construct._toCloudFormation()) as {
      Resources?: Record<string, { Type?: unknown; Properties?: Record<string, unknown> }>;
    };
    for (const [logicalId, resource] of Object.entries(rendered?.Resources ?? {}))
      resources.push({
        construct,
        type: typeof resource.Type === 'string' ? resource.Type : construct.cfnResourceType,
        logicalId,
        properties: resource.Properties ?? {},
      });
  }
  return resources;
}

function isRenderableResource(construct: IConstruct): construct is RenderableResource {
  const candidate = construct as Partial<RenderableResource>;
  return typeof candidate.cfnResourceType === 'string' && typeof candidate._toCloudFormation === 'function';
}

function checkStack(stack: Stack): void {
  const resources = deployedResources(stack);
  const ofType = (type: string) => resources.filter((resource) => resource.type === type);
  const queues = ofType('AWS::SQS::Queue');
  const functions = ofType('AWS::Lambda::Function');
  const alarms = ofType('AWS::CloudWatch::Alarm');
  const mappings = ofType('AWS::Lambda::EventSourceMapping');
  const queueById = new Map(queues.map((queue) => [queue.logicalId, queue]));
  const functionById = new Map(functions.map((fn) => [fn.logicalId, fn]));

  // Each queue named as a dead-letter target in another queue's redrive policy.
  const deadLetterTargets = new Set<string>();
  for (const queue of queues)
    for (const id of referencedIds(queue.properties.RedrivePolicy)) deadLetterTargets.add(id);
  // Everything the alarms refer to, as text: a queue is watched if its logical id appears there.
  const alarmReferences = alarms.map((alarm) =>
    JSON.stringify({ dimensions: alarm.properties.Dimensions, metrics: alarm.properties.Metrics }),
  );

  for (const queue of queues) {
    const path = queue.construct.node.path;
    if (!deadLetterTargets.has(queue.logicalId) && queue.properties.RedrivePolicy === undefined)
      Annotations.of(queue.construct).addError(
        `[SluiceGuardrails] queue ${path} has no dead-letter queue: a message that keeps failing is retried until its retention ends, then dropped. Give it a redrive policy.`,
      );
    if (!alarmReferences.some((text) => text.includes(`"${queue.logicalId}"`)))
      Annotations.of(queue.construct).addError(
        `[SluiceGuardrails] queue ${path} has no CloudWatch alarm: a backlog or dead letters would go unseen. Alarm on its ApproximateAgeOfOldestMessage or ApproximateNumberOfMessagesVisible.`,
      );
  }

  for (const mapping of mappings) {
    const [queueId] = referencedIds(mapping.properties.EventSourceArn);
    const queue = queueId === undefined ? undefined : queueById.get(queueId);
    if (!queue) continue; // not an SQS queue of this stack
    const types = (mapping.properties.FunctionResponseTypes as string[] | undefined) ?? [];
    if (!types.includes('ReportBatchItemFailures'))
      Annotations.of(mapping.construct).addError(
        `[SluiceGuardrails] the SQS event source ${mapping.construct.node.path} does not report batch item failures: one failed message makes Lambda retry the whole batch. Set reportBatchItemFailures: true.`,
      );
    const [functionId] = referencedIds(mapping.properties.FunctionName);
    const fn = functionId === undefined ? undefined : functionById.get(functionId);
    if (!fn) continue;
    const visibility = numberOr(queue.properties.VisibilityTimeout, DEFAULT_VISIBILITY_TIMEOUT_SECONDS);
    const timeout = numberOr(fn.properties.Timeout, DEFAULT_FUNCTION_TIMEOUT_SECONDS);
    if (visibility < VISIBILITY_TIMEOUT_FACTOR * timeout)
      Annotations.of(mapping.construct).addError(
        `[SluiceGuardrails] queue ${queue.construct.node.path} has a visibility timeout of ${visibility} s, under ${VISIBILITY_TIMEOUT_FACTOR}× the ${timeout} s timeout of ${fn.construct.node.path} (${VISIBILITY_TIMEOUT_FACTOR * timeout} s): messages come back while they are still being handled. Raise the visibility timeout.`,
      );
  }
}

/** The logical ids a resolved value refers to through `Ref` or `Fn::GetAtt`. */
function referencedIds(value: unknown): string[] {
  const found: string[] = [];
  const walk = (node: unknown) => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (node !== null && typeof node === 'object') {
      const record = node as Record<string, unknown>;
      if (typeof record.Ref === 'string') found.push(record.Ref);
      const getAtt = record['Fn::GetAtt'];
      if (Array.isArray(getAtt) && typeof getAtt[0] === 'string') found.push(getAtt[0]);
      Object.values(record).forEach(walk);
    }
  };
  walk(value);
  return found;
}

function numberOr(value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  const number = Number(value);
  return Number.isFinite(number) ? number : fallback;
}
