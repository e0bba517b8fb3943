import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AuditEntry } from '../../bot/core/audit-trail';
import { createLogger } from '../../bot/core/logger';
import {
  ActionRegistry,
  PermanentActionError,
  type Action,
  type ActionContext,
} from '../../engines/orchestrator/action';
import { FileRunStore } from '../../engines/orchestrator/file-run-store';
import type { RunTransition } from '../../engines/orchestrator/orchestrator';
import { OrchestratorService } from '../../engines/orchestrator/orchestrator-service';
import {
  DEFAULT_POLICY,
  type RunPolicy,
  type StepDefinition,
  type WorkflowDefinition,
} from '../../engines/orchestrator/workflow';

const logger = createLogger('silent');

/** Every call an action got, in order: what the tests check execution (and non-duplication) against. */
interface Call {
  action: string;
  key: string;
  inputs: Record<string, unknown>;
}

function recordingAction(
  name: string,
  calls: Call[],
  behaviour: (inputs: Record<string, unknown>, ctx: ActionContext) => Promise<unknown> = async () => ({
    ok: true,
  }),
): Action {
  return {
    name,
    summary: name,
    inputSchema: { type: 'object' },
    mutating: true,
    resume: 'by-key',
    describe: (inputs) => ({
      summary: `${name} ${JSON.stringify(inputs)}`,
      services: inputs.service ? [String(inputs.service)] : [],
    }),
    async execute(inputs, ctx) {
      calls.push({ action: name, key: ctx.idempotencyKey, inputs });
      return behaviour(inputs, ctx);
    },
  };
}

function step(id: string, action: string, extra: Partial<StepDefinition> = {}): StepDefinition {
  return {
    id,
    action,
    with: { step: id },
    mutating: true,
    timeoutMs: 2000,
    retry: { maxAttempts: 3, initialDelayMs: 1, maxDelayMs: 2 },
    ...extra,
  };
}

function saga(id: string, steps: StepDefinition[], policy: Partial<RunPolicy> = {}): WorkflowDefinition {
  return {
    kind: 'saga',
    id,
    title: id,
    description: id,
    source: `sagas/${id}.yaml`,
    parameters: { type: 'object', properties: { service: { type: 'string', default: 'payments' } } },
    policy: { ...DEFAULT_POLICY, ...policy, approval: { ...DEFAULT_POLICY.approval, ...policy.approval } },
    triggers: { alerts: [], intents: [], schedules: [] },
    steps,
  };
}

describe('OrchestratorService', () => {
  let dir: string;
  let calls: Call[];
  let audit: AuditEntry[];
  let transitions: RunTransition[];
  const services: OrchestratorService[] = [];

  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'orch-'));
    calls = [];
    audit = [];
    transitions = [];
  });
  afterEach(async () => {
    await Promise.all(services.splice(0).map((s) => s.close()));
    rmSync(dir, { recursive: true, force: true });
  });

  function service(
    definitions: WorkflowDefinition[],
    actions: ActionRegistry,
    store = new FileRunStore(dir),
  ) {
    const orchestrator = new OrchestratorService({
      store,
      actions,
      definitions: () => definitions,
      audit: { record: (entry) => void audit.push(entry) },
      logger,
      rolesAllow: (roles) => roles.includes('operator'),
    });
    orchestrator.onTransition((t) => transitions.push(t));
    services.push(orchestrator);
    return orchestrator;
  }

  const operator = { id: 'web:alice', roles: ['operator'] };
  const rest = { type: 'rest' as const };

  it('runs the steps in order with stable idempotency keys, and records every transition', async () => {
    const actions = new ActionRegistry().register(recordingAction('do', calls));
    const orch = service([saga('three', [step('a', 'do'), step('b', 'do'), step('c', 'do')])], actions);
    const started = await orch.start({ definitionId: 'three', params: {}, actor: operator, trigger: rest });
    const run = await orch.wait(started.id, { timeoutMs: 5000 });
    expect(run.status).toBe('succeeded');
    expect(calls.map((c) => c.key)).toEqual([`${run.id}:a`, `${run.id}:b`, `${run.id}:c`]);
    expect(run.params).toEqual({ service: 'payments' });
    expect(transitions.map((t) => t.type)).toEqual([
      'started',
      'step.started',
      'step.succeeded',
      'step.started',
      'step.succeeded',
      'step.started',
      'step.succeeded',
      'succeeded',
    ]);
    expect(audit.filter((e) => e.action === 'saga.step').map((e) => `${e.stepId}:${e.phase}`)).toEqual([
      'a:started',
      'a:succeeded',
      'b:started',
      'b:succeeded',
      'c:started',
      'c:succeeded',
    ]);
  });

  it('passes earlier outputs to later steps through templates', async () => {
    const actions = new ActionRegistry()
      .register(recordingAction('create', calls, async () => ({ body: { id: 'order-42' } })))
      .register(recordingAction('use', calls));
    const def = saga('chain', [
      step('create', 'create'),
      step('use', 'use', {
        with: { order: '{{ steps.create.output.body.id }}', who: 'for {{ params.service }}' },
      }),
    ]);
    const orch = service([def], actions);
    const run = await orch.wait(
      (await orch.start({ definitionId: 'chain', params: {}, actor: operator, trigger: rest })).id,
    );
    expect(run.status).toBe('succeeded');
    expect(calls[1]?.inputs).toEqual({ order: 'order-42', who: 'for payments' });
  });

  it('compensates completed steps in reverse order when a step fails for good', async () => {
    const actions = new ActionRegistry()
      .register(recordingAction('do', calls))
      .register(recordingAction('undo', calls))
      .register(
        recordingAction('broken', calls, async () => {
          throw new PermanentActionError('card declined');
        }),
      );
    const def = saga('comp', [
      step('a', 'do', { undo: { action: 'undo', with: { undo: 'a' } } }),
      step('b', 'do', { undo: { action: 'undo', with: { undo: 'b' } } }),
      step('c', 'broken', { undo: { action: 'undo', with: { undo: 'c' } } }),
    ]);
    const orch = service([def], actions);
    const run = await orch.wait(
      (await orch.start({ definitionId: 'comp', params: {}, actor: operator, trigger: rest })).id,
    );
    expect(run.status).toBe('compensated');
    expect(run.error).toBe('step c failed: card declined');
    expect(calls.map((c) => `${c.action}:${String(c.inputs.undo ?? c.inputs.step)}`)).toEqual([
      'do:a',
      'do:b',
      'broken:c',
      'undo:b',
      'undo:a',
    ]);
    expect(calls.slice(3).map((c) => c.key)).toEqual([`${run.id}:b:undo`, `${run.id}:a:undo`]);
    expect(run.steps.map((s) => s.status)).toEqual(['compensated', 'compensated', 'failed']);
  });

  it('retries a failing step with the same key and gives up after its attempts', async () => {
    let failures = 2;
    const actions = new ActionRegistry().register(
      recordingAction('flaky', calls, async () => {
        if (failures-- > 0) throw new Error('503 from payments');
        return { ok: true };
      }),
    );
    const orch = service([saga('flaky', [step('a', 'flaky')])], actions);
    const run = await orch.wait(
      (await orch.start({ definitionId: 'flaky', params: {}, actor: operator, trigger: rest })).id,
    );
    expect(run.status).toBe('succeeded');
    expect(run.steps[0]?.attempts).toBe(3);
    expect(new Set(calls.map((c) => c.key)).size).toBe(1);

    failures = 10;
    const failed = await orch.wait(
      (await orch.start({ definitionId: 'flaky', params: {}, actor: operator, trigger: rest })).id,
    );
    expect(failed.status).toBe('failed');
    expect(failed.steps[0]?.error).toBe('503 from payments');
    expect(failed.error).toBe('step a failed after 3 attempts: 503 from payments');
  });

  it('times a step out and counts the timeout as a failed attempt', async () => {
    const actions = new ActionRegistry().register(
      recordingAction(
        'slow',
        calls,
        (_, ctx) => new Promise((resolve) => ctx.signal.addEventListener('abort', resolve)),
      ),
    );
    const def = saga('slow', [
      step('a', 'slow', { timeoutMs: 30, retry: { maxAttempts: 2, initialDelayMs: 1, maxDelayMs: 1 } }),
    ]);
    const orch = service([def], actions);
    const run = await orch.wait(
      (await orch.start({ definitionId: 'slow', params: {}, actor: operator, trigger: rest })).id,
    );
    expect(run.status).toBe('failed');
    expect(run.steps[0]?.error).toBe('timed out after 30 ms');
    expect(run.error).toBe('step a failed after 2 attempts: timed out after 30 ms');
    expect(calls).toHaveLength(2);
  });

  it('refuses parameters that fail the schema, naming them', async () => {
    const orch = service(
      [saga('p', [step('a', 'do')])],
      new ActionRegistry().register(recordingAction('do', calls)),
    );
    await expect(
      orch.start({ definitionId: 'p', params: { service: 7 }, actor: operator, trigger: rest }),
    ).rejects.toThrow('parameters of saga p: service must be string');
    await expect(
      orch.start({ definitionId: 'nope', params: {}, actor: operator, trigger: rest }),
    ).rejects.toThrow('no saga or runbook named nope (known: p)');
    expect(calls).toHaveLength(0);
  });

  describe('approvals', () => {
    const actions = () => new ActionRegistry().register(recordingAction('do', calls));

    it('a chat request waits for its requester; a double click runs nothing twice', async () => {
      const orch = service([saga('s', [step('a', 'do')])], actions());
      const run = await orch.start({
        definitionId: 's',
        params: {},
        actor: operator,
        trigger: { type: 'chat' },
      });
      expect(run.status).toBe('awaiting_approval');
      expect(calls).toHaveLength(0);
      const [first, second] = await Promise.all([
        orch.approve(run.approvalId as string, operator),
        orch.approve(run.approvalId as string, operator),
      ]);
      expect([first.result, second.result].sort()).toEqual(['already_decided', 'approved']);
      const done = await orch.wait(run.id);
      expect(done.status).toBe('succeeded');
      expect(calls).toHaveLength(1);
      expect((await orch.approve(run.approvalId as string, operator)).result).toBe('already_decided');
      expect(calls).toHaveLength(1);
    });

    it('needs N distinct approvers, refuses self-approval and those without the permission', async () => {
      const def = saga('two', [step('a', 'do')], {
        approval: { required: true, approvers: 2, selfApproval: false, ttlSeconds: 60, roles: [] },
      });
      const orch = service([def], actions());
      const run = await orch.start({ definitionId: 'two', params: {}, actor: operator, trigger: rest });
      const id = run.approvalId as string;
      const self = await orch.approve(id, operator);
      expect(self).toMatchObject({ result: 'refused', reason: expect.stringContaining('someone else') });
      const viewer = await orch.approve(id, { id: 'web:vic', roles: ['viewer'] });
      expect(viewer).toMatchObject({ result: 'refused', reason: expect.stringContaining('saga.start') });
      expect(await orch.approve(id, { id: 'web:bob', roles: ['operator'] })).toMatchObject({
        result: 'recorded',
        remaining: 1,
      });
      expect((await orch.approve(id, { id: 'web:bob', roles: ['operator'] })).result).toBe('duplicate');
      expect(calls).toHaveLength(0);
      expect((await orch.approve(id, { id: 'web:carol', roles: ['operator'] })).result).toBe('approved');
      expect((await orch.wait(run.id)).status).toBe('succeeded');
      expect(audit.filter((e) => e.action === 'approval').map((e) => e.actor)).toEqual([
        'web:bob',
        'web:carol',
      ]);
    });

    it('a pending approval survives a restart: approved in the next process, the run goes ahead there', async () => {
      const def = saga('restart', [step('a', 'do')], {
        approval: { required: true, approvers: 1, selfApproval: false, ttlSeconds: 600, roles: [] },
      });
      const first = service([def], actions());
      const run = await first.start({ definitionId: 'restart', params: {}, actor: operator, trigger: rest });
      await first.close();
      const second = service([def], actions(), new FileRunStore(dir));
      await second.startBackgroundWork();
      expect(await second.approval(run.approvalId as string)).toMatchObject({
        status: 'pending',
        required: 1,
      });
      expect((await second.approve(run.approvalId as string, operator)).result).toBe('refused');
      expect(
        (await second.approve(run.approvalId as string, { id: 'web:bob', roles: ['operator'] })).result,
      ).toBe('approved');
      expect((await second.wait(run.id)).status).toBe('succeeded');
      expect(calls).toHaveLength(1);
    });

    it('a denial ends the run before it starts', async () => {
      const orch = service([saga('s', [step('a', 'do')])], actions());
      const run = await orch.start({
        definitionId: 's',
        params: {},
        actor: operator,
        trigger: { type: 'chat' },
      });
      const outcome = await orch.deny(
        run.approvalId as string,
        { id: 'web:bob', roles: ['operator'] },
        'peak time',
      );
      expect(outcome.result).toBe('denied');
      const ended = await orch.get(run.id);
      expect(ended).toMatchObject({ status: 'denied', error: 'denied by web:bob: peak time' });
      expect(calls).toHaveLength(0);
    });

    it('an approval past its TTL is expired, and approving it then does nothing', async () => {
      let now = Date.parse('2026-11-21T12:00:00Z');
      const def = saga('ttl', [step('a', 'do')], {
        approval: { required: true, approvers: 1, selfApproval: true, ttlSeconds: 60, roles: [] },
      });
      const orch = new OrchestratorService({
        store: new FileRunStore(dir),
        actions: actions(),
        definitions: () => [def],
        audit: { record: () => {} },
        logger,
        now: () => now,
      });
      services.push(orch);
      const run = await orch.start({ definitionId: 'ttl', params: {}, actor: operator, trigger: rest });
      now += 61_000;
      expect((await orch.approve(run.approvalId as string, operator)).result).toBe('already_decided');
      expect((await orch.get(run.id))?.status).toBe('expired');
      expect(calls).toHaveLength(0);
    });

    it('an approval step pauses a run mid-way; a denial there undoes what was done', async () => {
      const registry = actions().register(recordingAction('undo', calls));
      const def = saga('mid', [
        step('a', 'do', { undo: { action: 'undo', with: { undo: 'a' } } }),
        step('gate', 'approval', { with: { approvers: 1 }, mutating: false }),
        step('b', 'do'),
      ]);
      const orch = service([def], registry);
      const run = await orch.start({ definitionId: 'mid', params: {}, actor: operator, trigger: rest });
      const paused = await orch.wait(run.id, { statuses: ['awaiting_approval'] });
      expect(paused.steps.map((s) => s.status)).toEqual(['succeeded', 'waiting', 'pending']);
      await orch.deny(paused.approvalId as string, { id: 'web:bob', roles: ['operator'] });
      const ended = await orch.wait(run.id);
      expect(ended.status).toBe('denied');
      expect(calls.map((c) => c.action)).toEqual(['do', 'undo']);
    });
  });

  it('cancel stops the running step and compensates what completed', async () => {
    let entered!: () => void;
    const inStep = new Promise<void>((resolve) => (entered = resolve));
    const actions = new ActionRegistry()
      .register(recordingAction('do', calls))
      .register(recordingAction('undo', calls))
      .register(
        recordingAction('hang', calls, (_, ctx) => {
          entered();
          return new Promise((_, reject) =>
            ctx.signal.addEventListener('abort', () => reject(new Error('aborted'))),
          );
        }),
      );
    const def = saga('c', [
      step('a', 'do', { undo: { action: 'undo', with: {} } }),
      step('b', 'hang', { timeoutMs: 60_000 }),
    ]);
    const orch = service([def], actions);
    const run = await orch.start({ definitionId: 'c', params: {}, actor: operator, trigger: rest });
    await inStep;
    const cancelled = await orch.cancel(run.id, operator, 'wrong customer');
    expect(cancelled.status).toBe('cancelled');
    expect(cancelled.cancel).toMatchObject({ by: 'web:alice', reason: 'wrong customer' });
    expect(calls.map((c) => c.action)).toEqual(['do', 'hang', 'undo']);
    await expect(orch.cancel(run.id, operator)).rejects.toThrow('already ended: cancelled');
  });

  it('a new process resumes a run left mid-step, re-sending the in-flight step with the same key', async () => {
    let entered!: () => void;
    const inStep = new Promise<void>((resolve) => (entered = resolve));
    let hang = true;
    const actions = new ActionRegistry().register(recordingAction('do', calls)).register(
      recordingAction('second', calls, async (_, ctx) => {
        if (!hang) return { ok: true };
        entered();
        return new Promise(() => void ctx);
      }),
    );
    const def = saga('r', [step('a', 'do'), step('b', 'second', { timeoutMs: 60_000 }), step('c', 'do')]);
    const first = service([def], actions);
    const run = await first.start({ definitionId: 'r', params: {}, actor: operator, trigger: rest });
    await inStep;
    await first.close(); // as far as the store knows, the process died here
    hang = false;
    const second = service([def], actions, new FileRunStore(dir));
    await second.startBackgroundWork();
    const done = await second.wait(run.id, { timeoutMs: 5000 });
    expect(done.status).toBe('succeeded');
    expect(calls.map((c) => c.key)).toEqual([`${run.id}:a`, `${run.id}:b`, `${run.id}:b`, `${run.id}:c`]);
    expect(done.steps[1]?.attempts).toBe(1);
  });

  it('a step that must never run twice is not resumed: the run compensates', async () => {
    let entered!: () => void;
    const inStep = new Promise<void>((resolve) => (entered = resolve));
    const shell: Action = {
      ...recordingAction('shell', calls, () => {
        entered();
        return new Promise(() => {});
      }),
      resume: 'never',
    };
    const actions = new ActionRegistry()
      .register(recordingAction('do', calls))
      .register(recordingAction('undo', calls))
      .register(shell);
    const def = saga('n', [
      step('a', 'do', { undo: { action: 'undo', with: {} } }),
      step('b', 'shell', { timeoutMs: 60_000 }),
    ]);
    const first = service([def], actions);
    const run = await first.start({ definitionId: 'n', params: {}, actor: operator, trigger: rest });
    await inStep;
    await first.close();
    const second = service([def], actions, new FileRunStore(dir));
    await second.startBackgroundWork();
    const done = await second.wait(run.id, { timeoutMs: 5000 });
    expect(done.status).toBe('compensated');
    expect(done.steps[1]?.error).toContain('never run twice');
    expect(calls.map((c) => c.action)).toEqual(['do', 'shell', 'undo']);
  });

  it('at most one active run per dedup key', async () => {
    const orch = service(
      [saga('s', [step('a', 'do')])],
      new ActionRegistry().register(recordingAction('do', calls)),
    );
    const request = {
      definitionId: 's',
      params: {},
      actor: operator,
      trigger: { type: 'chat' as const },
      dedupKey: 'fp1:s',
    };
    const first = await orch.start(request);
    const again = await orch.start(request);
    expect(again.id).toBe(first.id);
    await orch.cancel(first.id, operator);
    const third = await orch.start(request);
    expect(third.id).not.toBe(first.id);
  });
});
