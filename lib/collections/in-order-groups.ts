/** How large one group may grow: its items' summed weight, and how many items it holds. */
export interface GroupLimits {
  readonly maxWeight: number;
  /** @default no limit */
  readonly maxItems?: number;
}

/**
 * Splits items, in order, into consecutive groups: a group is closed when the next item would take it
 * past `maxItems` items or past `maxWeight` summed weight (`weightOf` each item). No item moves ahead
 * of an earlier one, and none is refused: an item heavier than `maxWeight` on its own gets a group of
 * its own, for the caller to deal with.
 *
 * @example
 * ```ts
 * groupInOrder([4, 4, 4, 9, 1], (size) => size, { maxWeight: 10 }); // [[4, 4], [4], [9, 1]]
 * groupInOrder([1, 1, 1], (size) => size, { maxWeight: 10, maxItems: 2 }); // [[1, 1], [1]]
 * ```
 */
export function groupInOrder<T>(
  items: readonly T[],
  weightOf: (item: T) => number,
  limits: GroupLimits,
): T[][] {
  const maxItems = limits.maxItems ?? Number.POSITIVE_INFINITY;
  const groups: T[][] = [];
  let current: T[] = [];
  let weight = 0;
  for (const item of items) {
    const itemWeight = weightOf(item);
    if (current.length > 0 && (current.length >= maxItems || weight + itemWeight > limits.maxWeight)) {
      groups.push(current);
      current = [];
      weight = 0;
    }
    current.push(item);
    weight += itemWeight;
  }
  if (current.length > 0) groups.push(current);
  return groups;
}
