import { Annotations, type IAspect, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
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
 * It looks at each stack's resources as they will be deployed (the L1 constructs), so it also sees
 * what a higher-level construct set. Queues or functions from other stacks are not resolved.
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

function checkStack(stack: Stack): void {
  const all = stack.node.findAll();
  const queues = all.filter((c): c is sqs.CfnQueue => c instanceof sqs.CfnQueue);
  const functions = all.filter((c): c is lambda.CfnFunction => c instanceof lambda.CfnFunction);
  const alarms = all.filter((c): c is cloudwatch.CfnAlarm => c instanceof cloudwatch.CfnAlarm);
  const mappings = all.filter(
    (c): c is lambda.CfnEventSourceMapping => c instanceof lambda.CfnEventSourceMapping,
  );
  const logicalId = (element: sqs.CfnQueue | lambda.CfnFunction) =>
    stack.resolve(element.logicalId) as string;
  const queueById = new Map(queues.map((queue) => [logicalId(queue), queue]));
  const functionById = new Map(functions.map((fn) => [logicalId(fn), fn]));

  // Each queue named as a dead-letter target in another queue's redrive policy.
  const deadLetterTargets = new Set<string>();
  for (const queue of queues) {
    const target = referencedIds(stack.resolve(queue.redrivePolicy));
    for (const id of target) deadLetterTargets.add(id);
  }
  // Everything the alarms refer to, as text: a queue is watched if its logical id appears there.
  const alarmReferences = alarms.map((alarm) =>
    JSON.stringify(stack.resolve({ dimensions: alarm.dimensions, metrics: alarm.metrics })),
  );

  for (const queue of queues) {
    const id = logicalId(queue);
    if (!deadLetterTargets.has(id) && stack.resolve(queue.redrivePolicy) === undefined)
      Annotations.of(queue).addError(
        `[SluiceGuardrails] queue ${queue.node.path} has no dead-letter queue: a message that keeps failing is retried until its retention ends, then dropped. Give it a redrive policy.`,
      );
    if (!alarmReferences.some((text) => text.includes(`"${id}"`)))
      Annotations.of(queue).addError(
        `[SluiceGuardrails] queue ${queue.node.path} has no CloudWatch alarm: a backlog or dead letters would go unseen. Alarm on its ApproximateAgeOfOldestMessage or ApproximateNumberOfMessagesVisible.`,
      );
  }

  for (const mapping of mappings) {
    const [queueId] = referencedIds(stack.resolve(mapping.eventSourceArn));
    const queue = queueId === undefined ? undefined : queueById.get(queueId);
    if (!queue) continue; // not an SQS queue of this stack
    const types = (stack.resolve(mapping.functionResponseTypes) as string[] | undefined) ?? [];
    if (!types.includes('ReportBatchItemFailures'))
      Annotations.of(mapping).addError(
        `[SluiceGuardrails] the SQS event source ${mapping.node.path} does not report batch item failures: one failed message makes Lambda retry the whole batch. Set reportBatchItemFailures: true.`,
      );
    const [functionId] = referencedIds(stack.resolve(mapping.functionName));
    const fn = functionId === undefined ? undefined : functionById.get(functionId);
    if (!fn) continue;
    const visibility = numberOr(stack.resolve(queue.visibilityTimeout), DEFAULT_VISIBILITY_TIMEOUT_SECONDS);
    const timeout = numberOr(stack.resolve(fn.timeout), DEFAULT_FUNCTION_TIMEOUT_SECONDS);
    if (visibility < VISIBILITY_TIMEOUT_FACTOR * timeout)
      Annotations.of(mapping).addError(
        `[SluiceGuardrails] queue ${queue.node.path} has a visibility timeout of ${visibility} s, under ${VISIBILITY_TIMEOUT_FACTOR}× the ${timeout} s timeout of ${fn.node.path} (${VISIBILITY_TIMEOUT_FACTOR * timeout} s): messages come back while they are still being handled. Raise the visibility timeout.`,
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
