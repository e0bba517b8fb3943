/**
 * JSON text with object keys sorted (by UTF-16 code unit, as Array.prototype.sort does) and no whitespace:
 * one value has exactly one text, so a hash over it survives a round trip through JSON.parse and a writer
 * that orders keys differently. Otherwise it follows JSON.stringify: toJSON is called, undefined, functions
 * and symbols are left out of objects and become null in arrays, non-finite numbers become null. That is
 * what makes canonicalJson(JSON.parse(canonicalJson(v))) === canonicalJson(v) for any v.
 *
 * BigInts, which JSON.stringify refuses, are written as decimal strings; a cycle throws, as it does there.
 */
export function canonicalJson(value: unknown): string {
  return stringify(value, []) ?? 'null';
}

/** undefined where JSON.stringify would leave the value out. */
function stringify(value: unknown, ancestors: object[]): string | undefined {
  if (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { toJSON?: unknown }).toJSON === 'function'
  )
    value = (value as { toJSON(): unknown }).toJSON();
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      return Number.isFinite(value) ? JSON.stringify(value) : 'null';
    case 'boolean':
      return value ? 'true' : 'false';
    case 'bigint':
      return JSON.stringify(value.toString());
    case 'object':
      if (value === null) return 'null';
      if (ancestors.includes(value)) throw new TypeError('canonicalJson: the value has a cycle');
      ancestors.push(value);
      try {
        return Array.isArray(value) ? stringifyArray(value, ancestors) : stringifyObject(value, ancestors);
      } finally {
        ancestors.pop();
      }
    default:
      return undefined;
  }
}

// String concatenation rather than map and join: the audit log canonicalizes every record it writes.
function stringifyArray(items: readonly unknown[], ancestors: object[]): string {
  let text = '[';
  for (let i = 0; i < items.length; i++) {
    if (i > 0) text += ',';
    text += stringify(items[i], ancestors) ?? 'null';
  }
  return `${text}]`;
}

function stringifyObject(object: object, ancestors: object[]): string {
  const keys = Object.keys(object).sort();
  let text = '{';
  for (const key of keys) {
    const member = stringify((object as Record<string, unknown>)[key], ancestors);
    if (member === undefined) continue;
    if (text.length > 1) text += ',';
    text += `${JSON.stringify(key)}:${member}`;
  }
  return `${text}}`;
}
