import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createLogger } from '../../bot/core/logger';
import type { InboundTurn } from '../../bot/core/message';
import { createCancelRunCommand } from '../../bot/skills/cancel-run-command';
import { ActionRegistry } from '../../engines/orchestrator/action';
import { inProcessAction } from '../../engines/orchestrator/actions/in-process-action';
import { FileRunStore } from '../../engines/orchestrator/file-run-store';
import { OrchestratorService } from '../../engines/orchestrator/orchestrator-service';
import { DEFAULT_POLICY, type WorkflowDefinition } from '../../engines/orchestrator/workflow';

const SAGA: WorkflowDefinition = {
  kind: 'saga',
  id: 'reserve-then-wait',
  title: 'Reserve, then wait',
  description: '',
  source: 'test',
  parameters: { type: 'object', properties: {} },
  policy: DEFAULT_POLICY,
  triggers: { alerts: [], intents: [], schedules: [] },
  steps: [
    {
      id: 'reserve',
      action: 'reserve',
      with: {},
      mutating: true,
      undo: { action: 'release', with: {} },
      timeoutMs: 60_000,
      retry: { maxAttempts: 1, initialDelayMs: 1, maxDelayMs: 1 },
    },
    {
      id: 'wait',
      action: 'hang',
      with: {},
      mutating: false,
      timeoutMs: 60_000,
      retry: { maxAttempts: 1, initialDelayMs: 1, maxDelayMs: 1 },
    },
  ],
};

describe('"cancel run <id>" in chat', () => {
  let dir: string;
  let orchestrator: OrchestratorService;
  const done: string[] = [];
  const operator = { id: 'web:olivia', roles: ['operator'] };
  const turn = (text: string): InboundTurn => ({
    channel: 'web',
    user: { id: 'web:olivia', name: 'Olivia', authenticated: true },
    conversationId: 'c1',
    text,
  });

  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'cancel-'));
    const actions = new ActionRegistry()
      .register(inProcessAction('reserve', async () => void done.push('reserve'), { mutating: true }))
      .register(inProcessAction('release', async () => void done.push('release'), { mutating: true }))
      .register(
        inProcessAction(
          'hang',
          (_, ctx) =>
            new Promise((_, reject) =>
              ctx.signal.addEventListener('abort', () => reject(new Error('stopped'))),
            ),
        ),
      );
    orchestrator = new OrchestratorService({
      store: new FileRunStore(dir),
      actions,
      definitions: () => [SAGA],
      audit: { record: () => {} },
      logger: createLogger('silent'),
    });
  });
  afterEach(async () => {
    await orchestrator.close();
    rmSync(dir, { recursive: true, force: true });
    done.length = 0;
  });

  const command = () =>
    createCancelRunCommand({ orchestrator, rolesAllow: (roles) => roles.includes('operator') });

  it('stops a running saga by its short id and undoes what it did; the second time it has already ended', async () => {
    const run = await orchestrator.start({
      definitionId: SAGA.id,
      params: {},
      actor: operator,
      trigger: { type: 'rest' },
    });
    for (let i = 0; i < 100 && !done.includes('reserve'); i++) await new Promise((r) => setTimeout(r, 10));
    const short = run.id.slice(0, 8);
    expect(command().matches(turn(`cancel run ${short}`))).toBe(true);
    expect(command().matches(turn('cancel the restart'))).toBe(false);

    const answer = await command().handle(turn(`cancel run ${short} because wrong customer`), operator);
    expect(answer).toEqual({
      kind: 'answered',
      reply: expect.objectContaining({
        text: `Cancelled saga reserve-then-wait run ${short}. Undone, last first: reserve.`,
      }),
    });
    expect(done).toEqual(['reserve', 'release']);
    expect(await orchestrator.get(run.id)).toMatchObject({
      status: 'cancelled',
      cancel: { by: 'web:olivia', reason: 'wrong customer' },
    });

    const again = await command().handle(turn(`stop saga ${run.id}`), operator);
    expect(again.kind).toBe('refused');
    expect(again.reply.text).toBe(`Run ${short} already ended: cancelled. Nothing changed.`);
  });

  it('refuses someone without the right to start such a run, and an unknown id', async () => {
    const run = await orchestrator.start({
      definitionId: SAGA.id,
      params: {},
      actor: operator,
      trigger: { type: 'chat' },
    });
    const viewer = await command().handle(turn(`cancel run ${run.id.slice(0, 8)}`), {
      id: 'web:vic',
      roles: ['viewer'],
    });
    expect(viewer.kind).toBe('refused');
    expect(viewer.reply.text).toMatch(/needs the permission saga\.start/);
    expect((await orchestrator.get(run.id))?.status).toBe('awaiting_approval');
    const unknown = await command().handle(turn('cancel run 0badc0de'), operator);
    expect(unknown.reply.text).toBe('There is no run 0badc0de. "status of sagas" lists the recent ones.');
  });
});
