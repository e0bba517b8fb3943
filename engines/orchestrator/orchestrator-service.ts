import { randomBytes, randomUUID } from 'node:crypto';
import type { AuditPhase, AuditTrail } from '../../bot/core/audit-trail';
import { ErrorCode, OpsbotError } from '../../bot/core/errors';
import { KeyedSerialQueue } from '../../bot/core/keyed-serial-queue';
import type { Logger } from '../../bot/core/logger';
import type { ActionRegistry } from './action';
import type { Approval, ApprovalOutcome } from './approval';
import type { Actor, Orchestrator, RunPlan, RunRequest, RunTransition, WaitOptions } from './orchestrator';
import type { ExecutionHistory, RiskAssessor } from './risk';
import { FINAL_STATUSES, type RiskAssessment, type RunStatus, type StepRun, type WorkflowRun } from './run';
import { RunDriver, type Transition } from './run-driver';
import { RunParameters } from './run-parameters';
import { adjustmentsFor, planRun } from './run-planner';
import { StaleRunError, type RunQuery, type RunStore } from './run-store';
import { resolveKnownTemplates } from './templates';
import type { RunPolicy, WorkflowDefinition, WorkflowKind } from './workflow';

/** A process that has not renewed its lease on a run for this long is presumed dead; another takes the run over. */
export const RUN_LEASE_MS = 15_000;
/** How often leases are renewed, expired approvals swept and orphaned runs looked for. */
export const HOUSEKEEPING_INTERVAL_MS = 1_000;
const WAIT_POLL_MS = 250;

export interface OrchestratorServiceOptions {
  store: RunStore;
  actions: ActionRegistry;
  /** Runbooks and sagas as loaded now. */
  definitions: () => readonly WorkflowDefinition[];
  audit: AuditTrail;
  logger: Logger;
  history?: ExecutionHistory;
  risk?: RiskAssessor;
  /** False: risk is scored and shown but changes nothing (the simulation's baseline). Default true. */
  adjustForRisk?: boolean;
  /** Whether roles grant a permission (the bot's Policy); without it approvers are checked by role lists only. */
  rolesAllow?: (roles: readonly string[], permission: string) => boolean;
  now?: () => number;
  random?: () => number;
}

interface DrivenRun {
  run: WorkflowRun;
  controller: AbortController;
  done: Promise<void>;
}

interface Waiter {
  statuses: ReadonlySet<RunStatus>;
  resolve: (run: WorkflowRun) => void;
}

/**
 * The durable executor behind chat, REST, the CLI and alerts. Runs are driven in this process by a RunDriver;
 * every transition is saved (the store refuses a stale write), announced to listeners (the bus, chat threads)
 * and audited. On start it takes over runs left running by a process that died, and it keeps the leases of
 * the runs it drives so that another process does not.
 */
export class OrchestratorService implements Orchestrator {
  readonly processId = `${process.pid}-${randomBytes(3).toString('hex')}`;
  private readonly driver: RunDriver;
  private readonly parameters = new RunParameters();
  private readonly driving = new Map<string, DrivenRun>();
  private readonly commits = new KeyedSerialQueue();
  private readonly listeners = new Set<(transition: RunTransition) => void>();
  private readonly waiters = new Map<string, Set<Waiter>>();
  private readonly now: () => number;
  private housekeeping?: NodeJS.Timeout;
  private sweeping = false;
  private closed = false;

  constructor(private readonly options: OrchestratorServiceOptions) {
    this.now = options.now ?? Date.now;
    this.driver = new RunDriver({
      actions: options.actions,
      commit: (run, transitions) => this.commitAll(run, transitions),
      now: this.now,
      random: options.random ?? Math.random,
    });
  }

  /** Takes over runs nobody is driving (after a crash), then keeps leases, approvals and orphans in order. */
  async startBackgroundWork(): Promise<void> {
    await this.adoptOrphans();
    this.housekeeping = setInterval(() => void this.housekeep(), HOUSEKEEPING_INTERVAL_MS);
    this.housekeeping.unref();
  }

  /** Stops driving: runs in flight stay saved as they are, and the next process resumes them. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.housekeeping);
    for (const driven of this.driving.values()) driven.controller.abort();
    await Promise.allSettled([...this.driving.values()].map((d) => d.done));
  }

  definitions(kind?: WorkflowKind): readonly WorkflowDefinition[] {
    const all = this.options.definitions();
    return kind ? all.filter((d) => d.kind === kind) : all;
  }

  definition(id: string, kind?: WorkflowKind): WorkflowDefinition | undefined {
    return this.definitions(kind).find((d) => d.id === id);
  }

  async plan(request: RunRequest): Promise<RunPlan> {
    const definition = this.definitionFor(request);
    const params = this.parameters.resolve(definition, request.params, request.alert);
    return (await this.prepare(definition, params, request)).plan;
  }

  async start(request: RunRequest): Promise<WorkflowRun> {
    const definition = this.definitionFor(request);
    this.authorise(definition, request);
    if (definition.steps.length === 0) {
      throw new OpsbotError(
        ErrorCode.InvalidRequest,
        `${definition.kind} ${definition.id} has no executable steps: it is a document to follow (${definition.source})`,
      );
    }
    const params = this.parameters.resolve(definition, request.params, request.alert);
    if (request.dedupKey) {
      const active = await this.activeRun(request.dedupKey);
      if (active) return active;
    }
    const { plan, risk, approval } = await this.prepare(definition, params, request);
    const id = randomUUID();
    const at = this.iso();
    const run: WorkflowRun = {
      id,
      kind: definition.kind,
      definitionId: definition.id,
      title: definition.title,
      params,
      status: approval ? 'awaiting_approval' : 'running',
      steps: definition.steps.map((step): StepRun => ({
        id: step.id,
        action: step.action,
        mutating: step.mutating,
        status: 'pending',
        attempts: 0,
        idempotencyKey: `${id}:${step.id}`,
      })),
      actor: request.actor.id,
      roles: request.actor.roles,
      trigger: request.trigger,
      correlationId: request.correlationId ?? id,
      createdAt: at,
      updatedAt: at,
      ...(risk ? { risk } : {}),
      ...(request.thread ? { thread: request.thread } : {}),
      ...(request.dedupKey ? { dedupKey: request.dedupKey } : {}),
      ...(request.alert
        ? {
            alert: {
              fingerprint: request.alert.fingerprint,
              labels: request.alert.labels,
              annotations: request.alert.annotations,
            },
          }
        : {}),
      version: 0,
    };
    if (request.dedupKey && !(await this.options.store.claimKey(request.dedupKey, id))) {
      const active = await this.activeRun(request.dedupKey);
      if (active) return active;
    }
    let created: Approval | undefined;
    if (approval) {
      created = this.newApproval(run, approval, summaryOf(plan), request.actor.id);
      run.approvalId = created.id;
      await this.options.store.createApproval(created);
    }
    await this.commit(run, created ? 'awaiting_approval' : 'started', undefined, created);
    if (!created) this.launch(run, definition, false);
    return structuredClone(run);
  }

  get(id: string): Promise<WorkflowRun | undefined> {
    return this.options.store.get(id);
  }

  list(query?: RunQuery): Promise<WorkflowRun[]> {
    return this.options.store.list(query);
  }

  approval(approvalId: string): Promise<Approval | undefined> {
    return this.options.store.getApproval(approvalId);
  }

  async approve(approvalId: string, actor: Actor): Promise<ApprovalOutcome> {
    const pending = await this.approvalOrThrow(approvalId);
    const refusal = await this.approverRefusal(pending, actor);
    if (refusal) return { result: 'refused', approval: pending, reason: refusal };
    const at = this.iso();
    let outcome: ApprovalOutcome | undefined;
    const updated = await this.options.store.updateApproval(approvalId, (a) => {
      if (a.status !== 'pending') {
        outcome = { result: 'already_decided', approval: a };
        return undefined;
      }
      if (Date.parse(a.expiresAt) <= this.now()) {
        a.status = 'expired';
        a.decidedAt = at;
        outcome = { result: 'already_decided', approval: a };
        return a;
      }
      if (!a.selfApproval && a.requestedBy === actor.id) {
        outcome = {
          result: 'refused',
          approval: a,
          reason: 'you asked for this run, and its policy needs someone else to approve it',
        };
        return undefined;
      }
      if (a.approvals.some((given) => given.by === actor.id)) {
        outcome = { result: 'duplicate', approval: a };
        return undefined;
      }
      a.approvals.push({ by: actor.id, at });
      if (a.approvals.length >= a.required) {
        a.status = 'approved';
        a.decidedAt = at;
        outcome = { result: 'approved', approval: a };
      } else {
        outcome = { result: 'recorded', approval: a, remaining: a.required - a.approvals.length };
      }
      return a;
    });
    if (!updated || !outcome) throw notFound(`no approval ${approvalId}`);
    const decided: ApprovalOutcome = outcome;
    if (decided.result === 'recorded' || decided.result === 'approved') {
      this.auditApproval(decided.approval, actor, 'approved', {
        given: decided.approval.approvals.length,
        required: decided.approval.required,
      });
    }
    // Only the decision that moved the approval from pending is acted on: a second click finds it decided.
    if (updated.before.status === 'pending' && updated.after.status === 'approved') {
      await this.continueApproved(updated.after);
    } else if (updated.before.status === 'pending' && updated.after.status === 'expired') {
      await this.refuseRun(updated.after, 'expired', 'the approval expired');
    }
    return decided;
  }

  async deny(approvalId: string, actor: Actor, reason?: string): Promise<ApprovalOutcome> {
    const pending = await this.approvalOrThrow(approvalId);
    // The requester may always withdraw their own request; anyone else needs the right to approve it.
    if (pending.requestedBy !== actor.id) {
      const refusal = await this.approverRefusal(pending, actor);
      if (refusal) return { result: 'refused', approval: pending, reason: refusal };
    }
    const at = this.iso();
    const updated = await this.options.store.updateApproval(approvalId, (a) => {
      if (a.status !== 'pending') return undefined;
      a.status = 'denied';
      a.decidedAt = at;
      a.denial = { by: actor.id, at, ...(reason ? { reason } : {}) };
      return a;
    });
    if (!updated) throw notFound(`no approval ${approvalId}`);
    if (updated.before.status !== 'pending') return { result: 'already_decided', approval: updated.after };
    this.auditApproval(updated.after, actor, 'denied', reason ? { reason } : {});
    await this.refuseRun(updated.after, 'denied', `denied by ${actor.id}${reason ? `: ${reason}` : ''}`);
    return { result: 'denied', approval: updated.after };
  }

  async cancel(id: string, actor: Actor, reason?: string): Promise<WorkflowRun> {
    const cancel = { by: actor.id, at: this.iso(), ...(reason ? { reason } : {}) };
    const driven = this.driving.get(id);
    if (driven) {
      driven.run.cancel ??= cancel;
      driven.controller.abort();
      await driven.done;
      return (await this.get(id)) as WorkflowRun;
    }
    const run = await this.get(id);
    if (!run) throw notFound(`no run ${id}`);
    if (FINAL_STATUSES.has(run.status)) {
      throw new OpsbotError(ErrorCode.InvalidRequest, `run ${id} already ended: ${run.status}`);
    }
    run.cancel = cancel;
    if (run.approvalId && run.status === 'awaiting_approval') {
      await this.options.store.updateApproval(run.approvalId, (a) =>
        a.status === 'pending' ? { ...a, status: 'cancelled', decidedAt: cancel.at } : undefined,
      );
    }
    const definition = this.definition(run.definitionId, run.kind);
    const started = run.steps.some((s) => s.status === 'succeeded');
    if (run.status === 'awaiting_approval' && !started) {
      run.status = 'cancelled';
      run.endedAt = cancel.at;
      await this.commit(run, 'cancelled');
    } else if (definition && (run.status === 'awaiting_approval' || this.leaseExpired(run))) {
      // Nobody is driving it: this process undoes what was done.
      run.status = 'compensating';
      await this.commit(run, 'compensating');
      this.launch(run, definition, true);
      await this.driving.get(id)?.done;
    } else {
      // Another process drives it: it sees the cancel at its next write and compensates.
      await this.commit(run, 'cancel_requested');
    }
    return (await this.get(id)) as WorkflowRun;
  }

  async wait(id: string, options: WaitOptions = {}): Promise<WorkflowRun> {
    const statuses = new Set(options.statuses ?? FINAL_STATUSES);
    const current = await this.get(id);
    if (!current) throw notFound(`no run ${id}`);
    if (statuses.has(current.status)) return current;
    return new Promise<WorkflowRun>((resolve) => {
      const waiter: Waiter = {
        statuses,
        resolve: (run) => {
          clearTimeout(timeout);
          clearInterval(poll);
          this.waiters.get(id)?.delete(waiter);
          resolve(run);
        },
      };
      let set = this.waiters.get(id);
      if (!set) this.waiters.set(id, (set = new Set()));
      set.add(waiter);
      // Another process may be driving it: its transitions reach this one through the store only.
      const poll = this.options.store.shared
        ? setInterval(() => {
            void this.get(id).then((run) => {
              if (run && statuses.has(run.status)) waiter.resolve(run);
            });
          }, WAIT_POLL_MS)
        : undefined;
      const timeout = setTimeout(
        () => void this.get(id).then((run) => waiter.resolve(run ?? current)),
        options.timeoutMs ?? 2 ** 31 - 1,
      );
    });
  }

  onTransition(listener: (transition: RunTransition) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Runs currently driven by this process, for status. */
  get activeRuns(): number {
    return this.driving.size;
  }

  private definitionFor(request: RunRequest): WorkflowDefinition {
    const definition = this.definition(request.definitionId);
    if (!definition) {
      const known = this.definitions(request.kind)
        .map((d) => d.id)
        .join(', ');
      throw notFound(
        `no ${request.kind ?? 'saga or runbook'} named ${request.definitionId} (known: ${known})`,
      );
    }
    if (request.kind && definition.kind !== request.kind) {
      throw new OpsbotError(
        ErrorCode.InvalidRequest,
        `${request.definitionId} is a ${definition.kind}, not a ${request.kind}`,
      );
    }
    return definition;
  }

  /** A policy's role list limits who may start it; alerts and schedules start runs under the auto-run rule. */
  private authorise(definition: WorkflowDefinition, request: RunRequest): void {
    const roles = definition.policy.roles;
    if (roles.length === 0 || request.trigger.type === 'alert' || request.trigger.type === 'schedule') return;
    if (request.actor.roles.some((role) => roles.includes(role) || role === 'admin')) return;
    throw new OpsbotError(
      ErrorCode.Forbidden,
      `${definition.kind} ${definition.id} may be started by ${roles.join(', ')}; your roles: ${request.actor.roles.join(', ') || 'none'}`,
    );
  }

  /** The plan, the risk and whether (and by whom) the run must be approved before it starts. */
  private async prepare(
    definition: WorkflowDefinition,
    params: Record<string, unknown>,
    request: RunRequest,
  ): Promise<{ plan: RunPlan; risk?: RiskAssessment; approval?: RunPolicy['approval'] }> {
    const draft = planRun({
      definition,
      params,
      actions: this.options.actions,
      alert: request.alert,
      approvalNotes: [],
      policy: definition.policy,
    });
    const risk = await this.assess(definition, params, draft);
    const { policy } = definition;
    const notes: string[] = [];
    let approval: RunPolicy['approval'] | undefined;
    if (policy.approval.required) {
      approval = policy.approval;
      notes.push(
        `policy: ${policy.approval.approvers} approver${policy.approval.approvers > 1 ? 's' : ''}${policy.approval.selfApproval ? '' : ', not the requester'}${policy.approval.roles.length > 0 ? `, with role ${policy.approval.roles.join(' or ')}` : ''}`,
      );
    }
    if (risk && risk.adjustments.length > 0) {
      approval ??= { ...policy.approval, required: true, approvers: 1, selfApproval: true };
      notes.push(`high risk of failure (${Math.round(risk.probability * 100)}%): approval required`);
    }
    if ((request.trigger.type === 'alert' || request.trigger.type === 'schedule') && !policy.autoRun) {
      approval ??= { ...policy.approval, required: true, approvers: 1, selfApproval: true };
      notes.push(
        `started by ${request.trigger.type === 'alert' ? 'an alert' : 'its schedule'} and its policy does not allow auto-run: a person must approve`,
      );
    }
    if (request.trigger.type === 'chat') {
      // A chat request always waits for its requester's go-ahead on the plan it was shown.
      approval ??= { ...policy.approval, required: true, approvers: 1, selfApproval: true };
      if (notes.length === 0) notes.push('asked in chat: it starts when you approve the plan');
    }
    if (!approval) notes.push(policy.autoRun ? 'no approval needed; auto-run allowed' : 'no approval needed');
    const plan: RunPlan = { ...draft, policyNotes: notes, ...(risk ? { risk } : {}) };
    return { plan, ...(risk ? { risk } : {}), ...(approval ? { approval } : {}) };
  }

  private async assess(
    definition: WorkflowDefinition,
    params: Record<string, unknown>,
    plan: RunPlan,
  ): Promise<RiskAssessment | undefined> {
    if (!this.options.risk) return undefined;
    try {
      const scored = await this.options.risk.assess({
        definition,
        params,
        services: plan.blastRadius.services,
        environment: plan.blastRadius.environments[0],
        now: new Date(this.now()),
      });
      if (!scored) return undefined;
      return { ...scored, adjustments: adjustmentsFor(scored, this.options.adjustForRisk ?? true) };
    } catch (err) {
      // A broken model must not stop operations: the run goes ahead unscored, and the log says why.
      this.options.logger.warn({ err, definition: definition.id }, 'failure prediction failed');
      return undefined;
    }
  }

  private newApproval(
    run: WorkflowRun,
    policy: RunPolicy['approval'],
    summary: string,
    requestedBy: string,
    stepId?: string,
  ): Approval {
    const at = this.now();
    return {
      id: randomBytes(4).toString('hex'),
      runId: run.id,
      ...(stepId ? { stepId } : {}),
      summary,
      required: Math.max(1, policy.approvers),
      selfApproval: policy.selfApproval,
      roles: policy.roles,
      requestedBy,
      approvals: [],
      status: 'pending',
      createdAt: new Date(at).toISOString(),
      expiresAt: new Date(at + policy.ttlSeconds * 1000).toISOString(),
    };
  }

  private async approvalOrThrow(id: string): Promise<Approval> {
    const approval = await this.options.store.getApproval(id);
    if (!approval) throw notFound(`no approval ${id}`);
    return approval;
  }

  /** Why `actor` may not decide this approval, or undefined when they may. */
  private async approverRefusal(approval: Approval, actor: Actor): Promise<string | undefined> {
    const run = await this.get(approval.runId);
    const permission = run?.kind === 'saga' ? 'saga.start' : 'runbook.run';
    if (this.options.rolesAllow && !this.options.rolesAllow(actor.roles, permission)) {
      return `approving needs the permission ${permission}, which your roles (${actor.roles.join(', ') || 'none'}) do not grant`;
    }
    if (approval.roles.length > 0 && !actor.roles.some((r) => approval.roles.includes(r) || r === 'admin')) {
      return `approvers need the role ${approval.roles.join(' or ')}`;
    }
    return undefined;
  }

  /** The approval a run was waiting for is complete: the run starts, or goes past its approval step. */
  private async continueApproved(approval: Approval): Promise<void> {
    const run = await this.get(approval.runId);
    if (!run || run.status !== 'awaiting_approval' || run.approvalId !== approval.id) return;
    const definition = this.definition(run.definitionId, run.kind);
    if (!definition) {
      run.status = 'failed';
      run.error = `its ${run.kind} ${run.definitionId} is no longer defined`;
      run.endedAt = this.iso();
      await this.commit(run, 'failed');
      return;
    }
    if (approval.stepId) {
      this.driver.approvalGranted(
        run,
        approval.stepId,
        approval.approvals.map((a) => a.by),
      );
    }
    run.status = 'running';
    await this.commit(run, 'approved', undefined, approval);
    this.launch(run, definition, false);
  }

  /** A denied or expired approval: a run that had not started ends; one paused mid-way undoes what it did. */
  private async refuseRun(approval: Approval, status: 'denied' | 'expired', why: string): Promise<void> {
    const run = await this.get(approval.runId);
    if (!run || run.status !== 'awaiting_approval' || run.approvalId !== approval.id) return;
    const definition = this.definition(run.definitionId, run.kind);
    const step = approval.stepId ? run.steps.find((s) => s.id === approval.stepId) : undefined;
    if (!step || !definition) {
      run.status = status;
      run.error = why;
      run.endedAt = this.iso();
      await this.commit(run, status, undefined, approval);
      return;
    }
    step.status = 'failed';
    step.error = why;
    step.endedAt = this.iso();
    delete step.until;
    run.refusal = status;
    run.error = `step ${step.id}: ${why}`;
    run.status = 'compensating';
    await this.commit(run, 'compensating', step, approval);
    this.launch(run, definition, false);
  }

  /** Drives a run in the background; an approval step hands it back to waiting. */
  private launch(run: WorkflowRun, definition: WorkflowDefinition, resumed: boolean): void {
    if (this.driving.has(run.id) || this.closed) return;
    const controller = new AbortController();
    const driven: DrivenRun = { run, controller, done: Promise.resolve() };
    this.driving.set(run.id, driven);
    driven.done = (async () => {
      try {
        const result = await this.driver.drive(run, definition, controller.signal, resumed);
        if (result.kind === 'paused') {
          await this.driver.flushDeferred(run);
          await this.pauseForApproval(run, result.step.id);
        }
      } catch (err) {
        if (this.closed) return;
        if (err instanceof StaleRunError) {
          this.options.logger.warn({ runId: run.id }, 'another process took this run over; it stops here');
        } else {
          this.options.logger.error({ err, runId: run.id }, 'run driver failed');
        }
      } finally {
        this.driving.delete(run.id);
      }
    })();
  }

  private async pauseForApproval(run: WorkflowRun, stepId: string): Promise<void> {
    const definition = this.definition(run.definitionId, run.kind) as WorkflowDefinition;
    const stepDef = definition.steps.find((s) => s.id === stepId);
    const step = run.steps.find((s) => s.id === stepId);
    if (!stepDef || !step) return;
    if (step.status === 'waiting' && run.status === 'awaiting_approval') return;
    const inputs = resolveKnownTemplates(stepDef.with, {
      params: run.params,
      steps: Object.fromEntries(run.steps.map((s) => [s.id, { output: s.output }])),
      run: { id: run.id, correlationId: run.correlationId, actor: run.actor },
    }) as Record<string, unknown>;
    const policy: RunPolicy['approval'] = {
      required: true,
      approvers: numberOr(inputs.approvers, definition.policy.approval.approvers),
      selfApproval:
        typeof inputs.selfApproval === 'boolean'
          ? inputs.selfApproval
          : definition.policy.approval.selfApproval,
      ttlSeconds: numberOr(inputs.ttlSeconds, definition.policy.approval.ttlSeconds),
      roles: Array.isArray(inputs.roles) ? inputs.roles.map(String) : definition.policy.approval.roles,
    };
    const approval = this.newApproval(
      run,
      policy,
      `continue ${run.kind} ${run.definitionId} past step ${step.id}`,
      run.actor,
      step.id,
    );
    await this.options.store.createApproval(approval);
    run.approvalId = approval.id;
    run.status = 'awaiting_approval';
    step.status = 'waiting';
    step.startedAt ??= this.iso();
    step.until = approval.expiresAt;
    await this.commit(run, 'awaiting_approval', step, approval);
  }

  /**
   * Saves a transition and announces it. A write refused as stale means another process changed the run: a
   * cancel it recorded is taken on here; anything else means that process owns the run now.
   */
  private commit(run: WorkflowRun, transition: string, step?: StepRun, approval?: Approval): Promise<void> {
    return this.commitAll(run, [{ type: transition, ...(step ? { step } : {}) }], approval);
  }

  private commitAll(
    run: WorkflowRun,
    transitions: readonly Transition[],
    approval?: Approval,
  ): Promise<void> {
    const transition = (transitions[transitions.length - 1] as Transition).type;
    return this.commits.run(run.id, async () => {
      // After close nothing more is written: a run in flight stays as saved, for the next process to resume.
      if (this.closed) throw new OpsbotError(ErrorCode.Internal, 'the orchestrator is closed');
      const final = FINAL_STATUSES.has(run.status);
      run.updatedAt = this.iso();
      // Whoever writes a running run drives it, except a cancel recorded for the process that does.
      if (transition !== 'cancel_requested') {
        if (run.status === 'running' || run.status === 'compensating') {
          run.lease = { owner: this.processId, until: this.now() + RUN_LEASE_MS };
        } else delete run.lease;
      }
      run.version += 1;
      try {
        await this.options.store.save(run);
      } catch (err) {
        if (!(err instanceof StaleRunError)) throw err;
        const stored = await this.get(run.id);
        if (!stored?.cancel || run.cancel) throw err;
        run.cancel = stored.cancel;
        run.version = stored.version + 1;
        await this.options.store.save(run);
        this.driving.get(run.id)?.controller.abort();
      }
      for (const t of transitions) this.announce(run, t.type, t.step, approval);
      if (final) await this.finished(run);
    });
  }

  private announce(run: WorkflowRun, type: string, step?: StepRun, approval?: Approval): void {
    this.audit(run, type, step);
    const waiting = this.waiters.get(run.id);
    const waiterDone = waiting && [...waiting].some((w) => w.statuses.has(run.status));
    if (this.listeners.size === 0 && !waiterDone) return;
    // One copy for everyone: the driver goes on changing `run` after this.
    const snapshot = structuredClone(run);
    const transition: RunTransition = {
      type,
      run: snapshot,
      ...(step ? { step: snapshot.steps.find((s) => s.id === step.id) } : {}),
      ...(approval ? { approval } : {}),
    };
    for (const listener of this.listeners) {
      try {
        listener(transition);
      } catch (err) {
        this.options.logger.warn({ err, type }, 'a run transition listener failed');
      }
    }
    if (waiting)
      for (const waiter of [...waiting]) if (waiter.statuses.has(run.status)) waiter.resolve(snapshot);
  }

  private async finished(run: WorkflowRun): Promise<void> {
    this.options.history?.record(run);
    if (run.dedupKey) await this.options.store.releaseKey(run.dedupKey, run.id);
  }

  private audit(run: WorkflowRun, transition: string, step?: StepRun): void {
    const phase = AUDIT_PHASES[transition];
    if (!phase) return;
    const stepLevel = transition.startsWith('step.');
    this.options.audit.record({
      action: stepLevel ? `${run.kind}.step` : `${run.kind}.run`,
      phase,
      actor: run.actor,
      roles: run.roles,
      correlationId: run.correlationId,
      runId: run.id,
      ...(step && stepLevel ? { stepId: step.id } : {}),
      ...(typeof run.params.service === 'string' ? { service: run.params.service } : {}),
      ...(typeof run.params.environment === 'string' ? { environment: run.params.environment } : {}),
      details: stepLevel
        ? {
            definition: run.definitionId,
            action: step?.action,
            attempts: step?.attempts,
            ...(transition === 'step.started' ? { inputs: step?.inputs } : {}),
            ...(step?.error ? { error: step.error } : {}),
            ...(step?.compensation?.error ? { compensationError: step.compensation.error } : {}),
          }
        : {
            definition: run.definitionId,
            status: run.status,
            trigger: run.trigger,
            ...(transition === 'started' || transition === 'awaiting_approval' ? { params: run.params } : {}),
            ...(run.risk ? { risk: Math.round(run.risk.probability * 1000) / 1000 } : {}),
            ...(run.error ? { error: run.error } : {}),
            ...(run.cancel ? { cancelledBy: run.cancel.by } : {}),
          },
    } as Parameters<AuditTrail['record']>[0]);
  }

  private auditApproval(
    approval: Approval,
    actor: Actor,
    phase: AuditPhase,
    details: Record<string, unknown>,
  ): void {
    this.options.audit.record({
      action: 'approval',
      phase,
      actor: actor.id,
      roles: actor.roles,
      correlationId: approval.runId,
      runId: approval.runId,
      approvalId: approval.id,
      details: {
        summary: approval.summary,
        ...(approval.stepId ? { step: approval.stepId } : {}),
        ...details,
      },
    } as Parameters<AuditTrail['record']>[0]);
  }

  private async activeRun(dedupKey: string): Promise<WorkflowRun | undefined> {
    const id = await this.options.store.activeFor(dedupKey);
    const run = id ? await this.get(id) : undefined;
    return run && !FINAL_STATUSES.has(run.status) ? run : undefined;
  }

  private leaseExpired(run: WorkflowRun): boolean {
    if (!this.options.store.shared) return !this.driving.has(run.id);
    return !run.lease || run.lease.until <= this.now();
  }

  /** Runs left running or compensating with no live owner: resumed here. */
  private async adoptOrphans(): Promise<void> {
    const runs = await this.options.store.list({ statuses: ['running', 'compensating'] });
    for (const run of runs) {
      if (this.driving.has(run.id) || !this.leaseExpired(run)) continue;
      const definition = this.definition(run.definitionId, run.kind);
      if (!definition) {
        this.options.logger.error(
          { runId: run.id },
          `cannot resume: ${run.kind} ${run.definitionId} is gone`,
        );
        continue;
      }
      this.options.logger.info({ runId: run.id, status: run.status }, 'resuming a run after a restart');
      this.launch(run, definition, true);
    }
  }

  private async housekeep(): Promise<void> {
    if (this.sweeping || this.closed) return;
    this.sweeping = true;
    try {
      const soon = this.now() + RUN_LEASE_MS / 3;
      for (const driven of this.driving.values()) {
        // Renew leases of runs busy in a long step (a wait), so no other process takes them over.
        if ((driven.run.lease?.until ?? 0) < soon && !FINAL_STATUSES.has(driven.run.status)) {
          await this.commit(driven.run, 'lease_renewed');
        }
      }
      for (const approval of await this.options.store.pendingApprovals()) {
        if (Date.parse(approval.expiresAt) > this.now()) continue;
        const updated = await this.options.store.updateApproval(approval.id, (a) =>
          a.status === 'pending' ? { ...a, status: 'expired', decidedAt: this.iso() } : undefined,
        );
        if (updated?.before.status === 'pending') {
          this.auditApproval(updated.after, { id: 'opsbot', roles: [] }, 'expired', {});
          await this.refuseRun(
            updated.after,
            'expired',
            'the approval expired before enough people approved',
          );
        }
      }
      // Only a shared store can gain orphans while this process runs: another process died.
      if (this.options.store.shared) await this.adoptOrphans();
    } catch (err) {
      this.options.logger.warn({ err }, 'orchestrator housekeeping failed');
    } finally {
      this.sweeping = false;
    }
  }

  private iso(): string {
    return new Date(this.now()).toISOString();
  }
}

/** Transitions that go to the audit log, and as which phase; retries and lease renewals do not. */
const AUDIT_PHASES: Record<string, AuditPhase> = {
  started: 'started',
  awaiting_approval: 'requested',
  approved: 'approved',
  'step.started': 'started',
  'step.succeeded': 'succeeded',
  'step.failed': 'failed',
  'step.compensating': 'compensating',
  'step.compensated': 'compensated',
  'step.compensation_failed': 'failed',
  compensating: 'compensating',
  cancel_requested: 'cancelled',
  succeeded: 'succeeded',
  compensated: 'compensated',
  failed: 'failed',
  cancelled: 'cancelled',
  denied: 'denied',
  expired: 'expired',
} as Record<string, AuditPhase>;

function summaryOf(plan: RunPlan): string {
  const target = [
    plan.blastRadius.services.length > 0 ? `on ${plan.blastRadius.services.join(', ')}` : '',
    plan.blastRadius.environments.length > 0 ? `in ${plan.blastRadius.environments.join(', ')}` : '',
  ]
    .filter(Boolean)
    .join(' ');
  return `run ${plan.definition.kind} ${plan.definition.id}${target ? ` ${target}` : ''}`;
}

function numberOr(value: unknown, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : fallback;
}

function notFound(message: string): OpsbotError {
  return new OpsbotError(ErrorCode.NotFound, message);
}
