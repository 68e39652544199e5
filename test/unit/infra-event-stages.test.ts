import { fileURLToPath } from 'node:url';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { EventLog, EventStages, type EventStagesProps } from '../../infra';

process.env.CDK_VALIDATION = 'false';
const NO_BUNDLING = { 'aws:cdk:bundling-stacks': [] };
const entry = (stage: string) => fileURLToPath(new URL(`../../examples/stages/${stage}.ts`, import.meta.url));

function stagesStack(overrides: Partial<EventStagesProps> = {}) {
  const app = new App({ context: NO_BUNDLING });
  const stack = new Stack(app, 'Test');
  const eventLog = new EventLog(stack, 'EventLog');
  const stages = new EventStages(stack, 'Orders', {
    eventLog,
    name: 'orders',
    source: { stream: 'orders.raw' },
    stages: [
      { name: 'extract', entry: entry('extract') },
      { name: 'transform', entry: entry('transform'), batchSize: 5, maxRedeliveryCount: 2 },
      {
        name: 'load',
        entry: entry('load'),
        onStageError: 'abort',
        bufferSize: 200,
        outputStream: 'orders.loaded',
      },
    ],
    ...overrides,
  });
  return { stack, stages, template: Template.fromStack(stack) };
}

/** The pipeline definition each stage's fetcher registers, by pipeline name. */
function registeredDefinitions(template: Template): Map<string, Record<string, unknown>> {
  const definitions = new Map<string, Record<string, unknown>>();
  for (const fn of Object.values(template.findResources('AWS::Lambda::Function'))) {
    const variables = (fn.Properties?.Environment?.Variables ?? {}) as Record<string, unknown>;
    const text = variables.SLUICE_PIPELINE_DEFINITIONS;
    if (text === undefined || !variables.SLUICE_PIPELINES) continue;
    // The definition holds the queue URL as a token: keep the literal fields only.
    const json = JSON.stringify(text);
    const name = String(variables.SLUICE_PIPELINES);
    definitions.set(name, {
      stream: /\\"stream\\":\\"([^\\]+)\\"/.exec(json)?.[1],
      start: /\\"start\\":\\"([^\\]+)\\"/.exec(json)?.[1],
      bufferSize: Number(/\\"bufferSize\\":(\d+)/.exec(json)?.[1] ?? Number.NaN),
    });
  }
  return definitions;
}

describe('EventStages', () => {
  it('chains one pipeline per stage by streams, on one shared state table', () => {
    // Act
    const { template, stages } = stagesStack();

    // Assess
    expect(Object.keys(stages.stages)).toEqual(['extract', 'transform', 'load']);
    expect(Object.values(stages.stages).map((pipeline) => pipeline.pipelineName)).toEqual([
      'orders.extract',
      'orders.transform',
      'orders.load',
    ]);
    const definitions = registeredDefinitions(template);
    expect(definitions.get('orders.extract')).toMatchObject({ stream: 'orders.raw', start: 'latest' });
    expect(definitions.get('orders.transform')).toMatchObject({
      stream: 'orders.extract',
      start: 'earliest',
    });
    expect(definitions.get('orders.load')).toMatchObject({ stream: 'orders.transform', bufferSize: 200 });
    template.resourceCountIs('AWS::DynamoDB::Table', 2); // the event log and one state table
    template.resourceCountIs('AWS::SQS::Queue', 6);
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', { BatchSize: 5 });
  });

  it('alarms on the aborting stage only', () => {
    // Act
    const { template, stages } = stagesStack();

    // Assess
    expect(Object.keys(stages.abortAlarms)).toEqual(['load']);
    const aborted = Object.values(template.findResources('AWS::CloudWatch::Alarm')).filter((alarm) =>
      String(alarm.Properties.AlarmDescription).includes('halted its pipeline'),
    );
    expect(aborted).toHaveLength(1);
    const alarm = JSON.stringify(aborted[0]);
    expect(alarm).toContain('"EventsFailed"');
    expect(alarm).toContain('{"Name":"pipeline","Value":"orders.load"}');
    expect(aborted[0]?.Properties.Threshold).toBe(1);
  });

  it('gives only stages with an output the right to commit, the last one only with an output stream', () => {
    // Act
    const withOutput = stagesStack();
    const withoutOutput = stagesStack({
      stages: [
        { name: 'extract', entry: entry('extract') },
        { name: 'load', entry: entry('load') },
      ],
    });

    // Assess
    const committing = (template: Template) =>
      Object.values(template.findResources('AWS::Lambda::Function')).filter(
        (fn) =>
          fn.Properties?.Environment?.Variables?.SLUICE_PIPELINE &&
          fn.Properties.Environment.Variables.SLUICE_EVENT_LOG_TABLE &&
          fn.Properties.Environment.Variables.SLUICE_QUEUE_URL,
      ).length;
    expect(committing(withOutput.template)).toBe(3);
    expect(committing(withoutOutput.template)).toBe(1);
  });

  it('has a dashboard row per stage with its latency, and its pressure against its bufferSize', () => {
    const { template } = stagesStack();
    const body = JSON.stringify(
      Object.values(template.findResources('AWS::CloudWatch::Dashboard')).map(
        (d) => d.Properties.DashboardBody,
      ),
    );
    expect(body).toContain('Stage load: backlog and pressure');
    expect(body).toContain('/ 200');
    expect(body).toContain('/ 1000');
    expect(body).toContain('load average latency (ms)');
    expect(body).toContain('AverageLatencyMs');
  });

  it('fails when the stages repeat a name, write to a bad stream or let a middle stage drop its output', () => {
    expect(() =>
      stagesStack({
        stages: [
          { name: 'extract', entry: entry('extract'), commitsOutputs: false },
          {
            name: 'extract',
            entry: entry('load'),
            outputStream: 'bad#stream',
            onStageError: 'explode' as never,
          },
        ],
      }),
    ).toThrow(
      /stages\.1\.name must be unique \(given "extract"\).*stages\.1\.outputStream must be .*\(given "bad#stream"\).*stages\.1\.onStageError must be one of retry, skip, abort \(given "explode"\)/,
    );
    expect(() =>
      stagesStack({
        stages: [
          { name: 'extract', entry: entry('extract'), commitsOutputs: false },
          { name: 'load', entry: entry('load') },
        ],
      }),
    ).toThrow('stages.0.commitsOutputs cannot be false: the next stage reads its output (given false)');
  });
});
