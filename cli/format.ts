import Table from 'cli-table3';

/**
 * A duration for people: `850ms`, `42s`, `3m 05s`, `2h 10m`, `4d 3h`.
 *
 * @example
 * ```ts
 * humanDuration(7_805_000); // '2h 10m'
 * ```
 */
export function humanDuration(ms: number): string {
  if (ms < 0) return `-${humanDuration(-ms)}`;
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const seconds = Math.floor(ms / 1000);
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m ${String(seconds % 60).padStart(2, '0')}s`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours}h ${String(minutes % 60).padStart(2, '0')}m`;
  return `${Math.floor(hours / 24)}d ${hours % 24}h`;
}

/** The width tables keep to when the output is not a terminal that says its own. */
export const DEFAULT_TABLE_WIDTH = 100;

/**
 * A plain text table (no colours, so that it reads the same in a terminal, a file or a pipe) no wider
 * than `maxWidth` where it can be: when the columns do not fit side by side, they wrap into several
 * tables, one under the other, each repeating the first column so that every row can be followed.
 *
 * @example
 * ```ts
 * renderTable(['Pipeline', 'Lag'], [['billing', '3s']]);
 * ```
 */
export function renderTable(
  head: readonly string[],
  rows: readonly (readonly string[])[],
  maxWidth = DEFAULT_TABLE_WIDTH,
): string {
  const widths = head.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  // cli-table3 pads each cell by one space a side and draws a border before every column and after the last.
  const widthOf = (columns: readonly number[]) =>
    columns.reduce((sum, column) => sum + (widths[column] ?? 0) + 3, 1);
  const groups: number[][] = [];
  let group: number[] = [0];
  for (let column = 1; column < head.length; column += 1) {
    if (group.length > 1 && widthOf([...group, column]) > maxWidth) {
      groups.push(group);
      group = [0];
    }
    group.push(column);
  }
  groups.push(group);
  return groups
    .map((columns) => {
      const table = new Table({
        head: columns.map((column) => head[column] ?? ''),
        style: { head: [], border: [] },
      });
      table.push(...rows.map((row) => columns.map((column) => row[column] ?? '')));
      return table.toString();
    })
    .join('\n');
}
