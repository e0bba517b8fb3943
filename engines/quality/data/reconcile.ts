import { valueAt } from './field-path';

export interface ReconcileOptions {
  /** The dotted path of the field both sides are keyed by; a key is a string or a number, compared as text. */
  key: string;
  /** The dotted paths compared; unless given, every leaf field both records of a key have. */
  fields?: readonly string[];
  leftName?: string;
  rightName?: string;
  /** Numbers this close are equal: 0 (exact) unless given. */
  numericTolerance?: number;
}

/** One field that differs; a side where the field is absent has no property for it. */
export interface FieldMismatch {
  key: string;
  field: string;
  left?: unknown;
  right?: unknown;
}

export type Side = 'left' | 'right';

/**
 * How two keyed datasets agree. Lists are in input order: keys as they first appear, mismatches by the left
 * side's order and then by field. Where a key repeats, its first record on each side is the one compared.
 */
export interface Reconciliation {
  leftName: string;
  rightName: string;
  key: string;
  /** Keys found on both sides. */
  matched: number;
  missingInLeft: string[];
  missingInRight: string[];
  duplicatesInLeft: { key: string; count: number }[];
  duplicatesInRight: { key: string; count: number }[];
  mismatches: FieldMismatch[];
  /** Records with no usable key (absent, empty, or not a string or number); index is 0-based. */
  recordsWithoutKey: { side: Side; index: number }[];
}

interface Keyed {
  first: unknown;
  count: number;
}

/** Compares two datasets record by record through their key, in one pass over each (maps, no sorting). */
export function reconcile(
  left: Iterable<unknown>,
  right: Iterable<unknown>,
  options: ReconcileOptions,
): Reconciliation {
  const { key, fields, numericTolerance = 0 } = options;
  if (!(numericTolerance >= 0)) throw new RangeError('numericTolerance must be a number, 0 or more');
  const recordsWithoutKey: Reconciliation['recordsWithoutKey'] = [];
  const leftByKey = byKey(left, key, 'left', recordsWithoutKey);
  const rightByKey = byKey(right, key, 'right', recordsWithoutKey);
  const result: Reconciliation = {
    leftName: options.leftName ?? 'left',
    rightName: options.rightName ?? 'right',
    key,
    matched: 0,
    missingInLeft: [],
    missingInRight: [],
    duplicatesInLeft: duplicates(leftByKey),
    duplicatesInRight: duplicates(rightByKey),
    mismatches: [],
    recordsWithoutKey,
  };
  for (const [k, l] of leftByKey) {
    const r = rightByKey.get(k);
    if (r === undefined) {
      result.missingInRight.push(k);
      continue;
    }
    result.matched++;
    const differs = (field: string, a: unknown, b: unknown) => {
      if (!same(a, b, numericTolerance))
        result.mismatches.push({
          key: k,
          field,
          ...(a === undefined ? {} : { left: a }),
          ...(b === undefined ? {} : { right: b }),
        });
    };
    if (fields) for (const field of fields) differs(field, valueAt(l.first, field), valueAt(r.first, field));
    else compareSharedLeaves(l.first, r.first, '', key, differs);
  }
  for (const k of rightByKey.keys()) if (!leftByKey.has(k)) result.missingInLeft.push(k);
  return result;
}

/** Whether the two sides agree: every key on both, once each, every field the same. */
export function agrees(result: Reconciliation): boolean {
  return (
    result.missingInLeft.length === 0 &&
    result.missingInRight.length === 0 &&
    result.duplicatesInLeft.length === 0 &&
    result.duplicatesInRight.length === 0 &&
    result.mismatches.length === 0 &&
    result.recordsWithoutKey.length === 0
  );
}

function byKey(
  records: Iterable<unknown>,
  key: string,
  side: Side,
  withoutKey: Reconciliation['recordsWithoutKey'],
): Map<string, Keyed> {
  const map = new Map<string, Keyed>();
  let index = 0;
  for (const record of records) {
    const value = valueAt(record, key);
    const k = typeof value === 'number' && Number.isFinite(value) ? String(value) : value;
    if (typeof k !== 'string' || k === '') withoutKey.push({ side, index });
    else {
      const seen = map.get(k);
      if (seen) seen.count++;
      else map.set(k, { first: record, count: 1 });
    }
    index++;
  }
  return map;
}

function duplicates(map: Map<string, Keyed>): { key: string; count: number }[] {
  return [...map].filter(([, keyed]) => keyed.count > 1).map(([key, { count }]) => ({ key, count }));
}

/**
 * Hands every leaf (anything but a non-empty plain object; arrays are leaves) of the left record that the right
 * one has too, but the key, to `differs`, in the left record's order. Both are walked together: at 100,000
 * records, splitting a path for every field of every record costs more than the comparison itself.
 */
function compareSharedLeaves(
  left: unknown,
  right: unknown,
  prefix: string,
  key: string,
  differs: (field: string, a: unknown, b: unknown) => void,
): void {
  if (!isPlainObject(left) || !isPlainObject(right)) return;
  for (const [name, a] of Object.entries(left)) {
    if (!Object.hasOwn(right, name)) continue;
    const path = prefix === '' ? name : `${prefix}.${name}`;
    const b = right[name];
    if (isPlainObject(a) && Object.keys(a).length > 0) compareSharedLeaves(a, b, path, key, differs);
    else if (path !== key) differs(path, a, b);
  }
}

function same(a: unknown, b: unknown, tolerance: number): boolean {
  if (typeof a === 'number' && typeof b === 'number') return a === b || Math.abs(a - b) <= tolerance;
  if (Array.isArray(a) && Array.isArray(b))
    return a.length === b.length && a.every((item, i) => same(item, b[i], tolerance));
  if (isPlainObject(a) && isPlainObject(b)) {
    const keys = Object.keys(a);
    return (
      keys.length === Object.keys(b).length &&
      keys.every((k) => Object.hasOwn(b, k) && same(a[k], b[k], tolerance))
    );
  }
  return a === b;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
