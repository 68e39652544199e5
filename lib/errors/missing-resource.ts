import { SluiceError } from './base';

/** What a `MissingResourceError` is about. */
export type ResourceKind = 'state table' | 'table stream' | 'queue' | 'pipeline';

/**
 * A resource Sluice was pointed at that does not exist (code `resource-missing`), or cannot be used
 * (code `resource-unusable`: access to it is denied, say; `cause` is the error AWS gave). `resource`
 * says what it is and `resourceName` names it:
 *
 * - `state table`: a DynamoDB table; the name, region or endpoint is wrong.
 * - `table stream`: a table without a DynamoDB stream (yet, or any more), so commits to it cannot
 *   wake its readers; `resourceName` is the table's.
 * - `queue`: an SQS queue, by its URL.
 * - `pipeline`: no pipeline of that name is registered.
 *
 * @example
 * ```ts
 * catch (error) {
 *   if (error instanceof MissingResourceError && error.resource === 'pipeline') console.error(`register ${error.resourceName} first`);
 * }
 * ```
 */
export class MissingResourceError extends SluiceError {
  declare readonly code: 'resource-missing' | 'resource-unusable';
  readonly resource: ResourceKind;
  /** The table's name, the queue's URL or the pipeline's name. */
  readonly resourceName: string;
  /** The same as `resource`. */
  readonly kind: ResourceKind;
  /** For a `pipeline`: its name, the same as `resourceName`. */
  readonly pipeline: string | undefined;
  /** For a `state table` or `table stream`: the table's name, the same as `resourceName`. */
  readonly tableName: string | undefined;
  /** For a `queue`: its URL, the same as `resourceName`. */
  readonly queueUrl: string | undefined;

  constructor(
    resource: ResourceKind,
    resourceName: string,
    options?: { cause?: unknown; code?: 'resource-missing' | 'resource-unusable' },
  ) {
    super(missingResourceMessage(resource, resourceName, options), {
      cause: options?.cause,
      code: options?.code ?? 'resource-missing',
    });
    this.name = 'MissingResourceError';
    this.resource = resource;
    this.resourceName = resourceName;
    this.kind = resource;
    this.pipeline = resource === 'pipeline' ? resourceName : undefined;
    this.tableName = resource === 'state table' || resource === 'table stream' ? resourceName : undefined;
    this.queueUrl = resource === 'queue' ? resourceName : undefined;
  }
}

function missingResourceMessage(
  resource: ResourceKind,
  resourceName: string,
  options: { cause?: unknown; code?: 'resource-missing' | 'resource-unusable' } | undefined,
): string {
  const cause = options?.cause;
  if (options?.code === 'resource-unusable') {
    const reason = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
    return `${resource} ${resourceName} cannot be used: ${reason}`;
  }
  switch (resource) {
    case 'pipeline':
      return `no pipeline named '${resourceName}' is registered`;
    case 'table stream':
      return `table ${resourceName} has no stream: commits cannot wake its readers`;
    default: {
      const detail = cause instanceof Error ? ` (${cause.message})` : '';
      return `the ${resource} '${resourceName}' does not exist${detail}: create it, or check its name, region and endpoint`;
    }
  }
}
