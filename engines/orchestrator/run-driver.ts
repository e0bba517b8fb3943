import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { backoffDelayMs } from '../eventbus/retry-policy';
import { PermanentActionError, type Action, type ActionRegistry } from './action';
import { APPROVAL_ACTION, effectiveLimits } from './run-planner';
import type { RunStatus, StepRun, WorkflowRun } from './run';
import { resolveTemplates, TemplateError, type TemplateScope } from './templates';
import type { ActionCall, StepDefinition, WorkflowDefinition } from './workflow';

export interface Transition {
  type: string;
  step?: StepRun;
}

/** How a run the driver was working on stopped. */
export type DriveResult =
  | { kind: 'finished'; status: RunStatus }
  /** An approval step was reached: the run waits, and nobody drives it until the approval is decided. */
  | { kind: 'paused'; step: StepDefinition };

/** What the driver needs from the orchestrator around it. */
export interface RunDriverHost {
  actions: ActionRegistry;
  /**
   * Persists the run (bumping its version) and announces the transitions, in order; resolves once it is
   * durable.
   */
  commit(run: WorkflowRun, transitions: readonly Transition[]): Promise<void>;
  now(): number;
  random(): number;
}

/** Raised inside a step when the run is being cancelled, so the step stops and compensation begins. */
class RunCancelled extends Error {}

class StepTimeout extends Error {}

/**
 * Drives one run from its saved state: the remaining steps in order, each with its timeout and retries, then
 * on failure or cancel the compensations of the steps that completed, in reverse order. Every transition is
 * committed before the driver goes on, so a process killed at any point leaves a run another process can
 * resume from the same place.
 */
export class RunDriver {
  /**
   * A step's success waiting to be saved with the next transition (the next step's start, or the run's end),
   * per run: one write instead of two. Only for steps whose action may be sent again after a crash.
   */
  private readonly deferred = new Map<string, Transition[]>();
  private readonly ajv = new Ajv2020({ allErrors: true, strict: false });
  private readonly validators = new Map<Action, ValidateFunction>();

  constructor(private readonly host: RunDriverHost) {
    addFormats(this.ajv);
  }

  /**
   * `resumed`: the run was read back after a restart, so a step found running was in flight when the process
   * died. `signal` aborts the current step when the run is cancelled.
   */
  async drive(
    run: WorkflowRun,
    definition: WorkflowDefinition,
    signal: AbortSignal,
    resumed: boolean,
  ): Promise<DriveResult> {
    if (run.status === 'compensating') return this.compensate(run, definition, resumed);
    for (let index = 0; index < definition.steps.length; index++) {
      const stepDef = definition.steps[index] as StepDefinition;
      const step = run.steps[index] as StepRun;
      if (step.status === 'succeeded' || step.status === 'skipped') continue;
      if (run.cancel || signal.aborted) return this.compensate(run, definition, false);
      if (stepDef.action === APPROVAL_ACTION) return { kind: 'paused', step: stepDef };
      let ok: boolean;
      try {
        ok = await this.runStep(run, stepDef, step, signal, resumed && step.status === 'running');
      } catch (err) {
        if (!(err instanceof RunCancelled)) throw err;
        step.status = 'failed';
        step.error = `stopped: the run was cancelled`;
        step.endedAt = this.iso();
        return this.compensate(run, definition, false);
      }
      if (!ok && stepDef.continueOnError) continue;
      if (!ok) {
        const tries = step.attempts > 1 ? ` after ${step.attempts} attempts` : '';
        run.error = `step ${step.id} failed${tries}: ${step.error ?? 'unknown error'}`;
        return this.compensate(run, definition, false);
      }
    }
    run.status = 'succeeded';
    run.endedAt = this.iso();
    await this.commit(run, 'succeeded');
    return { kind: 'finished', status: 'succeeded' };
  }

  /** Marks an approval step done (approved) so the next drive goes past it. */
  approvalGranted(run: WorkflowRun, stepId: string, by: string[]): void {
    const step = run.steps.find((s) => s.id === stepId);
    if (!step) return;
    step.status = 'succeeded';
    step.output = { approvedBy: by };
    step.endedAt = this.iso();
    delete step.until;
  }

  /**
   * Runs the compensations (undos) of completed steps, last first. Ends `cancelled` for a cancel, `denied` or
   * `expired` when an approval step said no, otherwise `compensated` — or `failed` when there was nothing to
   * undo, or an undo failed (a person must look).
   */
  async compensate(run: WorkflowRun, definition: WorkflowDefinition, resumed: boolean): Promise<DriveResult> {
    const toUndo = definition.steps
      .map((stepDef, index) => ({ stepDef, step: run.steps[index] as StepRun }))
      .filter(
        ({ stepDef, step }) =>
          stepDef.undo !== undefined &&
          (step.status === 'succeeded' || step.status === 'compensating') &&
          step.compensation?.status !== 'succeeded',
      )
      .reverse();
    if (run.status !== 'compensating') {
      run.status = 'compensating';
      await this.commit(run, 'compensating');
    }
    let undoFailed: string | undefined;
    for (const { stepDef, step } of toUndo) {
      const interrupted = resumed && step.compensation?.status === 'running';
      const ok = await this.runUndo(run, stepDef, stepDef.undo as ActionCall, step, interrupted);
      if (!ok) undoFailed ??= `undo of ${step.id} failed: ${step.compensation?.error ?? 'unknown error'}`;
    }
    const compensated = run.steps.some((s) => s.status === 'compensated');
    let status: RunStatus;
    if (undoFailed) status = 'failed';
    else if (run.cancel) status = 'cancelled';
    else if (run.refusal) status = run.refusal;
    else status = compensated ? 'compensated' : 'failed';
    if (undoFailed) run.error = run.error ? `${run.error}; ${undoFailed}` : undoFailed;
    run.status = status;
    run.endedAt = this.iso();
    await this.commit(run, status);
    return { kind: 'finished', status };
  }

  private async runStep(
    run: WorkflowRun,
    stepDef: StepDefinition,
    step: StepRun,
    runSignal: AbortSignal,
    interrupted: boolean,
  ): Promise<boolean> {
    const action = this.host.actions.get(stepDef.action);
    if (!action) return this.fail(run, step, `unknown action ${stepDef.action}`);
    if (interrupted && action.resume === 'never') {
      return this.fail(
        run,
        step,
        `interrupted by a restart of opsbot while running; ${action.name} steps are never run twice, so the run compensates`,
      );
    }
    let inputs: Record<string, unknown>;
    try {
      inputs = this.inputsFor(run, stepDef, action, stepDef.with);
    } catch (err) {
      return this.fail(run, step, (err as Error).message);
    }
    const { timeoutMs, maxAttempts } = effectiveLimits(stepDef, run.risk);
    // A resumed attempt is the same attempt sent again with the same idempotency key, not a new one.
    if (interrupted) step.attempts = Math.max(0, step.attempts - 1);
    for (;;) {
      step.attempts += 1;
      step.status = 'running';
      step.inputs = inputs;
      step.startedAt ??= this.iso();
      await this.commit(run, step.attempts === 1 ? 'step.started' : 'step.retrying', step);
      try {
        step.output = await this.attempt(action, inputs, run, step, timeoutMs, runSignal);
        step.status = 'succeeded';
        delete step.error;
        step.endedAt = this.iso();
        if (action.resume === 'never') await this.commit(run, 'step.succeeded', step);
        else this.defer(run, 'step.succeeded', step);
        return true;
      } catch (err) {
        if (err instanceof RunCancelled) throw err;
        step.error = (err as Error).message;
        const permanent = err instanceof PermanentActionError || err instanceof TemplateError;
        if (permanent || step.attempts >= maxAttempts) return this.fail(run, step, step.error);
        await this.pause(backoffDelayMs(stepDef.retry, step.attempts, this.host.random), runSignal);
      }
    }
  }

  private async runUndo(
    run: WorkflowRun,
    stepDef: StepDefinition,
    undo: ActionCall,
    step: StepRun,
    interrupted: boolean,
  ): Promise<boolean> {
    const action = this.host.actions.get(undo.action);
    const compensation = (step.compensation ??= { status: 'running', attempts: 0 });
    const failUndo = async (message: string) => {
      compensation.status = 'failed';
      compensation.error = message;
      compensation.endedAt = this.iso();
      step.status = 'compensation_failed';
      await this.commit(run, 'step.compensation_failed', step);
      return false;
    };
    if (!action) return failUndo(`unknown action ${undo.action}`);
    if (interrupted && action.resume === 'never') {
      return failUndo(`interrupted by a restart while undoing; ${action.name} is never run twice`);
    }
    let inputs: Record<string, unknown>;
    try {
      inputs = this.inputsFor(run, stepDef, action, undo.with);
    } catch (err) {
      return failUndo((err as Error).message);
    }
    const { timeoutMs, maxAttempts } = effectiveLimits(stepDef, run.risk);
    if (interrupted) compensation.attempts = Math.max(0, compensation.attempts - 1);
    // Compensation is not cancellable: it is what a cancel asks for.
    const never = new AbortController().signal;
    for (;;) {
      compensation.attempts += 1;
      compensation.status = 'running';
      step.status = 'compensating';
      await this.commit(run, 'step.compensating', step);
      try {
        await this.attempt(action, inputs, run, step, timeoutMs, never, `${step.idempotencyKey}:undo`);
        compensation.status = 'succeeded';
        delete compensation.error;
        compensation.endedAt = this.iso();
        step.status = 'compensated';
        await this.commit(run, 'step.compensated', step);
        return true;
      } catch (err) {
        compensation.error = (err as Error).message;
        if (err instanceof PermanentActionError || compensation.attempts >= maxAttempts) {
          return failUndo(compensation.error);
        }
        await this.pause(backoffDelayMs(stepDef.retry, compensation.attempts, this.host.random), never);
      }
    }
  }

  /** One attempt under the step's timeout; a cancel of the run aborts it too. */
  private async attempt(
    action: Action,
    inputs: Record<string, unknown>,
    run: WorkflowRun,
    step: StepRun,
    timeoutMs: number,
    runSignal: AbortSignal,
    idempotencyKey = step.idempotencyKey,
  ): Promise<unknown> {
    if (runSignal.aborted) throw new RunCancelled();
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    const stopped = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        controller.abort();
        reject(new StepTimeout(`timed out after ${formatMs(timeoutMs)}`));
      }, timeoutMs);
      onAbort = () => {
        controller.abort();
        reject(new RunCancelled());
      };
      runSignal.addEventListener('abort', onAbort, { once: true });
    });
    try {
      return await Promise.race([
        action.execute(inputs, {
          run,
          stepId: step.id,
          idempotencyKey,
          attempt: step.attempts,
          signal: controller.signal,
        }),
        stopped,
      ]);
    } finally {
      clearTimeout(timer);
      if (onAbort) runSignal.removeEventListener('abort', onAbort);
      stopped.catch(() => undefined);
    }
  }

  private inputsFor(
    run: WorkflowRun,
    stepDef: StepDefinition,
    action: Action,
    template: Record<string, unknown>,
  ): Record<string, unknown> {
    const scope: TemplateScope = {
      params: run.params,
      steps: Object.fromEntries(run.steps.map((s) => [s.id, { output: s.output }])),
      run: { id: run.id, correlationId: run.correlationId, actor: run.actor },
      alert: run.alert && { labels: run.alert.labels, annotations: run.alert.annotations },
    };
    const inputs = resolveTemplates(template, scope) as Record<string, unknown>;
    let validate = this.validators.get(action);
    if (!validate) {
      validate = this.ajv.compile(action.inputSchema as object);
      this.validators.set(action, validate);
    }
    if (!validate(inputs)) {
      const problems = (validate.errors ?? [])
        .map((e) => `${e.instancePath.slice(1) || 'inputs'} ${e.message ?? 'invalid'}`)
        .join('; ');
      throw new TemplateError(`step ${stepDef.id}: ${action.name} inputs are invalid: ${problems}`);
    }
    return inputs;
  }

  private commit(run: WorkflowRun, type: string, step?: StepRun): Promise<void> {
    const earlier = this.deferred.get(run.id) ?? [];
    this.deferred.delete(run.id);
    return this.host.commit(run, [...earlier, { type, ...(step ? { step } : {}) }]);
  }

  /** Records a transition to be saved with the next one. */
  private defer(run: WorkflowRun, type: string, step: StepRun): void {
    const list = this.deferred.get(run.id) ?? [];
    list.push({ type, step });
    this.deferred.set(run.id, list);
  }

  /** Saves what was deferred, when the driver stops with nothing more to write. */
  async flushDeferred(run: WorkflowRun): Promise<void> {
    const earlier = this.deferred.get(run.id);
    this.deferred.delete(run.id);
    if (earlier && earlier.length > 0) await this.host.commit(run, earlier);
  }

  private async fail(run: WorkflowRun, step: StepRun, message: string): Promise<false> {
    step.status = 'failed';
    step.error = message;
    step.endedAt = this.iso();
    await this.commit(run, 'step.failed', step);
    return false;
  }

  private pause(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (signal.aborted) return reject(new RunCancelled());
      const onAbort = () => {
        clearTimeout(timer);
        reject(new RunCancelled());
      };
      const timer = setTimeout(() => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  private iso(): string {
    return new Date(this.host.now()).toISOString();
  }
}

function formatMs(ms: number): string {
  return ms >= 1000 ? `${Math.round(ms / 100) / 10} s` : `${ms} ms`;
}
