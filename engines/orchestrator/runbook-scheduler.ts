import { randomUUID } from 'node:crypto';
import type { NotifyTarget } from '../../bot/config/schema';
import type { Logger } from '../../bot/core/logger';
import type { Reply } from '../../bot/core/message';
import type { Notifier } from '../../bot/notify/notifier';
import type { Approval } from './approval';
import type { Orchestrator, RunPlan } from './orchestrator';
import type { RunStore } from './run-store';
import { nextRun } from './runbooks/cron';

/** Schedules are checked this often; a run starts within this long of its minute. */
export const SCHEDULE_CHECK_MS = 15_000;

/**
 * Starts runbooks at the times their `triggers.schedules` name (five-field cron, UTC), from the moment this
 * process started: a minute missed while no opsbot ran is not made up. Every process runs one; each
 * scheduled minute starts once, because the first process to claim it in the run store wins. A runbook whose
 * policy does not allow auto-run waits for approval, its plan posted where alert plans go.
 */
export class RunbookScheduler {
  private timer?: NodeJS.Timeout;
  private checkedUntil: number;
  private checking = false;
  /** Who claims scheduled minutes in the store: unique per scheduler, so a claim is this one's or another's. */
  private readonly claimant = `scheduler-${randomUUID()}`;

  constructor(
    private readonly deps: {
      orchestrator: Orchestrator;
      store: RunStore;
      notifier: Notifier;
      target?: string | NotifyTarget;
      renderPlan: (plan: RunPlan, approval?: Approval) => Reply;
      logger: Logger;
      now?: () => number;
    },
  ) {
    this.checkedUntil = this.now();
  }

  start(): this {
    this.timer = setInterval(() => void this.check(), SCHEDULE_CHECK_MS);
    this.timer.unref();
    return this;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Starts every run due since the last check. */
  async check(): Promise<void> {
    if (this.checking) return;
    this.checking = true;
    const from = this.checkedUntil;
    const until = this.now();
    try {
      for (const definition of this.deps.orchestrator.definitions('runbook')) {
        for (const schedule of definition.triggers.schedules) {
          for (
            let at = nextRun(schedule, new Date(from));
            at.getTime() <= until;
            at = nextRun(schedule, at)
          ) {
            await this.fire(definition.id, schedule, at);
          }
        }
      }
      this.checkedUntil = until;
    } catch (err) {
      this.deps.logger.warn({ err }, 'runbook schedule check failed');
    } finally {
      this.checking = false;
    }
  }

  private async fire(runbook: string, schedule: string, at: Date): Promise<void> {
    const minute = at.toISOString();
    // Never released: the minute has been claimed for good, so no other process starts it again.
    if (!(await this.deps.store.claimKey(`schedule:${runbook}:${minute}`, this.claimant))) return;
    const request = {
      definitionId: runbook,
      kind: 'runbook' as const,
      params: {},
      actor: { id: 'scheduler', roles: [] },
      trigger: { type: 'schedule' as const, ref: `${schedule} @ ${minute}` },
    };
    try {
      const run = await this.deps.orchestrator.start(request);
      this.deps.logger.info({ runId: run.id, runbook, schedule }, `scheduled run of ${runbook} started`);
      if (this.deps.target && run.status === 'awaiting_approval' && run.approvalId) {
        const plan = await this.deps.orchestrator.plan(request);
        const approval = await this.deps.orchestrator.approval(run.approvalId);
        await this.deps.notifier.notify(this.deps.target, this.deps.renderPlan(plan, approval));
      }
    } catch (err) {
      this.deps.logger.warn({ err, runbook, schedule }, `scheduled run of ${runbook} did not start`);
    }
  }

  private now(): number {
    return (this.deps.now ?? Date.now)();
  }
}
