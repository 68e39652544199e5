/**
 * The pipeline name of a stage, `<stages name>.<stage name>`: shared by the code that runs a stage and
 * the CDK construct that deploys it, so that both agree without being told.
 *
 * @example
 * ```ts
 * stagePipelineName('orders', 'transform'); // 'orders.transform'
 * ```
 */
export function stagePipelineName(stagesName: string, stageName: string): string {
  return `${stagesName}.${stageName}`;
}

/**
 * The stream a stage commits its output to unless it names one: the same as its pipeline name.
 *
 * @example
 * ```ts
 * stageStreamName('orders', 'extract'); // 'orders.extract', which the next stage reads
 * ```
 */
export function stageStreamName(stagesName: string, stageName: string): string {
  return stagePipelineName(stagesName, stageName);
}
