import type { Logger } from '../../../bot/core/logger';
import { type Reply, textReply } from '../../../bot/core/message';
import type { NotificationReceipt, Notifier, NotifyTarget } from '../../../bot/notify/notifier';
import { KeyedSerialQueue } from '../../../bot/core/keyed-serial-queue';
import type { Orchestrator, RunTransition } from '../orchestrator';
import { FINAL_STATUSES, type StepRun, type StepStatus, type WorkflowRun } from '../run';

/** Where a run's progress goes: the chat thread of its plan (`WorkflowRun.thread`). */
export type RunThread = NonNullable<WorkflowRun['thread']>;

/**
 * The thread under a posted message: on Slack, replies to it (its ts becomes the thread ts); Teams and web
 * rooms have no threads a bot can address, so later posts go to the same conversation.
 */
export function threadOfReceipt(receipt: NotificationReceipt): RunThread {
  switch (receipt.channel) {
    case 'slack':
      return receipt.messageId
        ? { channel: 'slack', conversation: receipt.conversation, threadTs: receipt.messageId }
        : { channel: 'slack', conversation: receipt.conversation };
    case 'teams':
      return { channel: 'teams', conversation: receipt.conversation };
    case 'web':
      return { channel: 'web', room: receipt.conversation };
  }
}

/**
 * Where to post into a run's thread. A chat-started run may carry only the id of its plan message; on Slack
 * that id is the ts to thread under.
 */
export function threadTarget(thread: RunThread): NotifyTarget {
  const { messageId, ...target } = thread;
  if (target.channel === 'slack' && target.threadTs === undefined && messageId !== undefined) {
    return { ...target, threadTs: messageId };
  }
  return target;
}

const STEP_RESULTS: ReadonlySet<StepStatus> = new Set([
  'succeeded',
  'failed',
  'skipped',
  'compensated',
  'compensation_failed',
]);

export interface RunThreadReporterDeps {
  orchestrator: Pick<Orchestrator, 'onTransition'>;
  notifier: Notifier;
  /** The final summary of a run (bot/skills/plan-reply.ts `runReply`). */
  renderRun: (run: WorkflowRun) => Reply;
  logger: Logger;
}

/**
 * Posts the progress of every run that has a thread (alert-started and chat-started alike) into that
 * thread: each step result, an approval being waited for, the start of compensation, and the final status.
 * At most one message per transition; steps starting and retrying are left out, they are noise in a chat.
 * Posts of one run go out in transition order; a failed post is logged and never reaches the run.
 */
export class RunThreadReporter {
  private readonly queue = new KeyedSerialQueue();
  private readonly pending = new Set<Promise<void>>();
  private unsubscribe?: () => void;

  constructor(private readonly deps: RunThreadReporterDeps) {}

  start(): this {
    this.unsubscribe ??= this.deps.orchestrator.onTransition((transition) => this.report(transition));
    return this;
  }

  /** Stops listening and waits for the posts already queued. */
  async stop(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    await this.settled();
  }

  /** Resolves once every post queued so far has gone out (or failed). */
  async settled(): Promise<void> {
    while (this.pending.size > 0) await Promise.all(this.pending);
  }

  private report(transition: RunTransition): void {
    const { run } = transition;
    if (!run.thread) return;
    const reply = this.replyFor(transition);
    if (!reply) return;
    const target = threadTarget(run.thread);
    const post = this.queue
      .run(run.id, () => this.deps.notifier.notify(target, reply))
      .then(
        () => undefined,
        (err: unknown) =>
          this.deps.logger.warn(
            { err, runId: run.id, transition: transition.type, channel: target.channel },
            'could not post run progress into its thread',
          ),
      );
    this.pending.add(post);
    void post.finally(() => this.pending.delete(post));
  }

  private replyFor({ type, run, step, approval }: RunTransition): Reply | undefined {
    if (FINAL_STATUSES.has(run.status) && type === run.status) return this.deps.renderRun(run);
    if (step && type.startsWith('step.') && STEP_RESULTS.has(step.status)) {
      return textReply(stepLine(run, step));
    }
    if (type === 'awaiting_approval' && approval) {
      const waitingFor = approval.required - approval.approvals.length;
      return textReply(
        `${run.title} is waiting for ${waitingFor === 1 ? 'one approval' : `${waitingFor} approvals`} ` +
          `(approve ${approval.id}; expires ${approval.expiresAt}).`,
      );
    }
    if (type === 'compensating') {
      const done = run.steps.filter((s) => s.status === 'succeeded').length;
      return textReply(
        `${run.title} is undoing ${done === 1 ? 'its completed step' : `${done} completed steps`}.`,
      );
    }
    return undefined;
  }
}

function stepLine(run: WorkflowRun, step: StepRun): string {
  const position = `Step ${run.steps.findIndex((s) => s.id === step.id) + 1}/${run.steps.length} ${step.id}`;
  switch (step.status) {
    case 'succeeded':
      return `${position} succeeded${step.attempts > 1 ? ` after ${step.attempts} attempts` : ''}.`;
    case 'failed':
      return `${position} failed: ${step.error ?? 'no reason given'}.`;
    case 'skipped':
      return `${position} skipped.`;
    case 'compensated':
      return `${position} undone.`;
    default:
      return `${position}: undoing it failed (${step.compensation?.error ?? step.error ?? 'no reason given'}); a person must look.`;
  }
}
