import { z } from 'zod';
import { typePatternProblem } from './event-type-pattern';
import { fieldPathProblem } from './field-path';

/**
 * The grammar of a routing rule, as written in the config (YAML) or sent to the REST API (JSON). A rule only
 * declares: which events (`match`), how to reshape a copy (`transforms`), where the copy goes (`targets`).
 */

/** Rule ids appear in REST paths and chat replies, so they stay plain. */
export const RULE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

const ruleId = z
  .string()
  .regex(RULE_ID, 'must be 1-128 letters, digits, ".", "_" and "-", starting with a letter or digit');

const fieldPath = z.string().superRefine((path, ctx) => {
  const problem = fieldPathProblem(path);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

const fieldList = z.array(fieldPath, { error: 'needs a list of fields' }).min(1, 'needs at least one field');

const scalar = z.union([z.string(), z.number(), z.boolean(), z.null()], {
  error: 'needs a string, number, boolean or null',
});
export type Scalar = z.output<typeof scalar>;

const typePattern = z.string().superRefine((pattern, ctx) => {
  const problem = typePatternProblem(pattern);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

/** An envelope attribute is matched whole, or by what it starts with. */
const attributeMatch = z.union([z.string().min(1), z.strictObject({ prefix: z.string().min(1) })], {
  error: 'needs a string or {prefix: "…"}',
});

/** The message for a value of the wrong type; a missing one keeps zod's, which the formatter calls "is required". */
function expected(text: string) {
  return (issue: z.core.$ZodRawIssue) =>
    issue.code === 'invalid_type' && issue.input !== undefined ? text : undefined;
}

/** A strict mapping that, given anything else, says which fields it needs. */
function mapping<S extends z.ZodRawShape>(shape: S, needs: string) {
  return z.strictObject(shape, { error: expected(needs) });
}

type OneOf<M extends Record<string, z.ZodType>> = {
  [K in keyof M]: { [P in K]: z.output<M[K]> };
}[keyof M];

/**
 * A mapping with exactly one of `members` (an operator, a transform, a target) besides the `common` fields.
 * A zod union would answer a typo with "Invalid input"; this names the unknown key, the missing one, or the
 * extra one, and still checks the others.
 */
function oneOf<C extends z.ZodRawShape, M extends Record<string, z.ZodType>>(
  what: string,
  common: C,
  members: M,
) {
  const commonSchema = z.object(common);
  const names = Object.keys(members);
  const choices = `one of ${names.join(', ')}`;
  const fields = [...Object.keys(common), choices].join(' and ');
  return z
    .record(z.string(), z.unknown(), { error: `needs a mapping with ${fields}` })
    .transform((value, ctx) => {
      /** A member's own issues are about its value: `"gt" needs a number`, `rename.to: is required`. */
      const addIssues = (issues: readonly z.core.$ZodIssue[], member?: string): void => {
        for (const issue of issues)
          for (const { path, message } of issueParts(issue))
            ctx.addIssue(
              member === undefined
                ? { code: 'custom', path, message }
                : path.length === 0
                  ? { code: 'custom', message: `"${member}" ${message}` }
                  : { code: 'custom', path: [member, ...path], message },
            );
      };
      const parsedCommon = commonSchema.safeParse(value);
      if (!parsedCommon.success) addIssues(parsedCommon.error.issues);
      const keys = Object.keys(value).filter((key) => !Object.hasOwn(common, key));
      const known = keys.filter((key) => Object.hasOwn(members, key));
      for (const key of keys)
        if (!known.includes(key))
          ctx.addIssue({ code: 'custom', message: `unknown ${what} "${key}" (${choices})` });
      if (keys.length === 0)
        ctx.addIssue({ code: 'custom', message: `needs ${article(what)} ${what} (${choices})` });
      if (known.length > 1)
        ctx.addIssue({
          code: 'custom',
          message: `has ${known.length} ${what}s (${known.join(', ')}); write each as its own list entry`,
        });
      const parsedMembers = known.map((name) => {
        const parsed = (members[name] as z.ZodType).safeParse(value[name]);
        if (!parsed.success) addIssues(parsed.error.issues, name);
        return parsed;
      });
      const [name] = known;
      const [parsedMember] = parsedMembers;
      if (keys.length > 1 || name === undefined || !parsedMember?.success || !parsedCommon.success)
        return z.NEVER;
      return { ...parsedCommon.data, [name]: parsedMember.data } as z.output<z.ZodObject<C>> & OneOf<M>;
    });
}

function article(word: string): string {
  return /^[aeiou]/.test(word) ? 'an' : 'a';
}

const OPERATORS = {
  eq: scalar,
  ne: scalar,
  in: z.array(scalar, { error: 'needs a list of values' }).min(1, 'needs at least one value'),
  prefix: z.string({ error: 'needs a string' }),
  exists: z.boolean({ error: 'needs true or false' }),
  gt: z.number({ error: 'needs a number' }),
  gte: z.number({ error: 'needs a number' }),
  lt: z.number({ error: 'needs a number' }),
  lte: z.number({ error: 'needs a number' }),
};

/** `{field: total, gt: 1000}`: one operator applied to the value at a dot path into `data`. */
const conditionSchema = oneOf('operator', { field: fieldPath }, OPERATORS);
export type Condition = z.output<typeof conditionSchema>;

const matchSchema = mapping(
  {
    type: z
      .union([typePattern, z.array(typePattern).min(1, 'needs at least one event type')], {
        error: 'needs an event type, a glob, or a list of them',
      })
      .optional(),
    source: attributeMatch.optional(),
    subject: attributeMatch.optional(),
    correlationid: attributeMatch.optional(),
    /** Every condition must hold. */
    data: z.array(conditionSchema, { error: 'needs a list of conditions' }).optional(),
  },
  'needs a mapping of type, source, subject, correlationid and data',
);
export type RuleMatch = z.output<typeof matchSchema>;

const transformSchema = oneOf(
  'transform',
  {},
  {
    rename: mapping({ from: fieldPath, to: fieldPath }, 'needs {from, to}').refine((r) => r.from !== r.to, {
      message: 'is the same field as from',
      path: ['to'],
    }),
    /** Values are looked up by their text, as YAML mapping keys are strings: 200 finds "200". */
    map: mapping(
      {
        field: fieldPath,
        values: z
          .record(z.string(), scalar, { error: expected('needs a mapping from old values to new') })
          .refine((values) => Object.keys(values).length > 0, 'needs at least one value'),
        default: scalar.optional(),
      },
      'needs {field, values}',
    ),
    drop: fieldList,
    redact: fieldList,
    enrich: mapping(
      {
        /** Where the event names its service. */
        service: fieldPath,
        into: fieldPath,
        /** Catalog fields to copy. */
        fields: z
          .array(z.string().min(1), { error: expected('needs a list of catalog fields') })
          .min(1, 'needs at least one field'),
      },
      'needs {service, into, fields}',
    ),
  },
);
export type Transform = z.output<typeof transformSchema>;

const headerName = z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, 'must be an HTTP header name');

const targetSchema = oneOf(
  'target',
  {},
  {
    topic: z
      .string({ error: 'needs a topic name' })
      .regex(/^[A-Za-z0-9._-]{1,249}$/, 'must be 1-249 letters, digits, ".", "_" and "-"'),
    webhook: mapping(
      {
        url: z.url({
          protocol: /^https?$/,
          error: (issue) => (issue.input === undefined ? undefined : 'must be an http(s) URL'),
        }),
        timeoutMs: z.int().min(100).max(60_000).default(5_000),
        headers: z.record(headerName, z.string()).optional(),
      },
      'needs {url}',
    ),
    engine: z
      .string({ error: 'needs an engine name' })
      .regex(/^[a-z][a-z0-9-]*$/, 'must be a lower-case engine name such as "quality"'),
  },
);
export type TargetSpec = z.output<typeof targetSchema>;

const ruleSchema = mapping(
  {
    id: ruleId,
    description: z.string().optional(),
    enabled: z.boolean().default(true),
    /** Absent, every event matches. */
    match: matchSchema.optional(),
    /** Applied in order to a copy of the event; each rule starts again from the event as published. */
    transforms: z.array(transformSchema, { error: 'needs a list of transforms' }).optional(),
    targets: z
      .array(targetSchema, { error: expected('needs a list of targets') })
      .min(1, 'needs at least one target'),
  },
  'needs a mapping with id, match and targets',
);

/** A rule as validated, with defaults filled in: what the REST API returns, JSON-serialisable. */
export type RoutingRule = z.output<typeof ruleSchema>;

/** The rule `raw` describes, or every reason it does not, each as "<field>: <reason>". */
export function parseRoutingRule(raw: unknown): RoutingRule | { invalid: string[] } {
  const parsed = ruleSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  return {
    invalid: parsed.error.issues.flatMap(issueParts).map(({ path, message }) => {
      const field = formatPath(path);
      return field ? `${field}: ${message}` : message;
    }),
  };
}

function issueParts(issue: z.core.$ZodIssue): { path: PropertyKey[]; message: string }[] {
  if (issue.code === 'unrecognized_keys')
    return issue.keys.map((key) => ({ path: [...issue.path, key], message: 'unknown field' }));
  if (issue.code === 'invalid_type' && issue.message.includes('received undefined'))
    return [{ path: issue.path, message: 'is required' }];
  return [{ path: issue.path, message: issue.message }];
}

/** `match.data[0].field`: indices in brackets, as the rule's author would point at them. */
function formatPath(path: readonly PropertyKey[]): string {
  return path
    .map((key, i) => (typeof key === 'number' ? `[${key}]` : i === 0 ? String(key) : `.${String(key)}`))
    .join('');
}
