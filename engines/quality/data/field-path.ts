/** `customer.email`: property names joined by dots, none of them empty. */
const FIELD_PATH = /^[^.]+(?:\.[^.]+)*$/;

export function isFieldPath(value: unknown): value is string {
  return typeof value === 'string' && FIELD_PATH.test(value);
}

/**
 * The value at a dotted path, or undefined when any step is missing or not an object. An array's elements are
 * reached by index (`items.0.sku`), as their keys are.
 */
export function valueAt(record: unknown, path: string): unknown {
  let value = record;
  for (const name of path.split('.')) {
    if (typeof value !== 'object' || value === null || !Object.hasOwn(value, name)) return undefined;
    value = (value as Record<string, unknown>)[name];
  }
  return value;
}
