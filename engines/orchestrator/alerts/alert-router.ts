import { isOpsbotError } from '../../../bot/core/errors';
import { KeyedSerialQueue } from '../../../bot/core/keyed-serial-queue';
import type { Logger } from '../../../bot/core/logger';
import { type Block, type Reply, textReply } from '../../../bot/core/message';
import type { RecordStore } from '../../../bot/core/record-store';
import type { NotificationReceipt, Notifier, NotifyTarget } from '../../../bot/notify/notifier';
import type { Approval } from '../approval';
import type { Actor, AlertContext, Orchestrator, RunPlan, RunRequest } from '../orchestrator';
import type { RunStatus, WorkflowRun } from '../run';
import { matchesAll } from '../runbooks/label-matchers';
import type { WorkflowDefinition } from '../workflow';
import type { Alert } from './alert';
import { type RunThread, threadOfReceipt, threadTarget } from './run-thread-reporter';

/**
 * What became of one alert for one runbook: a run started, or was left waiting for approval; a repeat updated
 * the thread of the run it already has; a resolved alert cancelled the run waiting for approval; nothing is
 * bound to it and runbooks were suggested (or not); a resolved alert had no run to act on (`ignored`); the
 * runbook refused to start for it (`failed`, with the reason); a silence matched the firing alert, so nothing
 * was started, suggested or posted (`silenced`, with the silence's id).
 */
export type AlertAction =
  | 'started'
  | 'awaiting_approval'
  | 'updated'
  | 'cancelled'
  | 'suggested'
  | 'unmatched'
  | 'ignored'
  | 'failed'
  | 'silenced';

export interface AlertOutcome {
  fingerprint: string;
  /** The runbook whose trigger matched; absent when none did. */
  runbook?: string;
  runId?: string;
  action: AlertAction;
  /** Why the run could not start or be cancelled (`failed`). */
  error?: string;
  /** The silence that matched a firing alert (`silenced`). */
  silenceId?: string;
}

/** A runbook that looks relevant to an alert no trigger matched (from knowledge search). */
export interface RunbookSuggestion {
  runbookId: string;
  title: string;
  score: number;
}

/**
 * What the router remembers per alert and runbook (key `<fingerprint>:<runbook>`), or per alert alone for a
 * suggestion (key `<fingerprint>`), from the first firing notification until the resolved one: the thread
 * repeats are posted into, and the run it has.
 */
export interface AlertThreadRecord {
  /** Absent for a suggestion, and while the runbook refuses to start. */
  runId?: string;
  /** Absent when no alerts target is configured or the first post failed. */
  thread?: RunThread;
  /** Firing notifications received, the first included. */
  notifications: number;
}

export interface AlertRouterDeps {
  orchestrator: Orchestrator;
  notifier: Notifier;
  /** Where alert threads start (config `orchestrator.alertsTarget`); without one, runs start unannounced. */
  target?: string | NotifyTarget;
  /** Runbooks that look relevant to an alert no trigger matches: posted as suggestions, never started. */
  suggest?: (alert: Alert) => Promise<RunbookSuggestion[]>;
  /** The plan of a new run, with the approval it waits for (bot/skills/plan-reply.ts `planReply`). */
  renderPlan: (plan: RunPlan, approval?: Approval) => Reply;
  /** Survives restarts, so a repeat after one still finds its thread and run. */
  threads: RecordStore<AlertThreadRecord>;
  /**
   * The id of a silence that matches the alert, if any: opsbot's own silences when no Alertmanager is
   * configured (Alertmanager applies its own before it notifies). A firing alert a silence matches starts
   * nothing; a resolved one is still handled, so a run waiting for approval is cancelled all the same.
   */
  silencedBy?: (alert: Alert) => Promise<string | undefined>;
  /** Keeps every alert routed, for alert_status without Alertmanager; a failure is logged, never fatal. */
  record?: (alerts: readonly Alert[]) => Promise<void>;
  logger: Logger;
}

const MAX_SUGGESTIONS = 5;
const ACTIVE_STATUSES: readonly RunStatus[] = ['awaiting_approval', 'running', 'compensating'];

const STATUS_WORDS: Record<RunStatus, string> = {
  awaiting_approval: 'is awaiting approval',
  running: 'is running',
  compensating: 'is undoing its steps',
  succeeded: 'succeeded',
  compensated: 'failed and was undone',
  failed: 'failed',
  cancelled: 'was cancelled',
  denied: 'was denied',
  expired: 'expired before anyone approved it',
};

/**
 * Turns alerts into runbook runs. An alert starts every runbook whose `triggers.alerts` match its labels, at
 * most one active run per alert and runbook (the orchestrator deduplicates on `<fingerprint>:<runbook>`);
 * whether the run goes ahead or waits for a person is the orchestrator's decision (the runbook's auto-run
 * policy). Each alert gets a chat thread in the alerts target: a headline first, so the run can be started
 * with its thread already known and every transition lands there, then the plan, then one line per repeat
 * and the resolution. A resolved alert cancels a run still waiting for approval. An alert no runbook is bound
 * to gets knowledge-search suggestions, once per firing.
 *
 * Chat delivery never fails an alert: a post that fails is logged and the run still starts. Notifications of
 * one alert and runbook are handled one at a time, as Alertmanager pairs in HA send each one twice.
 */
export class AlertRouter {
  private readonly queue = new KeyedSerialQueue();

  constructor(private readonly deps: AlertRouterDeps) {}

  /** One outcome per alert and matched runbook, or one per alert that matched none; in payload order. */
  async route(alerts: readonly Alert[]): Promise<AlertOutcome[]> {
    await this.deps
      .record?.(alerts)
      .catch((err: unknown) => this.deps.logger.warn({ err }, 'could not keep alerts in the alert list'));
    const outcomes: AlertOutcome[] = [];
    for (const alert of alerts) {
      for (const outcome of await this.routeOne(alert)) {
        this.deps.logger.info({ event: 'alert.routed', source: alert.source, ...outcome }, 'alert routed');
        outcomes.push(outcome);
      }
    }
    return outcomes;
  }

  private async routeOne(alert: Alert): Promise<AlertOutcome[]> {
    const silenceId = alert.status === 'firing' ? await this.silenceOf(alert) : undefined;
    if (silenceId !== undefined) return [{ fingerprint: alert.fingerprint, action: 'silenced', silenceId }];
    const runbooks = this.runbooksFor(alert);
    if (runbooks.length === 0) return [await this.queue.run(alert.fingerprint, () => this.unbound(alert))];
    const outcomes: AlertOutcome[] = [];
    for (const runbook of runbooks) {
      const key = `${alert.fingerprint}:${runbook.id}`;
      outcomes.push(
        await this.queue.run(key, () =>
          alert.status === 'firing' ? this.firing(alert, runbook, key) : this.resolved(alert, runbook, key),
        ),
      );
    }
    return outcomes;
  }

  /** A silence store that fails must not swallow alerts: the alert is then routed as if none matched. */
  private async silenceOf(alert: Alert): Promise<string | undefined> {
    if (!this.deps.silencedBy) return undefined;
    try {
      return await this.deps.silencedBy(alert);
    } catch (err) {
      this.deps.logger.warn({ err, fingerprint: alert.fingerprint }, 'could not check silences for an alert');
      return undefined;
    }
  }

  private runbooksFor(alert: Alert): WorkflowDefinition[] {
    // An empty rule would match every alert; the runbook linter refuses one, and it is never read as "any".
    return this.deps.orchestrator
      .definitions('runbook')
      .filter((d) => d.triggers.alerts.some((rule) => rule.length > 0 && matchesAll(rule, alert.labels)));
  }

  private async firing(alert: Alert, runbook: WorkflowDefinition, key: string): Promise<AlertOutcome> {
    const outcome = { fingerprint: alert.fingerprint, runbook: runbook.id };
    const record = await this.deps.threads.get(key);
    const thread = record?.thread ?? (await this.openThread(alert, runbook));
    const notifications = (record?.notifications ?? 0) + 1;
    const request: RunRequest = {
      definitionId: runbook.id,
      kind: 'runbook',
      params: {},
      actor: this.actor(alert),
      trigger: { type: 'alert', ref: alert.fingerprint },
      dedupKey: key,
      alert: alertContext(alert),
      ...(thread ? { thread } : {}),
    };

    let run: WorkflowRun;
    try {
      run = await this.deps.orchestrator.start(request);
    } catch (err) {
      if (!isOpsbotError(err)) throw err;
      await this.post(
        thread ? threadTarget(thread) : this.deps.target,
        textReply(
          `${alertName(alert)} matched runbook **${runbook.id}**, but it could not start: ${err.message}`,
        ),
      );
      await this.deps.threads.put(key, { thread, notifications });
      return { ...outcome, action: 'failed', error: err.message };
    }

    if (record?.runId === run.id) {
      await this.post(
        thread && threadTarget(thread),
        textReply(
          `${alertName(alert)} is still firing (${ordinal(notifications)} notification); ` +
            `run ${run.id} ${STATUS_WORDS[run.status]}.`,
        ),
      );
      await this.deps.threads.put(key, { ...record, notifications });
      return { ...outcome, runId: run.id, action: 'updated' };
    }

    // A new run: the first for this alert, or the next one after the previous run ended while it still fires.
    if (thread) await this.announce(request, run, threadTarget(thread));
    await this.deps.threads.put(key, { runId: run.id, thread, notifications });
    return {
      ...outcome,
      runId: run.id,
      action: run.status === 'awaiting_approval' ? 'awaiting_approval' : 'started',
    };
  }

  private async resolved(alert: Alert, runbook: WorkflowDefinition, key: string): Promise<AlertOutcome> {
    const outcome = { fingerprint: alert.fingerprint, runbook: runbook.id };
    const record = await this.deps.threads.get(key);
    // Without a record (lost, or the process died between start and writing it) the run is found by its
    // trigger: a run left waiting for approval after its alert resolved must not be approved by mistake.
    const run = record?.runId
      ? await this.deps.orchestrator.get(record.runId)
      : await this.activeRunFor(alert, runbook);
    const thread = record?.thread ?? run?.thread;
    // The thread's story ends here: if the alert fires again, that is a new incident with a thread of its own.
    await this.deps.threads.delete(key);

    if (run?.status === 'awaiting_approval') {
      let cancelled: WorkflowRun;
      try {
        cancelled = await this.deps.orchestrator.cancel(run.id, this.actor(alert), 'alert resolved');
      } catch (err) {
        if (!isOpsbotError(err)) throw err;
        return { ...outcome, runId: run.id, action: 'failed', error: err.message };
      }
      await this.post(
        thread ? threadTarget(thread) : this.deps.target,
        textReply(
          cancelled.status === 'cancelled'
            ? `${alertName(alert)} resolved; run ${run.id} was cancelled before it started.`
            : `${alertName(alert)} resolved; run ${run.id} ${STATUS_WORDS[cancelled.status]}.`,
        ),
      );
      return { ...outcome, runId: run.id, action: 'cancelled' };
    }

    if (!thread) return { ...outcome, ...(run ? { runId: run.id } : {}), action: 'ignored' };
    await this.post(
      threadTarget(thread),
      textReply(
        run
          ? `${alertName(alert)} resolved; run ${run.id} ${STATUS_WORDS[run.status]}.`
          : `${alertName(alert)} resolved.`,
      ),
    );
    return { ...outcome, ...(run ? { runId: run.id } : {}), action: 'updated' };
  }

  /** An alert no runbook is bound to: suggestions once per firing, forgotten when it resolves. */
  private async unbound(alert: Alert): Promise<AlertOutcome> {
    const unmatched: AlertOutcome = { fingerprint: alert.fingerprint, action: 'unmatched' };
    const record = await this.deps.threads.get(alert.fingerprint);
    if (alert.status === 'resolved') {
      if (record) await this.deps.threads.delete(alert.fingerprint);
      return unmatched;
    }
    if (record) {
      await this.deps.threads.put(alert.fingerprint, { ...record, notifications: record.notifications + 1 });
      return { ...unmatched, action: 'suggested' };
    }
    if (!this.deps.suggest || this.deps.target === undefined) return unmatched;

    let suggestions: RunbookSuggestion[];
    try {
      suggestions = (await this.deps.suggest(alert)).slice(0, MAX_SUGGESTIONS);
    } catch (err) {
      this.deps.logger.warn(
        { err, fingerprint: alert.fingerprint },
        'runbook suggestions for an alert failed',
      );
      return unmatched;
    }
    if (suggestions.length === 0) return unmatched;
    const receipt = await this.post(this.deps.target, suggestionReply(alert, suggestions));
    if (!receipt) return unmatched;
    await this.deps.threads.put(alert.fingerprint, { thread: threadOfReceipt(receipt), notifications: 1 });
    return { ...unmatched, action: 'suggested' };
  }

  /** The headline of the alert's thread, posted before the run starts so the run knows its thread. */
  private async openThread(alert: Alert, runbook: WorkflowDefinition): Promise<RunThread | undefined> {
    const receipt = await this.post(this.deps.target, headlineReply(alert, runbook));
    return receipt && threadOfReceipt(receipt);
  }

  /** The plan of a run that has just started, with the approval it waits for; posting must not fail the alert. */
  private async announce(request: RunRequest, run: WorkflowRun, where: NotifyTarget): Promise<void> {
    let reply: Reply;
    try {
      const plan = await this.deps.orchestrator.plan(request);
      const approval =
        run.status === 'awaiting_approval' && run.approvalId
          ? await this.deps.orchestrator.approval(run.approvalId)
          : undefined;
      reply = this.deps.renderPlan(plan, approval);
    } catch (err) {
      this.deps.logger.warn({ err, runId: run.id }, 'could not render the plan of an alert-started run');
      reply = textReply(`Run ${run.id} of **${run.definitionId}** ${STATUS_WORDS[run.status]}.`);
    }
    await this.post(where, reply);
  }

  private async activeRunFor(alert: Alert, runbook: WorkflowDefinition): Promise<WorkflowRun | undefined> {
    const runs = await this.deps.orchestrator.list({
      kind: 'runbook',
      definitionId: runbook.id,
      statuses: ACTIVE_STATUSES,
    });
    return runs.find((r) => r.trigger.type === 'alert' && r.trigger.ref === alert.fingerprint);
  }

  private actor(alert: Alert): Actor {
    return { id: alert.source, roles: [] };
  }

  /** Posts, logging a failure instead of throwing it; nothing is posted without a place to post. */
  private async post(
    where: string | NotifyTarget | undefined,
    reply: Reply,
  ): Promise<NotificationReceipt | undefined> {
    if (where === undefined) return undefined;
    try {
      return await this.deps.notifier.notify(where, reply);
    } catch (err) {
      this.deps.logger.warn(
        { err, target: typeof where === 'string' ? where : where.channel },
        'could not post an alert notification',
      );
      return undefined;
    }
  }
}

function alertContext(alert: Alert): AlertContext {
  return {
    fingerprint: alert.fingerprint,
    status: alert.status,
    labels: alert.labels,
    annotations: alert.annotations,
  };
}

/** "ServiceDown for payments": the alert rule, and what it is about when a label says. */
function alertName(alert: Alert): string {
  const name = alert.labels.alertname ?? `alert ${alert.fingerprint}`;
  const subject = alert.labels.service ?? alert.labels.job ?? alert.labels.instance;
  return subject ? `${name} for ${subject}` : name;
}

function headlineReply(alert: Alert, runbook: WorkflowDefinition): Reply {
  const summary = alert.annotations.summary ?? alert.annotations.description;
  const headline = `**${alertName(alert)}** is firing: runbook **${runbook.id}** (${runbook.title}) matched. The plan and its progress follow.`;
  const fields = [
    ...(alert.labels.severity ? [{ label: 'Severity', value: alert.labels.severity }] : []),
    ...(alert.labels.environment ? [{ label: 'Environment', value: alert.labels.environment }] : []),
    { label: 'Since', value: alert.startsAt },
    { label: 'Source', value: alert.generatorURL ?? alert.source },
  ];
  const blocks: Block[] = [
    { type: 'section', text: summary ? `${headline}\n${summary}` : headline },
    { type: 'fields', fields },
  ];
  return { text: summary ? `${headline} ${summary}` : headline, blocks };
}

function suggestionReply(alert: Alert, suggestions: RunbookSuggestion[]): Reply {
  const intro = `No runbook is bound to ${alertName(alert)}; these look relevant (nothing was started):`;
  const items = suggestions.map((s) => `${s.title} (\`${s.runbookId}\`, score ${s.score.toFixed(2)})`);
  return {
    text: `${intro} ${items.join('; ')}`,
    blocks: [
      { type: 'section', text: intro },
      { type: 'list', items },
    ],
  };
}

/** 1st, 2nd, 3rd, 4th… 11th, 12th, 13th… 21st. */
function ordinal(n: number): string {
  const teen = n % 100 >= 11 && n % 100 <= 13;
  const suffix = teen ? 'th' : (['th', 'st', 'nd', 'rd'][n % 10] ?? 'th');
  return `${n}${suffix}`;
}
