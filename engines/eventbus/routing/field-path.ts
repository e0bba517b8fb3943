/**
 * Dot paths into an event's `data` ("customer.email"). A path steps only into JSON objects, never into arrays
 * or through a prototype; writes copy the objects on the way, so the event they came from is never changed.
 */

/** Keys a write could turn into a prototype change rather than a field. */
const UNSAFE_KEYS = new Set(['__proto__', 'prototype', 'constructor']);

export function fieldPathProblem(path: string): string | undefined {
  const keys = path.split('.');
  if (keys.some((key) => key === '')) return `"${path}" is not a dot path like "customer.email"`;
  const unsafe = keys.find((key) => UNSAFE_KEYS.has(key));
  return unsafe === undefined ? undefined : `"${unsafe}" cannot be a field name`;
}

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The value at `path`, undefined when it is not there; split once, read many times. */
export function fieldReader(path: string): (root: unknown) => unknown {
  const keys = path.split('.');
  if (keys.length === 1) {
    const key = path;
    return (root) => (isObject(root) && Object.hasOwn(root, key) ? root[key] : undefined);
  }
  return (root) => {
    let node = root;
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i] as string;
      if (!isObject(node) || !Object.hasOwn(node, key)) return undefined;
      node = node[key];
    }
    return node;
  };
}

/**
 * `root` with `value` at `keys`, creating missing objects on the way; `root` itself when a non-object value
 * is in the way, so a write never destroys data to make room.
 */
export function withField(root: unknown, keys: readonly string[], value: unknown, at = 0): unknown {
  if (!isObject(root)) return root;
  const key = keys[at] as string;
  if (at === keys.length - 1) return { ...root, [key]: value };
  const child = Object.hasOwn(root, key) ? root[key] : {};
  const next = withField(child, keys, value, at + 1);
  return next === child ? root : { ...root, [key]: next };
}

/** `root` without the field at `keys`; `root` itself when there is no such field. */
export function withoutField(root: unknown, keys: readonly string[], at = 0): unknown {
  if (!isObject(root) || !Object.hasOwn(root, keys[at] as string)) return root;
  const key = keys[at] as string;
  if (at === keys.length - 1) {
    const copy = { ...root };
    delete copy[key];
    return copy;
  }
  const next = withoutField(root[key], keys, at + 1);
  return next === root[key] ? root : { ...root, [key]: next };
}
