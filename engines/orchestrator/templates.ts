/**
 * Step inputs are templates over what a run knows: `{{ params.service }}`, `{{ steps.create-order.output.body.id }}`,
 * `{{ run.id }}`, `{{ alert.labels.service }}`. A value that is one whole template keeps its type (a number
 * stays a number); a template inside text is interpolated as text.
 */
export interface TemplateScope {
  params: Record<string, unknown>;
  steps: Record<string, { output?: unknown }>;
  run: { id: string; correlationId: string; actor: string };
  alert?: { labels: Record<string, string>; annotations: Record<string, string> };
}

export class TemplateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TemplateError';
  }
}

const WHOLE = /^\{\{\s*([^{}]+?)\s*\}\}$/;
const EMBEDDED = /\{\{\s*([^{}]+?)\s*\}\}/g;
const ROOTS = new Set(['params', 'steps', 'run', 'alert']);

/** Resolves every template in `value`; a reference to something the run does not have is a TemplateError. */
export function resolveTemplates(value: unknown, scope: TemplateScope): unknown {
  return walk(value, (expr) => {
    const found = lookup(scope, expr);
    if (found === undefined) throw new TemplateError(`{{ ${expr} }} has no value in this run`);
    return found;
  });
}

/**
 * For a plan: resolves what is known before the run starts (params, alert) and leaves references to steps'
 * outputs as written, since those exist only once the steps have run.
 */
export function resolveKnownTemplates(value: unknown, scope: TemplateScope): unknown {
  return walk(value, (expr) => {
    const found = lookup(scope, expr);
    return found === undefined ? `{{ ${expr} }}` : found;
  });
}

/** The `steps.<id>` references in a value: lint checks they name earlier steps. */
export function templateReferences(value: unknown): string[] {
  const refs: string[] = [];
  walk(value, (expr) => {
    refs.push(expr);
    return '';
  });
  return refs;
}

export function containsTemplate(value: unknown): boolean {
  return typeof value === 'string' && value.includes('{{');
}

function walk(value: unknown, resolve: (expr: string) => unknown): unknown {
  if (typeof value === 'string') {
    const whole = WHOLE.exec(value);
    if (whole) return resolve(whole[1] as string);
    if (!value.includes('{{')) return value;
    return value.replace(EMBEDDED, (_, expr: string) => {
      const resolved = resolve(expr);
      return typeof resolved === 'string' ? resolved : JSON.stringify(resolved);
    });
  }
  if (Array.isArray(value)) return value.map((item) => walk(item, resolve));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v, resolve)]));
  }
  return value;
}

function lookup(scope: TemplateScope, expr: string): unknown {
  const path = expr.split('.');
  const [root, ...rest] = path;
  if (!root || !ROOTS.has(root))
    throw new TemplateError(`{{ ${expr} }}: templates start with params, steps, run or alert`);
  let current: unknown = scope[root as keyof TemplateScope];
  for (const part of rest) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}
