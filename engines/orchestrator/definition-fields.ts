import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { DEFAULT_POLICY, type ParameterSchema, type RiskLevel, type RunPolicy } from './workflow';

/**
 * What runbooks (front matter) and sagas (YAML) define alike: the policy fields, risk levels, duration units
 * and the compilation of a `parameters` JSON Schema. Each reader walks its own YAML (plain values for
 * runbooks, nodes for sagas, for the lines) and reports with these.
 */

export const POLICY_FIELDS = ['roles', 'approval', 'auto_run', 'risk'] as const;
export const APPROVAL_FIELDS = ['required', 'approvers', 'self_approval', 'ttl', 'roles'] as const;
export const RISK_LEVELS: readonly RiskLevel[] = ['low', 'medium', 'high'];

/** Milliseconds in one of each duration unit. */
export const UNIT_MS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

const DURATION = /^(?:\d+(?:ms|s|m|h|d))+$/;
const DURATION_PART = /(\d+)(ms|s|m|h|d)/g;

/** Milliseconds in "30s", "2m", "1h30m"; undefined for anything else (or zero). */
export function parseDuration(text: string): number | undefined {
  if (!DURATION.test(text)) return undefined;
  let ms = 0;
  for (const [, amount, unit] of text.matchAll(DURATION_PART))
    ms += Number(amount) * (UNIT_MS[unit as string] as number);
  return ms > 0 ? ms : undefined;
}

/** The level when `value` is one of RISK_LEVELS. */
export function riskLevel(value: unknown): RiskLevel | undefined {
  return RISK_LEVELS.includes(value as RiskLevel) ? (value as RiskLevel) : undefined;
}

/** The default policy, a copy the caller may change. */
export function defaultPolicy(): RunPolicy {
  return { ...DEFAULT_POLICY, approval: { ...DEFAULT_POLICY.approval } };
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Strict draft 2020-12, like the event schema registry: a schema it would refuse is refused here. */
const ajv = new Ajv2020({ strict: true, allErrors: true, allowUnionTypes: true });
addFormats(ajv);

/** The validator of a `parameters` schema, or why it does not compile (`the schema does not compile: …`). */
export function compileSchema(schema: ParameterSchema | Record<string, unknown>): ValidateFunction | string {
  try {
    return ajv.compile(schema);
  } catch (err) {
    return `the schema does not compile: ${(err as Error).message}`;
  } finally {
    // The validator keeps what it needs; left in ajv, two definitions' schemas with one $id would collide.
    ajv.removeSchema(schema);
  }
}
