import type { RetryPolicy } from '../eventbus/retry-policy';

/**
 * What the orchestrator runs, whatever file it came from: a saga (a business transaction whose steps have
 * compensations, defined in YAML under `sagas/`) or a runbook (an operational procedure whose steps have
 * undos, the fenced `step` blocks of a Markdown file under `runbooks/`). Both parse into this one shape, and
 * one executor runs it.
 */
export type WorkflowKind = 'saga' | 'runbook';

export type RiskLevel = 'low' | 'medium' | 'high';

/** An action with its inputs. Inputs are templates: `{{ params.service }}`, `{{ steps.create.output.id }}`. */
export interface ActionCall {
  action: string;
  with: Record<string, unknown>;
}

export interface StepDefinition extends ActionCall {
  id: string;
  title?: string;
  /** A mutating step changes something outside opsbot; it gets an idempotency key and is never run twice. */
  mutating: boolean;
  /** The compensation (saga) or undo (runbook), run in reverse order when a later step fails or on cancel. */
  undo?: ActionCall;
  /** Per attempt. */
  timeoutMs: number;
  retry: RetryPolicy;
  /**
   * A diagnostic step whose failure is information, not a reason to stop ("is it healthy already?"): the run
   * records the failure and goes on.
   */
  continueOnError?: boolean;
  /** 1-based line of the step in its source file, for lint and plan output. */
  line?: number;
}

/** One label matcher of an alert trigger, Alertmanager-style. */
export interface LabelMatcher {
  name: string;
  op: '=' | '!=' | '=~' | '!~';
  value: string;
}

export interface Triggers {
  /** Each entry is one alert rule: every matcher in it must hold (AND); entries are alternatives (OR). */
  alerts: LabelMatcher[][];
  /** NLU intents that may start it from chat besides run_runbook/start_saga ("restart_service"). */
  intents: string[];
  /** Five-field cron expressions (UTC). */
  schedules: string[];
}

export interface ApprovalPolicy {
  required: boolean;
  /** Distinct people who must approve. */
  approvers: number;
  /** False: the person who started the run cannot be one of its approvers. */
  selfApproval: boolean;
  ttlSeconds: number;
  /** Roles whose members may approve; empty: anyone allowed to run it. */
  roles: string[];
}

export interface RunPolicy {
  /** Roles allowed to start it; empty: anyone granted the runbook.run / saga.start permission. */
  roles: string[];
  approval: ApprovalPolicy;
  /** True: an alert may start it without a person. */
  autoRun: boolean;
  risk: RiskLevel;
}

/** A JSON Schema (draft 2020-12) object schema for a run's parameters. */
export type ParameterSchema = {
  type: 'object';
  properties: Record<string, Record<string, unknown>>;
  required?: string[];
  additionalProperties?: boolean;
} & Record<string, unknown>;

export interface WorkflowDefinition {
  kind: WorkflowKind;
  id: string;
  title: string;
  description: string;
  owner?: string;
  lastReviewed?: string;
  /** The file it was read from, relative to the project or config directory. */
  source: string;
  parameters: ParameterSchema;
  policy: RunPolicy;
  triggers: Triggers;
  steps: StepDefinition[];
}

export const DEFAULT_STEP_TIMEOUT_MS = 30_000;
export const DEFAULT_STEP_RETRY: RetryPolicy = { maxAttempts: 3, initialDelayMs: 200, maxDelayMs: 5_000 };
export const DEFAULT_APPROVAL_TTL_SECONDS = 3_600;

export const DEFAULT_POLICY: RunPolicy = {
  roles: [],
  approval: {
    required: false,
    approvers: 1,
    selfApproval: true,
    ttlSeconds: DEFAULT_APPROVAL_TTL_SECONDS,
    roles: [],
  },
  autoRun: false,
  risk: 'low',
};
