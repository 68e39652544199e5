import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { assertTableName } from '../event-log/names';
import { openStateTable, type StateTable } from '../state/state-table';

/** What a sync store on the state table is opened with. */
export interface StateTableStoreOptions {
  readonly tableName: string;
  readonly client?: DynamoDBClient;
  readonly clock?: () => number;
}

/**
 * What the sync stores share: the state table, checked by name and opened as every store of it is
 * (a missing table is named in the error), and the clock their writes are stamped with.
 */
export abstract class StateTableStore {
  readonly tableName: string;
  protected readonly table: StateTable;
  protected readonly clock: () => number;

  constructor(options: StateTableStoreOptions) {
    assertTableName(options?.tableName);
    this.tableName = options.tableName;
    this.table = openStateTable(options).table;
    this.clock = options.clock ?? Date.now;
  }
}
