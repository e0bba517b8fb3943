import type { Approval } from '../../engines/orchestrator/approval';
import type { PlannedStep, RunPlan } from '../../engines/orchestrator/orchestrator';
import type { RiskAssessment, RunStatus, StepRun, WorkflowRun } from '../../engines/orchestrator/run';
import type { RunPolicy, WorkflowKind } from '../../engines/orchestrator/workflow';
import { textReply, type BadgeState, type Block, type ButtonsBlock, type Reply } from '../core/message';

/** The buttons under a plan that waits for approval; their value is the approval id. */
export const APPROVE_RUN_ACTION_ID = 'orchestrator.approve';
export const DENY_RUN_ACTION_ID = 'orchestrator.deny';

const STATUS_BADGES: Record<RunStatus, BadgeState> = {
  awaiting_approval: 'warning',
  running: 'info',
  compensating: 'warning',
  succeeded: 'ok',
  compensated: 'warning',
  failed: 'critical',
  cancelled: 'unknown',
  denied: 'unknown',
  expired: 'unknown',
};

/**
 * Everything a run would do, for the people who decide whether it may: its steps with what each touches and
 * how it is taken back, the blast radius, the policy and the risk. With a pending approval, the Approve and
 * Deny buttons follow; the same reply is posted in chat by the skills and into channels by the alert router.
 */
export function planReply(plan: RunPlan, approval?: Approval): Reply {
  const { definition } = plan;
  const heading = `Plan: ${definition.kind} ${definition.id} — ${definition.title}`;
  const fields = [
    { label: 'Parameters', value: parameterList(plan.params) },
    { label: 'Blast radius', value: blastRadius(plan) },
    { label: 'Approval', value: approvalPolicy(plan.policy) },
    { label: 'Risk', value: riskSummary(plan.risk, plan.policy) },
  ];
  const steps = plan.steps.map((step) => plannedStepLine(step, definition.kind));
  const notes = [...plan.policyNotes, ...riskReasons(plan.risk).map((r) => `Risk: ${r}`)];

  const blocks: Block[] = [{ type: 'section', text: heading }];
  if (definition.description) blocks.push({ type: 'section', text: definition.description });
  blocks.push({ type: 'fields', fields }, { type: 'list', items: steps, ordered: true });
  if (notes.length > 0) blocks.push({ type: 'list', items: notes });
  const text = [
    heading,
    ...(definition.description ? [definition.description] : []),
    ...fields.map((f) => `${f.label}: ${f.value}`),
    'Steps:',
    ...steps.map((line, i) => `${i + 1}. ${line}`),
    ...notes,
  ];
  if (approval) {
    const decision = approvalState(approval);
    blocks.push({ type: 'section', text: decision });
    text.push(decision);
    if (approval.status === 'pending') blocks.push(approvalButtons(approval.id));
  }
  return { text: text.join('\n'), blocks };
}

/** A run as it stands: status, who started it, each step's progress and compensation, risk and approval. */
export function runReply(run: WorkflowRun, approval?: Approval): Reply {
  const heading = `${capitalised(run.kind)} ${run.definitionId} (${run.title}), run ${run.id}: ${statusWord(run.status)}`;
  const fields = [
    {
      label: 'Started by',
      value: `${run.actor} (${run.trigger.type}${run.trigger.ref ? ` ${run.trigger.ref}` : ''})`,
    },
    { label: 'Started', value: utc(run.createdAt) },
    ...(run.endedAt ? [{ label: 'Ended', value: utc(run.endedAt) }] : []),
    { label: 'Parameters', value: parameterList(run.params) },
    ...(run.risk
      ? [{ label: 'Risk', value: [riskSummary(run.risk), ...riskReasons(run.risk)].join('; ') }]
      : []),
    ...(approval ? [{ label: 'Approval', value: approvalState(approval) }] : []),
  ];
  const steps = run.steps.map(stepRunLine);
  const blocks: Block[] = [
    { type: 'section', text: heading },
    {
      type: 'status',
      badges: [{ label: run.definitionId, state: STATUS_BADGES[run.status], detail: statusWord(run.status) }],
    },
    { type: 'fields', fields },
    { type: 'list', items: steps, ordered: true },
  ];
  const text = [
    heading,
    ...fields.map((f) => `${f.label}: ${f.value}`),
    'Steps:',
    ...steps.map((l, i) => `${i + 1}. ${l}`),
  ];
  if (run.error) {
    blocks.push({ type: 'section', text: `Error: ${run.error}` });
    text.push(`Error: ${run.error}`);
  }
  if (approval?.status === 'pending') blocks.push(approvalButtons(approval.id));
  return { text: text.join('\n'), blocks };
}

/** Runs in flight and recently finished, one line each: what the saga_status skill shows when no run is named. */
export function runListReply(active: readonly WorkflowRun[], finished: readonly WorkflowRun[]): Reply {
  if (active.length === 0 && finished.length === 0) return textReply('No sagas or runbooks have run yet.');
  const blocks: Block[] = [];
  const text: string[] = [];
  const add = (heading: string, runs: readonly WorkflowRun[]) => {
    const lines = runs.map(runLine);
    blocks.push(
      { type: 'section', text: heading },
      ...(lines.length > 0 ? [{ type: 'list' as const, items: lines }] : []),
    );
    text.push(heading, ...lines.map((l) => `- ${l}`));
  };
  add(active.length > 0 ? `In flight (${active.length}):` : 'Nothing is in flight.', active);
  if (finished.length > 0) add('Recently finished:', finished);
  const hint = 'Ask "status of <run id>" for a run\'s steps; the first 8 characters of the id are enough.';
  blocks.push({ type: 'section', text: hint });
  text.push(hint);
  return { text: text.join('\n'), blocks };
}

export function approvalButtons(approvalId: string): ButtonsBlock {
  return {
    type: 'buttons',
    buttons: [
      { actionId: APPROVE_RUN_ACTION_ID, label: 'Approve', value: approvalId, style: 'primary' },
      { actionId: DENY_RUN_ACTION_ID, label: 'Deny', value: approvalId, style: 'danger' },
    ],
  };
}

/** Where an approval stands, in a sentence that also says how to decide while it is open. */
export function approvalState(approval: Approval): string {
  const given = approval.approvals.map((a) => a.by);
  const progress = `${given.length} of ${approval.required} approval${approval.required === 1 ? '' : 's'}${given.length > 0 ? ` (${given.join(', ')})` : ''}`;
  switch (approval.status) {
    case 'pending':
      return `Run ${approval.runId} waits for approval ${approval.id}: ${progress}, open until ${utc(approval.expiresAt)}. Use the buttons, or type "approve ${approval.id}" or "deny ${approval.id} <reason>".`;
    case 'approved':
      return `Approved${given.length > 0 ? ` by ${given.join(', ')}` : ''}.`;
    case 'denied': {
      const denial = approval.denial;
      return `Denied${denial ? ` by ${denial.by}${denial.reason ? `: ${denial.reason}` : ''}` : ''}.`;
    }
    case 'expired':
      return `Expired at ${utc(approval.expiresAt)} with ${progress}.`;
    case 'cancelled':
      return 'Cancelled with its run.';
  }
}

/** "3f9c2a1b saga order-fulfillment: running, step 3 of 6 (charge-payment) — web:alice, 2026-08-27 14:02 UTC" */
function runLine(run: WorkflowRun): string {
  const current = run.steps.findIndex((s) => ['running', 'waiting', 'compensating'].includes(s.status));
  const where =
    run.status === 'awaiting_approval' && run.approvalId
      ? ` (approval ${run.approvalId})`
      : current >= 0
        ? `, step ${current + 1} of ${run.steps.length} (${run.steps[current]?.id})`
        : '';
  return `${run.id.slice(0, 8)} ${run.kind} ${run.definitionId}: ${statusWord(run.status)}${where} — ${run.actor}, ${utc(run.createdAt)}`;
}

function plannedStepLine(step: PlannedStep, kind: WorkflowKind): string {
  const details = [step.action, ...(step.mutating ? ['changes something'] : [])];
  if (step.undo) details.push(`${kind === 'saga' ? 'compensation' : 'undo'}: ${step.undo.summary}`);
  return `${step.title ?? step.id} — ${step.target.summary} (${details.join('; ')})`;
}

function stepRunLine(step: StepRun): string {
  const attempts =
    step.attempts > 0 ? ` after ${step.attempts} attempt${step.attempts === 1 ? '' : 's'}` : '';
  const error = step.error ? ` — ${step.error}` : '';
  const compensation = step.compensation?.error ? ` (compensation: ${step.compensation.error})` : '';
  return `${step.id}: ${statusWord(step.status)}${attempts}${error}${compensation}`;
}

function blastRadius(plan: RunPlan): string {
  const { services, environments, mutatingSteps } = plan.blastRadius;
  const where = services.length > 0 ? services.join(', ') : 'no service';
  const envs = environments.length > 0 ? ` in ${environments.join(', ')}` : '';
  return `${where}${envs}; ${mutatingSteps} of ${plan.steps.length} step${plan.steps.length === 1 ? '' : 's'} change something`;
}

function approvalPolicy(policy: RunPolicy): string {
  const { approval } = policy;
  if (!approval.required) return 'your own confirmation (the policy asks for no other approval)';
  const who = approval.roles.length > 0 ? ` from ${approval.roles.join(' or ')}` : '';
  const self = approval.selfApproval ? 'the requester may approve' : 'not from the requester';
  return `${approval.approvers} approval${approval.approvers === 1 ? '' : 's'}${who}, ${self}`;
}

/** Why a run scored as it did; a low score needs no explaining, and listing its factors would only alarm. */
function riskReasons(risk: RiskAssessment | undefined): string[] {
  return risk && risk.level !== 'low' ? risk.reasons : [];
}

function riskSummary(risk: RiskAssessment | undefined, policy?: RunPolicy): string {
  if (!risk) return `${policy?.risk ?? 'unknown'} (as the policy rates it; no failure model scored it)`;
  const adjusted = risk.adjustments.length > 0 ? `; ${risk.adjustments.join('; ')}` : '';
  return `${risk.level}, ${Math.round(risk.probability * 100)}% predicted chance of failure${adjusted}`;
}

function parameterList(params: Record<string, unknown>): string {
  const entries = Object.entries(params);
  if (entries.length === 0) return 'none';
  return entries
    .map(([name, value]) => `${name}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join(', ');
}

function statusWord(status: string): string {
  return status.replaceAll('_', ' ');
}

function capitalised(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1);
}

/** "2026-08-27 14:02 UTC": absolute, so a message read an hour later still says the right thing. */
export function utc(iso: string): string {
  return `${iso.slice(0, 16).replace('T', ' ')} UTC`;
}
