import { ErrorCode, OpsbotError } from '../../bot/core/errors';
import type { Approval, ApprovalOutcome } from '../../engines/orchestrator/approval';
import type {
  Actor,
  Orchestrator,
  PlannedStep,
  RunPlan,
  RunRequest,
  RunTransition,
  WaitOptions,
} from '../../engines/orchestrator/orchestrator';
import type { RunQuery } from '../../engines/orchestrator/run-store';
import { resolveKnownTemplates } from '../../engines/orchestrator/templates';
import { FINAL_STATUSES, type RiskAssessment, type WorkflowRun } from '../../engines/orchestrator/run';
import type { WorkflowDefinition, WorkflowKind } from '../../engines/orchestrator/workflow';

const T0 = Date.parse('2026-08-27T14:00:00Z');

/** What the real actions' describe() would say, near enough: "POST orders /orders", "restart payments". */
function summary(action: string, inputs: Record<string, unknown>): string {
  if (typeof inputs.method === 'string') return `${inputs.method} ${inputs.service} ${inputs.path}`;
  if (action === 'event') return `publish ${inputs.type}`;
  return `${action} ${inputs.service}`;
}

/**
 * An in-memory Orchestrator for the chat skills' tests: definitions as given, a plan that describes each step
 * by its http/event inputs, and approvals that follow the contract (distinct approvers, self-approval and
 * role rules, decided once). Every request it receives is kept for assertions.
 */
export class FakeOrchestrator implements Orchestrator {
  readonly planned: RunRequest[] = [];
  readonly started: RunRequest[] = [];
  readonly decisions: { verb: 'approve' | 'deny'; approvalId: string; actor: Actor; reason?: string }[] = [];
  readonly runs = new Map<string, WorkflowRun>();
  readonly approvals = new Map<string, Approval>();
  /** A risk to report in plans and runs. */
  risk?: RiskAssessment;
  private sequence = 0;

  constructor(private readonly defs: WorkflowDefinition[]) {}

  definitions(kind?: WorkflowKind): readonly WorkflowDefinition[] {
    return this.defs.filter((d) => kind === undefined || d.kind === kind);
  }

  definition(id: string, kind?: WorkflowKind): WorkflowDefinition | undefined {
    return this.definitions(kind).find((d) => d.id === id);
  }

  async plan(request: RunRequest): Promise<RunPlan> {
    this.planned.push(request);
    return this.planFor(request);
  }

  private planFor(request: RunRequest): RunPlan {
    const definition = this.definition(request.definitionId, request.kind);
    if (!definition)
      throw new OpsbotError(ErrorCode.NotFound, `no ${request.kind ?? 'workflow'} ${request.definitionId}`);
    const { roles } = definition.policy;
    if (roles.length > 0 && !request.actor.roles.some((r) => roles.includes(r))) {
      throw new OpsbotError(ErrorCode.Forbidden, `${definition.id} may be run by ${roles.join(', ')} only`);
    }
    const params = { ...request.params };
    for (const [name, property] of Object.entries(definition.parameters.properties)) {
      if (params[name] === undefined && property.default !== undefined) params[name] = property.default;
    }
    const missing = (definition.parameters.required ?? []).filter((name) => params[name] === undefined);
    if (missing.length > 0) {
      throw new OpsbotError(ErrorCode.InvalidRequest, `parameters must have ${missing.join(', ')}`);
    }
    const scope = { params, steps: {}, run: { id: '', correlationId: '', actor: request.actor.id } };
    const steps: PlannedStep[] = definition.steps.map((step) => {
      const inputs = resolveKnownTemplates(step.with, scope) as Record<string, unknown>;
      const undo = step.undo && {
        action: step.undo.action,
        summary: summary(
          step.undo.action,
          resolveKnownTemplates(step.undo.with, scope) as Record<string, unknown>,
        ),
      };
      return {
        id: step.id,
        ...(step.title ? { title: step.title } : {}),
        action: step.action,
        mutating: step.mutating,
        inputs,
        target: {
          summary: summary(step.action, inputs),
          services: typeof inputs.service === 'string' ? [inputs.service] : [],
        },
        ...(undo ? { undo } : {}),
        timeoutMs: step.timeoutMs,
        maxAttempts: step.retry.maxAttempts,
      };
    });
    const environment = typeof params.environment === 'string' ? [params.environment] : [];
    return {
      definition,
      params,
      steps,
      blastRadius: {
        services: [...new Set(steps.flatMap((s) => s.target.services))],
        environments: environment,
        mutatingSteps: steps.filter((s) => s.mutating).length,
      },
      policy: definition.policy,
      policyNotes: definition.policy.approval.required ? ['the policy asks for approval'] : [],
      ...(this.risk ? { risk: this.risk } : {}),
    };
  }

  /** Chat-started runs wait for approval; a policy that needs none asks the requester's own. */
  async start(request: RunRequest): Promise<WorkflowRun> {
    const plan = this.planFor(request);
    this.started.push(request);
    const definition = this.definition(request.definitionId, request.kind) as WorkflowDefinition;
    const at = this.nextTime();
    const runId = `0000000${++this.sequence}-aaaa-4bbb-8ccc-${String(this.sequence).padStart(12, '0')}`;
    const required = definition.policy.approval.required;
    const approval: Approval = {
      id: `ab${String(this.sequence).padStart(6, '0')}`,
      runId,
      summary: `${definition.kind === 'saga' ? 'start saga' : 'run runbook'} ${definition.id}`,
      required: required ? definition.policy.approval.approvers : 1,
      selfApproval: required ? definition.policy.approval.selfApproval : true,
      roles: definition.policy.approval.roles,
      requestedBy: request.actor.id,
      approvals: [],
      status: 'pending',
      createdAt: at,
      expiresAt: new Date(Date.parse(at) + definition.policy.approval.ttlSeconds * 1000).toISOString(),
    };
    const run: WorkflowRun = {
      id: runId,
      kind: definition.kind,
      definitionId: definition.id,
      title: definition.title,
      params: plan.params,
      status: 'awaiting_approval',
      steps: definition.steps.map((s) => ({
        id: s.id,
        action: s.action,
        mutating: s.mutating,
        status: 'pending',
        attempts: 0,
        idempotencyKey: `${runId}:${s.id}`,
      })),
      actor: request.actor.id,
      roles: request.actor.roles,
      trigger: request.trigger,
      correlationId: request.correlationId ?? runId,
      createdAt: at,
      updatedAt: at,
      approvalId: approval.id,
      ...(this.risk ? { risk: this.risk } : {}),
      version: 1,
    };
    this.approvals.set(approval.id, approval);
    this.runs.set(run.id, run);
    return structuredClone(run);
  }

  /** Stores a run as it might be found later, for the status skill. */
  put(run: WorkflowRun, approval?: Approval): void {
    this.runs.set(run.id, run);
    if (approval) this.approvals.set(approval.id, approval);
  }

  async get(id: string): Promise<WorkflowRun | undefined> {
    return this.runs.get(id);
  }

  async list(query: RunQuery = {}): Promise<WorkflowRun[]> {
    return [...this.runs.values()]
      .filter((r) => query.kind === undefined || r.kind === query.kind)
      .filter((r) => query.definitionId === undefined || r.definitionId === query.definitionId)
      .filter((r) => query.statuses === undefined || query.statuses.includes(r.status))
      .sort((a, b) => b.createdAt.localeCompare(a.createdAt))
      .slice(0, query.limit ?? Infinity);
  }

  async cancel(id: string): Promise<WorkflowRun> {
    const run = this.runs.get(id);
    if (!run) throw new OpsbotError(ErrorCode.NotFound, `no run ${id}`);
    run.status = 'cancelled';
    return run;
  }

  async approve(approvalId: string, actor: Actor): Promise<ApprovalOutcome> {
    this.decisions.push({ verb: 'approve', approvalId, actor });
    const approval = this.open(approvalId);
    if (approval.status !== 'pending') return { result: 'already_decided', approval };
    if (approval.approvals.some((a) => a.by === actor.id)) return { result: 'duplicate', approval };
    const refusal = this.refusal(approval, actor);
    if (refusal) return { result: 'refused', approval, reason: refusal };
    approval.approvals.push({ by: actor.id, at: this.nextTime() });
    const remaining = approval.required - approval.approvals.length;
    if (remaining > 0) return { result: 'recorded', approval, remaining };
    approval.status = 'approved';
    this.setRunStatus(approval.runId, 'running');
    return { result: 'approved', approval };
  }

  async deny(approvalId: string, actor: Actor, reason?: string): Promise<ApprovalOutcome> {
    this.decisions.push({ verb: 'deny', approvalId, actor, ...(reason ? { reason } : {}) });
    const approval = this.open(approvalId);
    if (approval.status !== 'pending') return { result: 'already_decided', approval };
    // The requester may always withdraw their own request.
    const refusal = approval.requestedBy === actor.id ? undefined : this.refusal(approval, actor);
    if (refusal) return { result: 'refused', approval, reason: refusal };
    approval.status = 'denied';
    approval.denial = { by: actor.id, at: this.nextTime(), ...(reason ? { reason } : {}) };
    this.setRunStatus(approval.runId, 'denied');
    return { result: 'denied', approval };
  }

  async approval(approvalId: string): Promise<Approval | undefined> {
    return this.approvals.get(approvalId);
  }

  async wait(id: string, _options?: WaitOptions): Promise<WorkflowRun> {
    const run = this.runs.get(id);
    if (!run || !FINAL_STATUSES.has(run.status)) throw new Error('the fake orchestrator runs nothing');
    return run;
  }

  onTransition(_listener: (transition: RunTransition) => void): () => void {
    return () => undefined;
  }

  private open(approvalId: string): Approval {
    const approval = this.approvals.get(approvalId);
    if (!approval) throw new OpsbotError(ErrorCode.NotFound, `no approval ${approvalId}`);
    return approval;
  }

  private refusal(approval: Approval, actor: Actor): string | undefined {
    if (!approval.selfApproval && actor.id === approval.requestedBy) {
      return 'the person who started a run cannot approve it';
    }
    if (approval.roles.length > 0 && !actor.roles.some((r) => approval.roles.includes(r))) {
      return `approving needs the role ${approval.roles.join(' or ')}`;
    }
    return undefined;
  }

  private setRunStatus(runId: string, status: WorkflowRun['status']): void {
    const run = this.runs.get(runId);
    if (run) run.status = status;
  }

  /** One minute per event, from a fixed start: replies that show times are the same on every run. */
  private nextTime(): string {
    return new Date(T0 + this.sequence * 60_000).toISOString();
  }
}
