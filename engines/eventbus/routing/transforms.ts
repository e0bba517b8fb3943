import { fieldReader, withField, withoutField } from './field-path';
import type { Transform } from './routing-rule';

export interface TransformDeps {
  /** The catalog entry of a service, for `enrich`. */
  catalog?: (service: string) => Record<string, unknown> | undefined;
  /** The quality engine's redactor; `path` is the redacted field's dot path. */
  redact?: (value: unknown, path: string) => unknown;
}

/** New data, or the same object when nothing applied; never a changed `data`. */
export type DataTransform = (data: unknown) => unknown;

/**
 * Without the quality engine a redacted field still must not leak, so its value is replaced whole rather than
 * passed through: the safe fallback.
 */
export const REDACTED = '[REDACTED]';

/** The rule's transforms as one function, or undefined when it has none. */
export function compileTransforms(
  transforms: readonly Transform[],
  deps: TransformDeps,
): DataTransform | undefined {
  const steps = transforms.map((transform) => compileTransform(transform, deps));
  if (steps.length === 0) return undefined;
  if (steps.length === 1) return steps[0];
  return (data) => {
    let result = data;
    for (let i = 0; i < steps.length; i++) result = (steps[i] as DataTransform)(result);
    return result;
  };
}

function compileTransform(transform: Transform, deps: TransformDeps): DataTransform {
  if ('rename' in transform) return rename(transform.rename.from, transform.rename.to);
  if ('map' in transform) return mapValues(transform.map);
  if ('drop' in transform) return drop(transform.drop);
  if ('redact' in transform) return redact(transform.redact, deps.redact ?? (() => REDACTED));
  const { service, into, fields } = transform.enrich;
  // Without a catalog every service is unknown to it.
  return enrich(service, into, fields, deps.catalog ?? (() => undefined));
}

function rename(from: string, to: string): DataTransform {
  const read = fieldReader(from);
  const fromKeys = from.split('.');
  const toKeys = to.split('.');
  return (data) => {
    const value = read(data);
    if (value === undefined) return data;
    const without = withoutField(data, fromKeys);
    const moved = withField(without, toKeys, value);
    // A destination behind a non-object value cannot take it: keep the field where it was rather than lose it.
    return moved === without ? data : moved;
  };
}

function mapValues(spec: Extract<Transform, { map: unknown }>['map']): DataTransform {
  const read = fieldReader(spec.field);
  const keys = spec.field.split('.');
  const values = new Map(Object.entries(spec.values));
  const hasDefault = spec.default !== undefined;
  return (data) => {
    const value = read(data);
    if (value === undefined) return data;
    const text = typeof value === 'object' ? undefined : String(value);
    const mapped =
      text !== undefined && values.has(text) ? values.get(text) : hasDefault ? spec.default : value;
    return mapped === value ? data : withField(data, keys, mapped);
  };
}

function drop(paths: readonly string[]): DataTransform {
  const keyLists = paths.map((path) => path.split('.'));
  return (data) => {
    let result = data;
    for (const keys of keyLists) result = withoutField(result, keys);
    return result;
  };
}

function redact(
  paths: readonly string[],
  redactor: (value: unknown, path: string) => unknown,
): DataTransform {
  const fields = paths.map((path) => ({ path, keys: path.split('.'), read: fieldReader(path) }));
  return (data) => {
    let result = data;
    for (const { path, keys, read } of fields) {
      const value = read(result);
      if (value !== undefined) result = withField(result, keys, redactor(value, path));
    }
    return result;
  };
}

/** A service the catalog does not know leaves the event as it is: enrichment is a courtesy, not a gate. */
function enrich(
  service: string,
  into: string,
  fields: readonly string[],
  catalog: (service: string) => Record<string, unknown> | undefined,
): DataTransform {
  const readService = fieldReader(service);
  const intoKeys = into.split('.');
  return (data) => {
    const name = readService(data);
    const entry = typeof name === 'string' ? catalog(name) : undefined;
    if (entry === undefined) return data;
    const picked: Record<string, unknown> = {};
    for (const field of fields) if (Object.hasOwn(entry, field)) picked[field] = entry[field];
    return withField(data, intoKeys, picked);
  };
}
