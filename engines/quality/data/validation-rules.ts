import { readFileSync } from 'node:fs';
import Ajv2020, { type ErrorObject, type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { parse as parseYaml } from 'yaml';
import { ErrorCode, OpsbotError } from '../../../bot/core/errors';
import { isFieldPath, valueAt } from './field-path';

export const CHECK_KINDS = ['schema', 'required', 'range', 'enum', 'format', 'compare'] as const;
export type CheckKind = (typeof CHECK_KINDS)[number];

export const COMPARE_OPS = ['<', '<=', '>', '>=', '==', '!='] as const;
export type CompareOp = (typeof COMPARE_OPS)[number];

/**
 * One problem with one record. Messages name fields and show numbers, but never a string value of the record:
 * payloads carry e-mail addresses and names, and violations end up in chat and in logs.
 */
export interface Violation {
  /** The rule's position in the rule set's `rules`. */
  ruleIndex: number;
  check: CheckKind;
  /** The dotted path of the field concerned; '' for the record as a whole. */
  field: string;
  message: string;
}

type Finding = Omit<Violation, 'ruleIndex'>;
type Check = (record: unknown) => Finding[];

export interface CompiledRule {
  readonly index: number;
  /** As written: `order.created`, or a prefix ending in `*` such as `order.*`. */
  readonly eventType: string;
  readonly checks: readonly Check[];
}

/** A rule set ready to check records: every rule whose eventType matches a record's type checks it. */
export interface CompiledRules {
  readonly rules: readonly CompiledRule[];
}

/** A refused rule set; `issues` holds every problem, each starting with where it is (`rules[2].checks[1]`). */
export class RuleSetError extends OpsbotError {
  constructor(
    readonly issues: string[],
    source?: string,
  ) {
    super(ErrorCode.RuleInvalid, `${source === undefined ? '' : `${source}: `}${issues.join('; ')}`);
    this.name = 'RuleSetError';
  }
}

const RULE_KEYS = ['eventType', 'schema', 'checks'];
const EVENT_TYPE_PATTERN = /^[^*]+\*?$|^\*$/;
/** Strings compared as times must look like ISO 8601 dates: `Date.parse` alone accepts far too much. */
const ISO_DATE = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;

/**
 * Validates a rule set (as parsed from YAML or JSON) and compiles it, or throws a RuleSetError naming every
 * problem: a rule set is used whole or not at all. The shape:
 *
 * ```yaml
 * rules:
 *   - eventType: order.created        # or a prefix: order.*
 *     schema: { type: object }        # optional JSON Schema, draft 2020-12
 *     checks:
 *       - required: [orderId, customer.id]
 *       - range: { field: amountCents, min: 1, max: 10000000 }
 *       - enum: { field: currency, values: [EUR, USD, GBP] }
 *       - format: { field: customer.email, format: email }
 *       - compare: { left: shippedAt, op: '>=', right: createdAt }
 * ```
 *
 * Absent fields are the business of `required` (and of a schema's own `required`): the other checks pass a
 * record without their field, so a missing field is not reported again by every check that reads it.
 */
export function compileRuleSets(spec: unknown): CompiledRules {
  const issues: string[] = [];
  const ajv = createAjv();
  if (!isObject(spec) || !Array.isArray(spec.rules)) throw new RuleSetError(['needs a list of rules']);
  if (spec.rules.length === 0) throw new RuleSetError(['rules: the list is empty']);
  for (const key of Object.keys(spec)) if (key !== 'rules') issues.push(`unknown key "${key}"`);
  const rules = spec.rules.map((rule: unknown, index) => compileRule(rule, index, ajv, issues));
  if (issues.length > 0) throw new RuleSetError(issues);
  return { rules };
}

/** Reads a rule set from a YAML or JSON file (JSON is YAML) and compiles it; problems name the file. */
export function loadRuleSetsFile(file: string): CompiledRules {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new RuleSetError([`cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`], file);
  }
  let spec: unknown;
  try {
    spec = parseYaml(text);
  } catch (err) {
    throw new RuleSetError([`not valid YAML or JSON: ${(err as Error).message.split('\n')[0]}`], file);
  }
  try {
    return compileRuleSets(spec);
  } catch (err) {
    if (err instanceof RuleSetError) throw new RuleSetError(err.issues, file);
    throw err;
  }
}

/** Whether any rule checks records of this type. */
export function appliesTo(compiled: CompiledRules, eventType: string): boolean {
  return compiled.rules.some((rule) => typeMatches(rule.eventType, eventType));
}

/** Every violation of every rule that applies to `eventType`, in rule order then check order. */
export function validateRecord(compiled: CompiledRules, eventType: string, record: unknown): Violation[] {
  return compiled.rules
    .filter((rule) => typeMatches(rule.eventType, eventType))
    .flatMap((rule) =>
      rule.checks.flatMap((check) => check(record).map((found) => ({ ruleIndex: rule.index, ...found }))),
    );
}

function typeMatches(pattern: string, eventType: string): boolean {
  return pattern.endsWith('*') ? eventType.startsWith(pattern.slice(0, -1)) : pattern === eventType;
}

function compileRule(spec: unknown, index: number, ajv: Ajv2020, issues: string[]): CompiledRule {
  const where = `rules[${index}]`;
  const checks: Check[] = [];
  if (!isObject(spec)) {
    issues.push(`${where}: needs eventType and a schema or checks`);
    return { index, eventType: '', checks };
  }
  const { eventType } = spec;
  for (const key of Object.keys(spec))
    if (!RULE_KEYS.includes(key))
      issues.push(`${where}: unknown key "${key}" (known: ${RULE_KEYS.join(', ')})`);
  if (typeof eventType !== 'string' || !EVENT_TYPE_PATTERN.test(eventType))
    issues.push(`${where}: eventType needs an event type, or a prefix ending in * such as order.*`);
  if (spec.schema === undefined && spec.checks === undefined)
    issues.push(`${where}: needs a schema or checks`);
  if (spec.schema !== undefined) {
    const schemaCheck = compileSchema(spec.schema, `${where}.schema`, ajv, issues);
    if (schemaCheck) checks.push(schemaCheck);
  }
  if (spec.checks !== undefined) {
    if (!Array.isArray(spec.checks) || spec.checks.length === 0)
      issues.push(`${where}.checks: needs a list of checks`);
    else
      spec.checks.forEach((check: unknown, i) => {
        const compiled = compileCheck(check, `${where}.checks[${i}]`, ajv, issues);
        if (compiled) checks.push(compiled);
      });
  }
  return { index, eventType: typeof eventType === 'string' ? eventType : '', checks };
}

function compileSchema(schema: unknown, where: string, ajv: Ajv2020, issues: string[]): Check | undefined {
  if (!isObject(schema) && typeof schema !== 'boolean') {
    issues.push(`${where}: needs a JSON Schema object`);
    return undefined;
  }
  let validate: ValidateFunction;
  try {
    validate = ajv.compile(schema);
  } catch (err) {
    issues.push(`${where}: does not compile: ${(err as Error).message}`);
    return undefined;
  }
  return (record) => (validate(record) ? [] : (validate.errors ?? []).map(schemaFinding));
}

/** An ajv error as a violation. ajv's own messages quote the schema (a format, a limit), never the data. */
function schemaFinding(error: ErrorObject): Finding {
  const at = error.instancePath
    .split('/')
    .slice(1)
    .map((name) => name.replace(/~1/g, '/').replace(/~0/g, '~'))
    .join('.');
  const under = (name: unknown) => (at === '' ? String(name) : `${at}.${String(name)}`);
  if (error.keyword === 'required' || error.keyword === 'dependentRequired') {
    const field = under(error.params.missingProperty);
    return { check: 'schema', field, message: `${field} is missing` };
  }
  if (error.keyword === 'additionalProperties') {
    const field = under(error.params.additionalProperty);
    return { check: 'schema', field, message: `${field} is not allowed by the schema` };
  }
  return {
    check: 'schema',
    field: at,
    message: `${at === '' ? 'the record' : at} ${error.message ?? 'is invalid'}`,
  };
}

function compileCheck(spec: unknown, where: string, ajv: Ajv2020, issues: string[]): Check | undefined {
  const kinds = CHECK_KINDS.filter((kind) => kind !== 'schema');
  const keys = isObject(spec) ? Object.keys(spec) : [];
  if (keys.length !== 1) {
    issues.push(`${where}: needs exactly one of ${kinds.join(', ')}`);
    return undefined;
  }
  const [kind] = keys as [string];
  const body = (spec as Record<string, unknown>)[kind];
  const problems: string[] = [];
  let check: Check | undefined;
  switch (kind) {
    case 'required':
      check = requiredCheck(body, problems);
      break;
    case 'range':
      check = rangeCheck(body, problems);
      break;
    case 'enum':
      check = enumCheck(body, problems);
      break;
    case 'format':
      check = formatCheck(body, ajv, problems);
      break;
    case 'compare':
      check = compareCheck(body, problems);
      break;
    default:
      problems.push(`unknown check "${kind}" (known: ${kinds.join(', ')})`);
  }
  issues.push(...problems.map((problem) => `${where}: ${problem}`));
  return problems.length === 0 ? check : undefined;
}

/** The body of a check as an object with only the keys named, or undefined after saying why not. */
function checkBody(
  kind: string,
  body: unknown,
  keys: readonly string[],
  problems: string[],
): Record<string, unknown> | undefined {
  if (!isObject(body)) {
    problems.push(`${kind} needs { ${keys.join(', ')} }`);
    return undefined;
  }
  for (const key of Object.keys(body))
    if (!keys.includes(key)) problems.push(`${kind}: unknown key "${key}" (known: ${keys.join(', ')})`);
  return body;
}

function fieldOf(kind: string, body: Record<string, unknown>, key: string, problems: string[]): string {
  const field = body[key];
  if (isFieldPath(field)) return field;
  problems.push(`${kind} needs ${key}: a field path such as customer.email`);
  return '';
}

function requiredCheck(body: unknown, problems: string[]): Check {
  const fields = Array.isArray(body) ? body : [];
  if (fields.length === 0 || !fields.every(isFieldPath))
    problems.push('required needs a list of field paths such as [orderId, customer.id]');
  return (record) =>
    (fields as string[]).flatMap((field) => {
      const value = valueAt(record, field);
      return value === undefined || value === null
        ? [{ check: 'required' as const, field, message: `${field} is missing` }]
        : [];
    });
}

function rangeCheck(spec: unknown, problems: string[]): Check {
  const body = checkBody('range', spec, ['field', 'min', 'max'], problems) ?? {};
  const field = fieldOf('range', body, 'field', problems);
  const { min, max } = body;
  for (const [name, bound] of [
    ['min', min],
    ['max', max],
  ] as const)
    if (bound !== undefined && (typeof bound !== 'number' || !Number.isFinite(bound)))
      problems.push(`range ${name} must be a number`);
  if (min === undefined && max === undefined) problems.push('range needs min or max');
  if (typeof min === 'number' && typeof max === 'number' && min > max)
    problems.push(`range min ${min} is above max ${max}`);
  return (record) => {
    const value = valueAt(record, field);
    if (value === undefined || value === null) return [];
    const found = (message: string) => [{ check: 'range' as const, field, message }];
    if (typeof value !== 'number' || !Number.isFinite(value)) return found(`${field} is not a number`);
    if (typeof min === 'number' && value < min) return found(`${field} ${value} is below the minimum ${min}`);
    if (typeof max === 'number' && value > max) return found(`${field} ${value} is above the maximum ${max}`);
    return [];
  };
}

function enumCheck(spec: unknown, problems: string[]): Check {
  const body = checkBody('enum', spec, ['field', 'values'], problems) ?? {};
  const field = fieldOf('enum', body, 'field', problems);
  const values = Array.isArray(body.values) ? (body.values as unknown[]) : [];
  if (values.length === 0 || !values.every((v) => ['string', 'number', 'boolean'].includes(typeof v)))
    problems.push('enum needs values: a list of strings, numbers or booleans');
  const allowed = new Set(values);
  const listed = values.map(String).join(', ');
  return (record) => {
    const value = valueAt(record, field);
    if (value === undefined || value === null || allowed.has(value)) return [];
    const shown = typeof value === 'number' || typeof value === 'boolean' ? `${field} ${value}` : field;
    return [{ check: 'enum', field, message: `${shown} is not one of ${listed}` }];
  };
}

function formatCheck(spec: unknown, ajv: Ajv2020, problems: string[]): Check {
  const body = checkBody('format', spec, ['field', 'format'], problems) ?? {};
  const field = fieldOf('format', body, 'field', problems);
  const format = body.format;
  let validate: ValidateFunction | undefined;
  if (typeof format !== 'string' || format === '') problems.push('format needs format: a name such as email');
  else {
    try {
      validate = ajv.compile({ type: 'string', format });
    } catch {
      problems.push(`format: unknown format "${format}" (known: ${Object.keys(ajv.formats).join(', ')})`);
    }
  }
  return (record) => {
    const value = valueAt(record, field);
    if (value === undefined || value === null || validate?.(value)) return [];
    return [{ check: 'format', field, message: `${field} is not a valid ${String(format)}` }];
  };
}

const TIME_WORDS: Record<CompareOp, string> = {
  '<': 'before',
  '<=': 'at or before',
  '>': 'after',
  '>=': 'at or after',
  '==': 'at the same time as',
  '!=': 'at a different time from',
};

function compareCheck(spec: unknown, problems: string[]): Check {
  const body = checkBody('compare', spec, ['left', 'op', 'right'], problems) ?? {};
  const left = fieldOf('compare', body, 'left', problems);
  const right = fieldOf('compare', body, 'right', problems);
  const op = body.op as CompareOp;
  if (!COMPARE_OPS.includes(op)) problems.push(`compare needs op: one of ${COMPARE_OPS.join(' ')}`);
  return (record) => {
    const a = valueAt(record, left);
    const b = valueAt(record, right);
    if (a === undefined || a === null || b === undefined || b === null) return [];
    const found = (message: string) => [{ check: 'compare' as const, field: left, message }];
    if (typeof a === 'number' && typeof b === 'number')
      return holds(a, op, b) ? [] : found(`${left} ${a} is not ${op} ${right} ${b}`);
    const [ta, tb] = [isoTime(a), isoTime(b)];
    if (ta === undefined || tb === undefined)
      return found(`${left} and ${right} cannot be compared: they must be both numbers or both ISO dates`);
    return holds(ta, op, tb) ? [] : found(`${left} is not ${TIME_WORDS[op]} ${right}`);
  };
}

function holds(a: number, op: CompareOp, b: number): boolean {
  switch (op) {
    case '<':
      return a < b;
    case '<=':
      return a <= b;
    case '>':
      return a > b;
    case '>=':
      return a >= b;
    case '==':
      return a === b;
    case '!=':
      return a !== b;
  }
}

function isoTime(value: unknown): number | undefined {
  if (typeof value !== 'string' || !ISO_DATE.test(value)) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

function createAjv(): Ajv2020 {
  // Unlike the bus's publish path, a quality report wants every problem of a record, not the first.
  // strictRequired off: a schema may require a property it says nothing else about, as most hand-written ones do.
  const ajv = new Ajv2020({ strict: true, strictRequired: false, allowUnionTypes: true, allErrors: true });
  addFormats(ajv);
  return ajv;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
