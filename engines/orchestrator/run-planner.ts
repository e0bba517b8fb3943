import type { ActionRegistry } from './action';
import type { AlertContext, PlannedStep, RunPlan } from './orchestrator';
import type { RiskAssessment } from './run';
import { resolveKnownTemplates, type TemplateScope } from './templates';
import type { RunPolicy, StepDefinition, WorkflowDefinition } from './workflow';

/** The action the executor handles itself: it pauses the run until enough people approve. */
export const APPROVAL_ACTION = 'approval';

/** What a high risk does to a run: approval, and room for a struggling dependency. */
export const HIGH_RISK_TIMEOUT_FACTOR = 2;
export const HIGH_RISK_EXTRA_ATTEMPTS = 2;

/** A step's timeout and attempts once a high risk has been taken into account. */
export function effectiveLimits(
  step: StepDefinition,
  risk: RiskAssessment | undefined,
): { timeoutMs: number; maxAttempts: number } {
  const boosted = risk !== undefined && risk.adjustments.length > 0;
  return {
    timeoutMs: boosted ? step.timeoutMs * HIGH_RISK_TIMEOUT_FACTOR : step.timeoutMs,
    maxAttempts: boosted ? step.retry.maxAttempts + HIGH_RISK_EXTRA_ATTEMPTS : step.retry.maxAttempts,
  };
}

/** The adjustments a risk calls for, in words; empty when it calls for none. */
export function adjustmentsFor(risk: Omit<RiskAssessment, 'adjustments'>, enabled: boolean): string[] {
  if (!enabled || risk.level !== 'high') return [];
  return [
    'approval required (high risk)',
    `step timeouts ×${HIGH_RISK_TIMEOUT_FACTOR}`,
    `+${HIGH_RISK_EXTRA_ATTEMPTS} attempts per step`,
  ];
}

/**
 * Computes a plan with no side effects: each step's inputs resolved as far as they can be before the run
 * (parameters, the alert), what the action would touch, the blast radius and the policy as it applies.
 */
export function planRun(input: {
  definition: WorkflowDefinition;
  params: Record<string, unknown>;
  actions: ActionRegistry;
  alert?: AlertContext;
  risk?: RiskAssessment;
  /** Why this request waits for approval, if it does (from the orchestrator's rules). */
  approvalNotes: string[];
  policy: RunPolicy;
}): RunPlan {
  const { definition, params, actions, risk } = input;
  const scope: TemplateScope = {
    params,
    steps: {},
    run: { id: '(new run)', correlationId: '', actor: '' },
    alert: input.alert && { labels: input.alert.labels, annotations: input.alert.annotations },
  };
  const services = new Set<string>();
  const environments = new Set<string>();
  const steps = definition.steps.map((step): PlannedStep => {
    const inputs = resolveKnownTemplates(step.with, scope) as Record<string, unknown>;
    const action = actions.get(step.action);
    const target =
      step.action === APPROVAL_ACTION
        ? { summary: `wait for ${Number(inputs.approvers ?? 1)} approval(s)`, services: [] }
        : action
          ? action.describe(inputs)
          : { summary: `unknown action ${step.action}`, services: [] };
    target.services.forEach((s) => services.add(s));
    if (target.environment) environments.add(target.environment);
    const limits = effectiveLimits(step, risk);
    let undo: PlannedStep['undo'];
    if (step.undo) {
      const undoInputs = resolveKnownTemplates(step.undo.with, scope) as Record<string, unknown>;
      const undoAction = actions.get(step.undo.action);
      undo = {
        action: step.undo.action,
        summary: undoAction ? undoAction.describe(undoInputs).summary : `unknown action ${step.undo.action}`,
      };
    }
    return {
      id: step.id,
      ...(step.title ? { title: step.title } : {}),
      action: step.action,
      mutating: step.mutating,
      inputs,
      target,
      ...(undo ? { undo } : {}),
      timeoutMs: limits.timeoutMs,
      maxAttempts: limits.maxAttempts,
      ...(step.line ? { line: step.line } : {}),
    };
  });
  return {
    definition: {
      kind: definition.kind,
      id: definition.id,
      title: definition.title,
      source: definition.source,
      description: definition.description,
    },
    params,
    steps,
    blastRadius: {
      services: [...services].sort(),
      environments: [...environments].sort(),
      mutatingSteps: steps.filter((s) => s.mutating).length,
    },
    policy: input.policy,
    policyNotes: input.approvalNotes,
    ...(risk ? { risk } : {}),
  };
}
