/** A JSON Schema (draft 2020-12): keywords in an object, or `true` (anything) and `false` (nothing). */
export type JsonSchema = boolean | JsonSchemaObject;
export type JsonSchemaObject = { [keyword: string]: unknown };

/** Keywords that describe without constraining (ajv validates none of them): changing them rejects nothing. */
const ANNOTATIONS = new Set([
  'title',
  'description',
  'default',
  'examples',
  'deprecated',
  'readOnly',
  'writeOnly',
  '$comment',
  'contentEncoding',
  'contentMediaType',
  'contentSchema',
]);

/**
 * These name the document, and versioned ids ("…/order.created/2") are common. Below the root an `$id` changes
 * what a `$ref` resolves to, so there it is compared like any keyword the check cannot reason about.
 */
const ROOT_ANNOTATIONS = new Set(['$id', '$schema']);

/** Keywords with a rule below; any other keyword must stay exactly as it was. */
const UNDERSTOOD = new Set([
  'type',
  'enum',
  'const',
  'minimum',
  'exclusiveMinimum',
  'maximum',
  'exclusiveMaximum',
  'multipleOf',
  'minLength',
  'maxLength',
  'pattern',
  'format',
  'properties',
  'required',
  'additionalProperties',
  'patternProperties',
  'minProperties',
  'maxProperties',
  'prefixItems',
  'items',
  'minItems',
  'maxItems',
  'uniqueItems',
]);

/** They depend on what every other keyword of the schema evaluated, which this check does not follow. */
const UNEVALUATED = ['unevaluatedProperties', 'unevaluatedItems'];

type Report = (text: string) => void;

interface Bound {
  value: number;
  exclusive: boolean;
}

/**
 * Whether every value valid against `oldSchema` is valid against `newSchema`, so consumers on the new schema
 * can read events written against the old one. Structural and conservative: a change it cannot prove safe is
 * a reason too. Returns the reasons, each led by the JSON path of the subschema; empty means compatible.
 */
export function checkBackwardCompatible(oldSchema: JsonSchema, newSchema: JsonSchema): string[] {
  const reasons: string[] = [];
  compare(oldSchema, newSchema, '', reasons);
  return reasons;
}

function compare(older: JsonSchema, newer: JsonSchema, path: string, reasons: string[]): void {
  if (older === false || acceptsAnything(newer) || sameJson(older, newer)) return;
  const report: Report = (text) => reasons.push(`${path || '(root)'}: ${text}`);
  // `true` accepts anything and returned above, so this is `false`.
  if (typeof newer === 'boolean') return report('now rejects every value');
  const old = older === true ? {} : older;
  const unevaluated = UNEVALUATED.find((keyword) => keyword in old || keyword in newer);
  if (unevaluated) return report(`cannot prove compatible: schema using ${unevaluated} changed`);

  const oldTypes = possibleTypes(old);
  checkType(old, newer, oldTypes, report);
  checkValues(old, newer, report);
  if (mayBe(oldTypes, 'number')) {
    checkBound('minimum', lowerBound(old), lowerBound(newer), report);
    checkBound('maximum', upperBound(old), upperBound(newer), report);
    checkMultipleOf(old, newer, report);
  }
  if (mayBe(oldTypes, 'string')) {
    checkCount('minLength', old, newer, report);
    checkCount('maxLength', old, newer, report);
    checkChanged('pattern', old, newer, report);
  }
  // Not string-only: ajv-formats has number formats too (int32, double, …).
  checkChanged('format', old, newer, report);
  if (mayBe(oldTypes, 'object')) checkObject(old, newer, path, reasons, report);
  if (mayBe(oldTypes, 'array')) checkArray(old, newer, path, reasons, report);

  for (const keyword of new Set([...Object.keys(old), ...Object.keys(newer)])) {
    if (UNDERSTOOD.has(keyword) || ANNOTATIONS.has(keyword)) continue;
    if (path === '' && ROOT_ANNOTATIONS.has(keyword)) continue;
    if (!sameJson(old[keyword], newer[keyword])) report(`cannot prove compatible: ${keyword} changed`);
  }
}

function acceptsAnything(schema: JsonSchema): boolean {
  return (
    schema === true || (schema !== false && Object.keys(schema).every((keyword) => ANNOTATIONS.has(keyword)))
  );
}

function checkType(
  old: JsonSchemaObject,
  newer: JsonSchemaObject,
  oldTypes: Set<string> | undefined,
  report: Report,
) {
  const newTypes = typeList(newer.type);
  if (!newTypes) return;
  const narrowed = oldTypes ? [...oldTypes].some((type) => !covers(newTypes, type)) : true;
  if (narrowed) report(`type narrowed from ${showTypes(old.type, oldTypes)} to ${showTypes(newer.type)}`);
}

/** `enum` and `const`: every value the old schema allowed must still be allowed. */
function checkValues(old: JsonSchemaObject, newer: JsonSchemaObject, report: Report) {
  const oldValues = finiteValues(old);
  for (const keyword of ['enum', 'const']) {
    if (!Object.hasOwn(newer, keyword)) continue;
    const allowed = keyword === 'const' ? [newer.const] : (newer.enum as unknown[]);
    if (!oldValues) {
      report(`${keyword} added`);
      continue;
    }
    const lost = oldValues.filter((value) => !allowed.some((kept) => sameJson(kept, value)));
    if (lost.length > 0)
      report(`${keyword} no longer allows ${lost.map((v) => JSON.stringify(v)).join(', ')}`);
  }
}

function checkBound(
  name: 'minimum' | 'maximum',
  older: Bound | undefined,
  newer: Bound | undefined,
  report: Report,
) {
  if (!newer) return;
  const up = name === 'minimum' ? 1 : -1;
  const show = (bound: Bound) => `${up > 0 ? '>' : '<'}${bound.exclusive ? '' : '='} ${bound.value}`;
  if (!older) return report(`${name} added: ${show(newer)}`);
  const tighter =
    (newer.value - older.value) * up > 0 ||
    (newer.value === older.value && newer.exclusive && !older.exclusive);
  if (tighter) report(`${name} tightened from ${show(older)} to ${show(newer)}`);
}

/** The effective lower bound: `minimum` and `exclusiveMinimum` may both be given, and the tighter one holds. */
function lowerBound(schema: JsonSchemaObject): Bound | undefined {
  const inclusive = numberOf(schema.minimum);
  const exclusive = numberOf(schema.exclusiveMinimum);
  if (exclusive !== undefined && (inclusive === undefined || exclusive >= inclusive))
    return { value: exclusive, exclusive: true };
  return inclusive === undefined ? undefined : { value: inclusive, exclusive: false };
}

function upperBound(schema: JsonSchemaObject): Bound | undefined {
  const inclusive = numberOf(schema.maximum);
  const exclusive = numberOf(schema.exclusiveMaximum);
  if (exclusive !== undefined && (inclusive === undefined || exclusive <= inclusive))
    return { value: exclusive, exclusive: true };
  return inclusive === undefined ? undefined : { value: inclusive, exclusive: false };
}

/** Every multiple of the old divisor is a multiple of the new one only when the new one divides the old. */
function checkMultipleOf(old: JsonSchemaObject, newer: JsonSchemaObject, report: Report) {
  const after = numberOf(newer.multipleOf);
  if (after === undefined) return;
  const before = numberOf(old.multipleOf);
  if (before === undefined) report(`multipleOf added: ${after}`);
  else if (!Number.isInteger(before / after)) report(`multipleOf changed from ${before} to ${after}`);
}

/** A lower count limit rises, or an upper one falls or appears. */
function checkCount(keyword: string, old: JsonSchemaObject, newer: JsonSchemaObject, report: Report) {
  const after = numberOf(newer[keyword]);
  if (after === undefined) return;
  const before = numberOf(old[keyword]);
  const isMinimum = keyword.startsWith('min');
  const tighter = isMinimum ? after > (before ?? 0) : before === undefined || after < before;
  if (!tighter) return;
  if (before === undefined) report(`${keyword} added: ${after}`);
  else report(`${keyword} ${isMinimum ? 'raised' : 'lowered'} from ${before} to ${after}`);
}

/** `pattern` and `format`: no way to compare two of them, so any new or different one may reject old values. */
function checkChanged(keyword: string, old: JsonSchemaObject, newer: JsonSchemaObject, report: Report) {
  const after = newer[keyword];
  if (after === undefined || after === old[keyword]) return;
  if (old[keyword] === undefined) report(`${keyword} added: ${JSON.stringify(after)}`);
  else report(`${keyword} changed from ${JSON.stringify(old[keyword])} to ${JSON.stringify(after)}`);
}

function checkObject(
  old: JsonSchemaObject,
  newer: JsonSchemaObject,
  path: string,
  reasons: string[],
  report: Report,
) {
  const oldProperties = schemasOf(old.properties);
  const newProperties = schemasOf(newer.properties);
  const oldPatterns = schemasOf(old.patternProperties);
  const newPatterns = schemasOf(newer.patternProperties);
  const patterns = Object.keys(newPatterns);
  // The property rules below rely on the same patterns covering the same names before and after.
  if (!sameJson(Object.keys(oldPatterns).sort(), [...patterns].sort()))
    report('cannot prove compatible: patternProperties changed');
  else
    for (const [pattern, schema] of Object.entries(newPatterns))
      compare(oldPatterns[pattern] ?? true, schema, child(path, 'patternProperties', pattern), reasons);

  const oldExtra = (old.additionalProperties ?? true) as JsonSchema;
  const newExtra = (newer.additionalProperties ?? true) as JsonSchema;
  for (const name of new Set([...Object.keys(oldProperties), ...Object.keys(newProperties)])) {
    const at = child(path, 'properties', name);
    const before = oldProperties[name];
    const after = newProperties[name];
    if (before !== undefined && after !== undefined) compare(before, after, at, reasons);
    else if (after !== undefined) {
      // Old events may carry the name already, held only to what the old schema said of unlisted names.
      const held = matchingPattern(oldPatterns, name) ?? oldExtra;
      if (!acceptsAnything(held)) compare(held, after, at, reasons);
      else if (!acceptsAnything(after))
        reasons.push(
          `${at}: added, but old events may carry it with any value (additionalProperties is not false)`,
        );
    } else if (before !== undefined && matchingPattern(newPatterns, name) === undefined) {
      // A name no longer listed falls to additionalProperties.
      if (newExtra === false) reasons.push(`${at}: removed while additionalProperties is false`);
      else compare(before, newExtra, at, reasons);
    }
  }
  if (newExtra === false && oldExtra !== false)
    report(`additionalProperties changed from ${acceptsAnything(oldExtra) ? 'true' : 'a schema'} to false`);
  else compare(oldExtra, newExtra, child(path, 'additionalProperties'), reasons);

  const required = new Set(stringsOf(old.required));
  for (const name of stringsOf(newer.required)) {
    if (required.has(name)) continue;
    // Validation never fills a default in, so a default does not make an old event without the property valid.
    const property = newProperties[name];
    const note = isObject(property) && 'default' in property ? ' (its default is not applied)' : '';
    reasons.push(`${child(path, 'properties', name)}: newly required${note}`);
  }
  checkCount('minProperties', old, newer, report);
  checkCount('maxProperties', old, newer, report);
}

/** Draft 2020-12 arrays: `prefixItems` holds the leading positions, `items` every position after them. */
function checkArray(
  old: JsonSchemaObject,
  newer: JsonSchemaObject,
  path: string,
  reasons: string[],
  report: Report,
) {
  const oldTuple = schemaList(old.prefixItems);
  const newTuple = schemaList(newer.prefixItems);
  const oldRest = (old.items ?? true) as JsonSchema;
  const newRest = (newer.items ?? true) as JsonSchema;
  for (let i = 0; i < Math.max(oldTuple.length, newTuple.length); i++) {
    const at = i < newTuple.length ? child(path, 'prefixItems', i) : child(path, 'items');
    compare(oldTuple[i] ?? oldRest, newTuple[i] ?? newRest, at, reasons);
  }
  compare(oldRest, newRest, child(path, 'items'), reasons);
  checkCount('minItems', old, newer, report);
  checkCount('maxItems', old, newer, report);
  if (newer.uniqueItems === true && old.uniqueItems !== true) report('uniqueItems added');
}

/**
 * The JSON types a value valid against `schema` can have; undefined for any. `enum` and `const` narrow the
 * declared type, so adding a `type` that matches an existing enum is no narrowing.
 */
function possibleTypes(schema: JsonSchemaObject): Set<string> | undefined {
  const declared = typeList(schema.type);
  const values = finiteValues(schema);
  if (!values) return declared && new Set(declared);
  return new Set(values.map(jsonType).filter((type) => !declared || covers(declared, type)));
}

function mayBe(types: Set<string> | undefined, kind: 'number' | 'string' | 'object' | 'array'): boolean {
  return !types || types.has(kind) || (kind === 'number' && types.has('integer'));
}

function covers(types: readonly string[], type: string): boolean {
  return types.includes(type) || (type === 'integer' && types.includes('number'));
}

function typeList(type: unknown): string[] | undefined {
  if (typeof type === 'string') return [type];
  return Array.isArray(type) ? (type as string[]) : undefined;
}

function showTypes(declared: unknown, derived?: Set<string>): string {
  if (typeof declared === 'string') return declared;
  if (declared !== undefined) return JSON.stringify(declared);
  return derived ? JSON.stringify([...derived]) : 'any';
}

function finiteValues(schema: JsonSchemaObject): unknown[] | undefined {
  if (Object.hasOwn(schema, 'const')) return [schema.const];
  return Array.isArray(schema.enum) ? schema.enum : undefined;
}

function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function matchingPattern(patterns: Record<string, JsonSchema>, name: string): JsonSchema | undefined {
  // The flag ajv compiles patterns with.
  const pattern = Object.keys(patterns).find((source) => new RegExp(source, 'u').test(name));
  return pattern === undefined ? undefined : patterns[pattern];
}

/** "properties.total", "properties.lines.items", `patternProperties["^x-"]`, "prefixItems[0]". */
function child(path: string, ...segments: (string | number)[]): string {
  return segments.reduce<string>((at, segment) => {
    if (typeof segment === 'number') return `${at}[${segment}]`;
    if (/^[A-Za-z_$][\w$-]*$/.test(segment)) return at ? `${at}.${segment}` : segment;
    return `${at}[${JSON.stringify(segment)}]`;
  }, path);
}

function isObject(value: unknown): value is JsonSchemaObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function schemasOf(value: unknown): Record<string, JsonSchema> {
  return isObject(value) ? (value as Record<string, JsonSchema>) : {};
}

function schemaList(value: unknown): JsonSchema[] {
  return Array.isArray(value) ? (value as JsonSchema[]) : [];
}

function stringsOf(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}

function numberOf(value: unknown): number | undefined {
  return typeof value === 'number' ? value : undefined;
}

/** Equality of JSON values, whatever the key order, and whatever realm built the objects (unlike util's). */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    return (
      Array.isArray(a) &&
      Array.isArray(b) &&
      a.length === b.length &&
      a.every((item, i) => sameJson(item, b[i]))
    );
  }
  const keys = Object.keys(a);
  return (
    keys.length === Object.keys(b).length &&
    keys.every(
      (key) =>
        Object.hasOwn(b, key) &&
        sameJson((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]),
    )
  );
}
