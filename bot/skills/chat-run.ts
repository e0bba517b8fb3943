import type { Orchestrator, RunRequest } from '../../engines/orchestrator/orchestrator';
import type { ParameterSchema, WorkflowDefinition } from '../../engines/orchestrator/workflow';
import { isOpsbotError } from '../core/errors';
import { textReply, type InboundTurn, type Reply } from '../core/message';
import { planReply } from './plan-reply';
import type { SkillContext } from './skill';

/**
 * A run asked for in chat: its parameters read from the words, and its plan proposed for approval. The run is
 * started at once and waits for its approval, which for a runbook that needs none is the requester's own
 * click; the skills therefore do not ask the dialogue's "please confirm" as well.
 */
export interface ChatRunDeps {
  orchestrator: Orchestrator;
  /** The chat thread the plan is shown in, where the run posts its progress; the adapters know its shape. */
  threadOf?: (turn: InboundTurn) => RunRequest['thread'];
}

/** A value: a quoted text, or everything up to the next space or separator. */
const VALUE = `("[^"]*"|'[^']*'|[^\\s,;]+)`;
/** Digits, underscores, @ or dashes: what ids, e-mail addresses and SKUs have and plain words do not. */
const ID_MARKS = /[\d_@-]/;
const QUOTED = /^(["'])(.*)\1$/;
const TRAILING_PUNCTUATION = /[.,;:!?)]+$/;
const LEADING_PUNCTUATION = /^[(]+/;

/**
 * Parameters said in words: `quantity=2`, `quantity: 2`, `quantity 2`, with the name as declared
 * (customerId) or spelled out (customer_id, customer-id, "customer id"); then any word that exactly one
 * still-missing parameter's pattern (or e-mail format) accepts ("sku-7", "pay_3f9c…"). Values are converted
 * to the types the schema declares. A misreading is harmless: the plan shows the parameters before anything
 * runs, and the schema checks them.
 */
export function parametersFromText(text: string, schema: ParameterSchema): Record<string, unknown> {
  const params: Record<string, unknown> = {};
  for (const [name, property] of Object.entries(schema.properties)) {
    const spellings = nameSpellings(name).map(escapeRegExp).join('|');
    const assigned = new RegExp(`(?<![\\w-])(?:${spellings})\\s*[=:]\\s*${VALUE}`, 'i').exec(text)?.[1];
    // "quantity 2" but not "the service in production": without = or :, only a value that looks like one.
    const spaced = new RegExp(`(?<![\\w-])(?:${spellings})\\s+${VALUE}`, 'i').exec(text)?.[1];
    const raw = assigned ?? (spaced !== undefined && looksLikeValue(spaced, property) ? spaced : undefined);
    if (raw !== undefined) params[name] = coerce(unquoted(raw), property);
  }
  const words = text
    .split(/[\s,;]+/)
    .map((w) => w.replace(TRAILING_PUNCTUATION, '').replace(LEADING_PUNCTUATION, ''))
    .filter(Boolean);
  // Only words with the marks ids have: a loose pattern such as a currency's [A-Za-z]{3} matches "the".
  for (const word of words.filter((w) => ID_MARKS.test(w))) {
    const accepting = Object.entries(schema.properties).filter(
      ([name, property]) => params[name] === undefined && acceptsShape(property, word),
    );
    const only = accepting.length === 1 ? accepting[0] : undefined;
    if (only) params[only[0]] = word;
  }
  return params;
}

/** The declared parameter a kind of thing goes to: `parameterNamed(schema, 'customer')` finds customerId. */
export function parameterNamed(schema: ParameterSchema, thing: string): string | undefined {
  const wanted = new Set([thing, `${thing}id`]);
  return Object.keys(schema.properties).find((name) => wanted.has(name.toLowerCase().replace(/[-_\s]/g, '')));
}

/** Required parameters neither given nor defaulted by the schema. */
export function missingParameters(schema: ParameterSchema, params: Record<string, unknown>): string[] {
  return (schema.required ?? []).filter(
    (name) => params[name] === undefined && schema.properties[name]?.default === undefined,
  );
}

/** "sku (e.g. sku-7): The product, as the catalog names it." */
export function parameterHint(schema: ParameterSchema, name: string): string {
  const property = schema.properties[name] ?? {};
  const example = exampleValue(schema, name);
  const description = typeof property.description === 'string' ? `: ${property.description}` : '';
  return `${name}${example === undefined ? '' : ` (e.g. ${example})`}${description}`;
}

/** An example for a parameter from its schema (examples, enum, default), quoted when it has spaces. */
export function exampleValue(schema: ParameterSchema, name: string): string | undefined {
  const property = schema.properties[name] ?? {};
  const examples = Array.isArray(property.examples) ? property.examples : [];
  const choices = Array.isArray(property.enum) ? property.enum : [];
  const example: unknown = examples[0] ?? choices[0] ?? property.default;
  if (example === undefined || example === null) return undefined;
  const text = typeof example === 'string' ? example : JSON.stringify(example);
  return /\s/.test(text) ? `"${text}"` : text;
}

/**
 * Plans the run (no side effects; a bad parameter stops here), starts it — it then waits for approval — and
 * replies with the plan and the Approve / Deny buttons. Refusals (unknown definition, parameters the schema
 * rejects, roles the policy does not allow) are told as such, with nothing started.
 */
export async function proposeRun(
  deps: ChatRunDeps,
  ctx: SkillContext,
  definition: WorkflowDefinition,
  params: Record<string, unknown>,
  notes: string[] = [],
): Promise<Reply> {
  const thread = deps.threadOf?.(ctx.turn);
  const request: RunRequest = {
    definitionId: definition.id,
    kind: definition.kind,
    params,
    actor: { id: ctx.user.id, roles: ctx.roles },
    trigger: { type: 'chat', ref: ctx.turn.conversationId },
    ...(ctx.correlationId ? { correlationId: ctx.correlationId } : {}),
    ...(thread ? { thread } : {}),
  };
  const what = `${definition.kind === 'saga' ? 'start the saga' : 'run the runbook'} ${definition.id}`;
  try {
    const plan = await deps.orchestrator.plan(request);
    const run = await deps.orchestrator.start(request);
    const approval =
      run.approvalId === undefined ? undefined : await deps.orchestrator.approval(run.approvalId);
    const reply = planReply(plan, approval);
    const after =
      run.status === 'awaiting_approval'
        ? []
        : [`Started as run ${run.id}: it is ${run.status.replaceAll('_', ' ')}.`];
    return withSections(reply, notes, after);
  } catch (err) {
    // The orchestrator's errors are OpsbotErrors meant for the person asking; anything else is a fault.
    if (isOpsbotError(err)) return textReply(`I can't ${what}: ${err.message}. Nothing was started.`);
    throw err;
  }
}

function withSections(reply: Reply, before: string[], after: string[]): Reply {
  if (before.length === 0 && after.length === 0) return reply;
  return {
    text: [...before, reply.text, ...after].join('\n'),
    blocks: [
      ...before.map((text) => ({ type: 'section' as const, text })),
      ...reply.blocks,
      ...after.map((text) => ({ type: 'section' as const, text })),
    ],
  };
}

/** customerId → customerId, customer_id, customer-id, customer id. */
function nameSpellings(name: string): string[] {
  const words = name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .split(/[\s_-]+/)
    .map((w) => w.toLowerCase());
  return [...new Set([name, words.join('_'), words.join('-'), words.join(' ')])];
}

/** Quoted, a number where one is wanted, one of an enum, or a word with the digits or marks ids have. */
function looksLikeValue(raw: string, property: Record<string, unknown>): boolean {
  if (QUOTED.test(raw)) return true;
  const value = unquoted(raw);
  if (Array.isArray(property.enum)) return property.enum.includes(coerce(value, property));
  if (typeof coerce(value, property) !== 'string') return true;
  return acceptsShape(property, value) || ID_MARKS.test(value);
}

function acceptsShape(property: Record<string, unknown>, word: string): boolean {
  if (property.format === 'email') return /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(word);
  if (typeof property.pattern !== 'string') return false;
  try {
    // The whole word: an unanchored pattern would otherwise claim any word that contains a match.
    return new RegExp(property.pattern, 'u').exec(word)?.[0] === word;
  } catch {
    return false; // the loader compiled the schema; a pattern JavaScript cannot read just matches nothing
  }
}

function coerce(raw: string, property: Record<string, unknown>): unknown {
  const types = [property.type].flat();
  if (types.includes('integer') && /^-?\d+$/.test(raw)) return Number(raw);
  if (types.includes('number') && raw.trim() !== '' && Number.isFinite(Number(raw))) return Number(raw);
  if (types.includes('boolean') && /^(?:true|yes)$/i.test(raw)) return true;
  if (types.includes('boolean') && /^(?:false|no)$/i.test(raw)) return false;
  return raw;
}

function unquoted(value: string): string {
  const quoted = QUOTED.exec(value);
  return quoted ? (quoted[2] ?? '') : value.replace(TRAILING_PUNCTUATION, '');
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * What to say when parameters are missing: one hint per parameter, then a complete request to copy. The same
 * shape for runbooks and sagas, so people learn it once.
 */
export function missingParametersReply(
  heading: string,
  schema: ParameterSchema,
  missing: string[],
  ask: string,
  example: string,
): Reply {
  const hints = missing.map((name) => parameterHint(schema, name));
  return {
    text: [heading, ...hints.map((h) => `- ${h}`), ask, example].join('\n'),
    blocks: [
      { type: 'section', text: heading },
      { type: 'list', items: hints },
      { type: 'section', text: ask },
      { type: 'code', code: example },
    ],
  };
}
