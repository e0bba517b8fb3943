import type { JSONSchemaType } from 'ajv';
import type { WorkflowRun } from './run';

/** What an action is given besides its inputs. */
export interface ActionContext {
  run: Readonly<WorkflowRun>;
  stepId: string;
  /** Stable across retries and across a resume after a crash: the target deduplicates on it. */
  idempotencyKey: string;
  /** 1 for the first attempt. */
  attempt: number;
  /** Aborted on the step's timeout and on cancel; actions pass it to fetch and timers. */
  signal: AbortSignal;
}

/** What a step does to the world, for the plan: "restart payments in production (1 replica)". */
export interface ActionTarget {
  /** One line, as people read it. */
  summary: string;
  /** Services touched, for the blast radius. */
  services: string[];
  environment?: string;
}

/** Thrown (or returned as a rejection) by an action whose failure retrying cannot fix: bad input, 4xx. */
export class PermanentActionError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PermanentActionError';
  }
}

/**
 * One kind of step: http, event, query, restart, scale, wait, notify, approval, shell. Metadata (name, input
 * schema, whether it mutates) apart from `execute`, so lint and plan need no side effects.
 */
export interface Action<I = Record<string, unknown>, O = unknown> {
  name: string;
  /** One line for `runbooks lint` and the docs. */
  summary: string;
  /** Inputs after templates are resolved; lint checks literal inputs against it too. */
  inputSchema: JSONSchemaType<I> | Record<string, unknown>;
  /** Default for steps that do not say `mutating=`; a step may only raise it. */
  mutating: boolean;
  /**
   * How a resumed run treats an attempt that was in flight when the process died:
   * `by-key`: the target deduplicates on the idempotency key, so the attempt is sent again (HTTP with
   * Idempotency-Key, event publish with a stable id); `safe`: running it twice changes nothing (query, wait,
   * a restart verified by state); `never`: it is not retried and the run compensates (shell).
   */
  resume: 'by-key' | 'safe' | 'never';
  /** For the plan: what it would touch. No side effects; inputs are resolved. */
  describe(inputs: I): ActionTarget;
  execute(inputs: I, ctx: ActionContext): Promise<O>;
}

export class ActionRegistry {
  private readonly actions = new Map<string, Action>();

  register<I, O>(action: Action<I, O>): this {
    if (this.actions.has(action.name))
      throw new Error(`an action named ${action.name} is already registered`);
    this.actions.set(action.name, action as unknown as Action);
    return this;
  }

  get(name: string): Action | undefined {
    return this.actions.get(name);
  }

  names(): string[] {
    return [...this.actions.keys()];
  }
}
