/**
 * The first value inside `data` that JSON would store as something else (`NaN` and `Infinity` become
 * `null`, a `Map` or `Set` becomes `{}`, a function or symbol vanishes), with its path from `root`,
 * such as `data.items[2].price`; `undefined` when `data` is stored as it is. An object's `undefined`
 * properties are left out, as JSON does; objects with a `toJSON` method (a `Date`) are taken at their
 * word. A `bigint`, which `JSON.stringify` refuses, is reported here too, with its path.
 *
 * @example
 * ```ts
 * unfaithfulJsonValue({ price: Number.NaN }); // { path: 'data.price', what: 'NaN, which JSON stores as null' }
 * ```
 */
export function unfaithfulJsonValue(
  data: unknown,
  root = 'data',
): { readonly path: string; readonly what: string } | undefined {
  const seen = new Set<object>();
  const visit = (
    value: unknown,
    path: string,
    inArray: boolean,
  ): { path: string; what: string } | undefined => {
    switch (typeof value) {
      case 'number':
        return Number.isFinite(value) ? undefined : { path, what: `${value}, which JSON stores as null` };
      case 'bigint':
        return { path, what: `the bigint ${value}n, which JSON cannot hold (send it as a string)` };
      case 'function':
        return { path, what: `a function, which JSON ${inArray ? 'stores as null' : 'leaves out'}` };
      case 'symbol':
        return { path, what: `a symbol, which JSON ${inArray ? 'stores as null' : 'leaves out'}` };
      case 'undefined':
        return inArray ? { path, what: 'undefined, which JSON stores as null' } : undefined;
      case 'object':
        break;
      default:
        return undefined;
    }
    if (value === null || seen.has(value)) return undefined; // a cycle is JSON.stringify's to report
    if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return undefined;
    if (value instanceof Map || value instanceof WeakMap)
      return {
        path,
        what: `a ${value.constructor.name}, which JSON stores as {} (use an object or an array of pairs)`,
      };
    if (value instanceof Set || value instanceof WeakSet)
      return { path, what: `a ${value.constructor.name}, which JSON stores as {} (use an array)` };
    seen.add(value);
    if (Array.isArray(value)) {
      for (let index = 0; index < value.length; index += 1) {
        const found = visit(value[index], `${path}[${index}]`, true);
        if (found) return found;
      }
      return undefined;
    }
    for (const [key, item] of Object.entries(value)) {
      const found = visit(item, `${path}${propertyPath(key)}`, false);
      if (found) return found;
    }
    return undefined;
  };
  return visit(data, root, false);
}

function propertyPath(key: string): string {
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}
