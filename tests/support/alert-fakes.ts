import { Writable } from 'node:stream';
import { ErrorCode, OpsbotError } from '../../bot/core/errors';
import { createLogger, type Logger } from '../../bot/core/logger';
import { type Reply, textReply } from '../../bot/core/message';
import type { NotificationReceipt, NotificationSender, NotifyTarget } from '../../bot/notify/notifier';
import type { Alert } from '../../engines/orchestrator/alerts/alert';
import type { Approval, ApprovalOutcome } from '../../engines/orchestrator/approval';
import type {
  Actor,
  Orchestrator,
  RunPlan,
  RunRequest,
  RunTransition,
} from '../../engines/orchestrator/orchestrator';
import { FINAL_STATUSES, type RunStatus, type WorkflowRun } from '../../engines/orchestrator/run';
import type { RunQuery } from '../../engines/orchestrator/run-store';
import {
  DEFAULT_POLICY,
  type LabelMatcher,
  type WorkflowDefinition,
} from '../../engines/orchestrator/workflow';

/**
 * Fakes for the alert router's tests: an orchestrator that keeps runs in memory and follows the contract the
 * router relies on (one active run per dedup key; an alert-started runbook waits for approval unless its
 * policy allows auto-run), and a Slack-like sender that captures what was posted.
 */

export function runbook(
  id: string,
  alerts: LabelMatcher[][],
  options: { autoRun?: boolean } = {},
): WorkflowDefinition {
  return {
    kind: 'runbook',
    id,
    title: `Runbook ${id}`,
    description: '',
    source: `runbooks/${id}.md`,
    parameters: { type: 'object', properties: {} },
    policy: { ...DEFAULT_POLICY, autoRun: options.autoRun ?? false },
    triggers: { alerts, intents: [], schedules: [] },
    steps: [],
  };
}

export const eq = (name: string, value: string): LabelMatcher => ({ name, op: '=', value });

export function alert(overrides: Partial<Alert> & { labels?: Record<string, string> } = {}): Alert {
  return {
    source: 'alertmanager',
    fingerprint: 'a1b2c3d4e5f60718',
    status: 'firing',
    labels: { alertname: 'ServiceDown', service: 'payments', severity: 'critical' },
    annotations: { summary: 'payments is not answering' },
    startsAt: '2025-01-01T10:00:00.000Z',
    ...overrides,
  };
}

export class FakeOrchestrator implements Orchestrator {
  readonly runs = new Map<string, WorkflowRun>();
  readonly starts: RunRequest[] = [];
  readonly cancels: { id: string; actor: Actor; reason?: string }[] = [];
  /** Definitions whose start is refused with this error, as a failing parameter schema would. */
  readonly refusals = new Map<string, OpsbotError>();
  private readonly approvals = new Map<string, Approval>();
  private readonly keys = new Map<string, string>();
  private readonly listeners = new Set<(transition: RunTransition) => void>();

  constructor(private readonly defs: WorkflowDefinition[]) {}

  definitions(kind?: WorkflowDefinition['kind']): readonly WorkflowDefinition[] {
    return this.defs.filter((d) => kind === undefined || d.kind === kind);
  }

  definition(id: string): WorkflowDefinition | undefined {
    return this.defs.find((d) => d.id === id);
  }

  async plan(request: RunRequest): Promise<RunPlan> {
    const def = this.required(request.definitionId);
    return {
      definition: def,
      params: request.params,
      steps: [],
      blastRadius: { services: [], environments: [], mutatingSteps: 0 },
      policy: def.policy,
      policyNotes: [],
    };
  }

  async start(request: RunRequest): Promise<WorkflowRun> {
    this.starts.push(request);
    const def = this.required(request.definitionId);
    const refusal = this.refusals.get(def.id);
    if (refusal) throw refusal;
    const held = request.dedupKey === undefined ? undefined : this.keys.get(request.dedupKey);
    if (held) return this.runs.get(held) as WorkflowRun;
    const id = `run-${this.runs.size + 1}`;
    const now = new Date().toISOString();
    const run: WorkflowRun = {
      id,
      kind: def.kind,
      definitionId: def.id,
      title: def.title,
      params: request.params,
      status: def.policy.autoRun ? 'running' : 'awaiting_approval',
      steps: [],
      actor: request.actor.id,
      roles: request.actor.roles,
      trigger: request.trigger,
      correlationId: `corr-${id}`,
      createdAt: now,
      updatedAt: now,
      ...(request.thread ? { thread: request.thread } : {}),
      version: 1,
    };
    if (run.status === 'awaiting_approval') {
      run.approvalId = `appr${this.runs.size + 1}`;
      this.approvals.set(run.approvalId, {
        id: run.approvalId,
        runId: id,
        summary: `run ${def.id}`,
        required: 1,
        selfApproval: true,
        roles: [],
        requestedBy: request.actor.id,
        approvals: [],
        status: 'pending',
        createdAt: now,
        expiresAt: now,
      });
    }
    this.runs.set(id, run);
    if (request.dedupKey !== undefined) this.keys.set(request.dedupKey, id);
    return { ...run };
  }

  async get(id: string): Promise<WorkflowRun | undefined> {
    const run = this.runs.get(id);
    return run && { ...run };
  }

  async list(query: RunQuery = {}): Promise<WorkflowRun[]> {
    return [...this.runs.values()]
      .filter((r) => query.definitionId === undefined || r.definitionId === query.definitionId)
      .filter((r) => query.statuses === undefined || query.statuses.includes(r.status))
      .map((r) => ({ ...r }));
  }

  async cancel(id: string, actor: Actor, reason?: string): Promise<WorkflowRun> {
    this.cancels.push({ id, actor, reason });
    return this.finish(id, 'cancelled');
  }

  async approve(): Promise<ApprovalOutcome> {
    throw new Error('approvals are decided in chat, not by the alert router');
  }

  async deny(): Promise<ApprovalOutcome> {
    throw new Error('approvals are decided in chat, not by the alert router');
  }

  async approval(id: string): Promise<Approval | undefined> {
    return this.approvals.get(id);
  }

  async wait(id: string): Promise<WorkflowRun> {
    const run = this.runs.get(id);
    if (!run) throw new OpsbotError(ErrorCode.NotFound, `no run ${id}`);
    return { ...run };
  }

  onTransition(listener: (transition: RunTransition) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Moves a run on, as the executor would, freeing its dedup key when the status is final. */
  finish(id: string, status: RunStatus): WorkflowRun {
    const run = this.runs.get(id);
    if (!run) throw new OpsbotError(ErrorCode.NotFound, `no run ${id}`);
    run.status = status;
    if (FINAL_STATUSES.has(status)) {
      for (const [key, holder] of this.keys) if (holder === id) this.keys.delete(key);
    }
    return { ...run };
  }

  emit(transition: RunTransition): void {
    for (const listener of this.listeners) listener(transition);
  }

  private required(id: string): WorkflowDefinition {
    const def = this.definition(id);
    if (!def) throw new OpsbotError(ErrorCode.NotFound, `no definition ${id}`);
    return def;
  }
}

/** A Slack sender that keeps every post; each gets a new message ts, as chat.postMessage returns. */
export class CapturingSlackSender implements NotificationSender {
  readonly channel = 'slack';
  readonly posts: { target: NotifyTarget; reply: Reply; messageId: string }[] = [];
  /** While set, every send fails, as Slack does when it is down. */
  failure?: Error;

  async send(target: NotifyTarget, reply: Reply): Promise<NotificationReceipt> {
    if (this.failure) throw this.failure;
    if (target.channel !== 'slack') throw new Error(`not a Slack target: ${target.channel}`);
    const messageId = `1700000000.${String(this.posts.length + 1).padStart(6, '0')}`;
    this.posts.push({ target, reply, messageId });
    return { channel: 'slack', conversation: target.conversation, messageId };
  }

  /** Posts threaded under the message with this ts. */
  inThread(threadTs: string): string[] {
    return this.posts
      .filter((p) => p.target.channel === 'slack' && p.target.threadTs === threadTs)
      .map((p) => p.reply.text);
  }
}

/** Stands in for bot/skills/plan-reply.ts: enough to see which plan, and which approval, was posted. */
export function planText(plan: RunPlan, approval?: Approval): Reply {
  return textReply(`plan of ${plan.definition.id}${approval ? ` (approve ${approval.id})` : ''}`);
}

/** A logger whose lines a test can read. */
export function capturingLogger(): { logger: Logger; lines: Record<string, any>[] } {
  const lines: Record<string, any>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { logger: createLogger('info', sink), lines };
}
