import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createLogger } from '../../bot/core/logger';
import { textReply } from '../../bot/core/message';
import { Notifier } from '../../bot/notify/notifier';
import { ActionRegistry } from '../../engines/orchestrator/action';
import { inProcessAction } from '../../engines/orchestrator/actions/in-process-action';
import { FileRunStore } from '../../engines/orchestrator/file-run-store';
import { OrchestratorService } from '../../engines/orchestrator/orchestrator-service';
import { RunbookScheduler } from '../../engines/orchestrator/runbook-scheduler';
import { DEFAULT_POLICY, type WorkflowDefinition } from '../../engines/orchestrator/workflow';

function runbook(id: string, schedules: string[], autoRun: boolean): WorkflowDefinition {
  return {
    kind: 'runbook',
    id,
    title: id,
    description: '',
    source: `runbooks/${id}.md`,
    parameters: { type: 'object', properties: {} },
    policy: { ...DEFAULT_POLICY, autoRun },
    triggers: { alerts: [], intents: [], schedules },
    steps: [
      {
        id: 'check',
        action: 'check',
        with: {},
        mutating: false,
        timeoutMs: 1000,
        retry: { maxAttempts: 1, initialDelayMs: 1, maxDelayMs: 1 },
      },
    ],
  };
}

describe('RunbookScheduler', () => {
  let dir: string;
  let store: FileRunStore;
  let orchestrator: OrchestratorService;
  let now = Date.parse('2026-11-21T02:58:30Z');
  const logger = createLogger('silent');
  const posted: string[] = [];

  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'scheduler-'));
    store = new FileRunStore(dir);
    const definitions = [
      runbook('nightly', ['0 3 * * *'], true),
      runbook('every-minute', ['* * * * *'], false),
    ];
    orchestrator = new OrchestratorService({
      store,
      actions: new ActionRegistry().register(inProcessAction('check', async () => ({ ok: true }))),
      definitions: () => definitions,
      audit: { record: () => {} },
      logger,
      now: () => now,
    });
  });
  afterEach(async () => {
    await orchestrator.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function scheduler(): RunbookScheduler {
    const notifier = new Notifier({ ops: { channel: 'web', room: 'ops' } });
    notifier.register({
      channel: 'web',
      send: async (_target, reply) => {
        posted.push(reply.text);
        return { channel: 'web', conversation: 'ops' };
      },
    });
    return new RunbookScheduler({
      orchestrator,
      store,
      notifier,
      target: 'ops',
      renderPlan: (plan) => textReply(`plan ${plan.definition.id}`),
      logger,
      now: () => now,
    });
  }

  it('starts each runbook at its minutes, once, even with two schedulers on one store', async () => {
    const first = scheduler();
    const second = scheduler();
    now = Date.parse('2026-11-21T03:01:10Z'); // 02:59, 03:00 and 03:01 are due; nightly at 03:00
    await first.check();
    await second.check();
    const runs = await orchestrator.list();
    const byRunbook = (id: string) => runs.filter((r) => r.definitionId === id);
    expect(byRunbook('nightly').map((r) => r.trigger.ref)).toEqual(['0 3 * * * @ 2026-11-21T03:00:00.000Z']);
    expect(byRunbook('every-minute')).toHaveLength(3);
    expect(runs.every((r) => r.actor === 'scheduler' && r.trigger.type === 'schedule')).toBe(true);
    // Auto-run allowed: it runs. Not allowed: it waits for a person, and its plan is posted.
    expect((await orchestrator.wait(byRunbook('nightly')[0]!.id)).status).toBe('succeeded');
    expect(byRunbook('every-minute').every((r) => r.status === 'awaiting_approval')).toBe(true);
    expect(posted.filter((p) => p === 'plan every-minute')).toHaveLength(3);

    now += 60_000;
    await first.check();
    expect((await orchestrator.list({ definitionId: 'every-minute' })).length).toBe(4);
  });
});
