import type { NotifyTarget } from '../../bot/config/schema';
import type { ActionTarget } from './action';
import type { ApprovalOutcome, Approval } from './approval';
import type { RunQuery } from './run-store';
import type { RiskAssessment, RunStatus, RunTrigger, WorkflowRun, StepRun } from './run';
import type { RunPolicy, WorkflowDefinition, WorkflowKind } from './workflow';

export interface Actor {
  /** Channel identity ("web:alice"), or "alertmanager", "grafana", "scheduler". */
  id: string;
  roles: string[];
}

export interface RunRequest {
  definitionId: string;
  /** Refuses a definition of the other kind ("start_saga runbook-x"). */
  kind?: WorkflowKind;
  params: Record<string, unknown>;
  actor: Actor;
  trigger: RunTrigger;
  correlationId?: string;
  thread?: NotifyTarget & { messageId?: string };
  /** At most one active run per key (alert fingerprint + runbook); start returns that run instead. */
  dedupKey?: string;
  /** The alert that triggered it: parameter defaults may read `{{ alert.labels.service }}`. */
  alert?: AlertContext;
}

export interface AlertContext {
  fingerprint: string;
  status: 'firing' | 'resolved';
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export interface PlannedStep {
  id: string;
  title?: string;
  action: string;
  mutating: boolean;
  /** Resolved where they can be; references to earlier steps' outputs stay as written ("{{ steps.create.output.id }}"). */
  inputs: Record<string, unknown>;
  target: ActionTarget;
  undo?: { action: string; summary: string };
  timeoutMs: number;
  maxAttempts: number;
  line?: number;
}

/** Everything a run would do, computed with no side effects. */
export interface RunPlan {
  definition: Pick<WorkflowDefinition, 'kind' | 'id' | 'title' | 'source' | 'description'>;
  /** After defaults from the parameter schema. */
  params: Record<string, unknown>;
  steps: PlannedStep[];
  blastRadius: { services: string[]; environments: string[]; mutatingSteps: number };
  /** The definition's policy as it applies to this request: risk may have made approval required. */
  policy: RunPolicy;
  /** Why approval is (or is not) needed, in words. */
  policyNotes: string[];
  risk?: RiskAssessment;
}

/** A transition, as published on the bus (`ops.saga.step.succeeded`) and shown in chat threads. */
export interface RunTransition {
  /** "started", "step.succeeded", "awaiting_approval", "compensating", "succeeded"… */
  type: string;
  run: WorkflowRun;
  step?: StepRun;
  approval?: Approval;
}

export interface WaitOptions {
  /** Resolves when the run reaches one of these; default: any final status. */
  statuses?: readonly RunStatus[];
  timeoutMs?: number;
}

/**
 * The orchestrator as chat skills, REST, the CLI and the alert router use it. Errors are OpsbotErrors:
 * NotFound (no such definition or run), InvalidRequest (parameters fail the schema), Forbidden (the actor's
 * roles are not in the policy), RuleExists… never a bare Error for a caller's mistake.
 */
export interface Orchestrator {
  definitions(kind?: WorkflowKind): readonly WorkflowDefinition[];
  definition(id: string, kind?: WorkflowKind): WorkflowDefinition | undefined;
  plan(request: RunRequest): Promise<RunPlan>;
  /**
   * Starts a run. It waits for an approval (status awaiting_approval, `run.approvalId` set) when the policy or
   * a high risk asks for one, when a chat request needs its requester's own go-ahead (a chat-started run
   * never starts before someone clicks Approve), or when an alert starts a runbook whose policy does not allow
   * auto-run. Otherwise it runs in the background. Resolves with the run as first saved; with a `dedupKey`
   * already held by an active run, resolves with that run instead (`run.id` tells).
   */
  start(request: RunRequest): Promise<WorkflowRun>;
  get(id: string): Promise<WorkflowRun | undefined>;
  list(query?: RunQuery): Promise<WorkflowRun[]>;
  cancel(id: string, actor: Actor, reason?: string): Promise<WorkflowRun>;
  approve(approvalId: string, actor: Actor): Promise<ApprovalOutcome>;
  deny(approvalId: string, actor: Actor, reason?: string): Promise<ApprovalOutcome>;
  approval(approvalId: string): Promise<Approval | undefined>;
  wait(id: string, options?: WaitOptions): Promise<WorkflowRun>;
  onTransition(listener: (transition: RunTransition) => void): () => void;
}
