/** Whether `value` is an object, not null or an array, so the keys of a parsed payload can be read. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
