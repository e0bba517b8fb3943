import type { Action, ActionContext, ActionTarget } from '../action';

export interface InProcessActionOptions<I> {
  summary?: string;
  /** Default false, so a step can still say it mutates (a step may only raise it). */
  mutating?: boolean;
  /** Default `by-key`: the function is trusted to deduplicate on `ctx.idempotencyKey`. */
  resume?: Action['resume'];
  /** Default: any object. */
  inputSchema?: Record<string, unknown>;
  describe?: (inputs: I) => ActionTarget;
}

/**
 * A named async function as an action: the steps of test and benchmark workflows ("reserve", "charge"),
 * which run in-process instead of calling a service.
 */
export function inProcessAction<I = Record<string, unknown>, O = unknown>(
  name: string,
  run: (inputs: I, ctx: ActionContext) => Promise<O>,
  options: InProcessActionOptions<I> = {},
): Action<I, O> {
  return {
    name,
    summary: options.summary ?? `Run the in-process function ${name}`,
    inputSchema: options.inputSchema ?? { type: 'object' },
    mutating: options.mutating ?? false,
    resume: options.resume ?? 'by-key',
    describe: options.describe ?? (() => ({ summary: name, services: [] })),
    execute: run,
  };
}
