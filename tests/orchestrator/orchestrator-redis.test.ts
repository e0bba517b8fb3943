import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { RedisRunStore } from '../../adapters/redis/redis-run-store';
import { createLogger } from '../../bot/core/logger';
import { ActionRegistry } from '../../engines/orchestrator/action';
import { inProcessAction } from '../../engines/orchestrator/actions/in-process-action';
import { OrchestratorService, RUN_LEASE_MS } from '../../engines/orchestrator/orchestrator-service';
import { DEFAULT_POLICY, type WorkflowDefinition } from '../../engines/orchestrator/workflow';

/**
 * The orchestrator on Redis (127.0.0.1:6379) as several opsbot processes share it: two services over one
 * store stand for two processes. A run whose driver stopped renewing its lease is taken over by the other
 * once the lease has run out, and the step in flight is sent again with the same idempotency key.
 */
const SAGA: WorkflowDefinition = {
  kind: 'saga',
  id: 'two-steps',
  title: 'Two steps',
  description: '',
  source: 'test',
  parameters: { type: 'object', properties: {} },
  policy: DEFAULT_POLICY,
  triggers: { alerts: [], intents: [], schedules: [] },
  steps: ['first', 'second'].map((id) => ({
    id,
    action: id,
    with: {},
    mutating: true,
    timeoutMs: 60_000,
    retry: { maxAttempts: 2, initialDelayMs: 1, maxDelayMs: 1 },
  })),
};

describe('OrchestratorService on Redis', () => {
  const redis = new Redis('redis://127.0.0.1:6379', { maxRetriesPerRequest: 1 });
  const prefix = `opsbot:test:${randomUUID().slice(0, 8)}:`;
  const services: OrchestratorService[] = [];
  const keys: string[] = [];
  let now = Date.now();

  afterAll(async () => {
    await Promise.all(services.map((s) => s.close()));
    const stored = await redis.keys(`${prefix}*`);
    if (stored.length > 0) await redis.del(...stored);
    redis.disconnect();
  });

  function process(secondHangs: boolean): OrchestratorService {
    const actions = new ActionRegistry()
      .register(
        inProcessAction('first', async (_, ctx) => void keys.push(ctx.idempotencyKey), { mutating: true }),
      )
      .register(
        inProcessAction(
          'second',
          async (_, ctx) => {
            keys.push(ctx.idempotencyKey);
            if (secondHangs) await new Promise(() => {});
            return { ok: true };
          },
          { mutating: true },
        ),
      );
    const service = new OrchestratorService({
      store: new RedisRunStore(redis, prefix),
      actions,
      definitions: () => [SAGA],
      audit: { record: () => {} },
      logger: createLogger('silent'),
      now: () => now,
    });
    services.push(service);
    return service;
  }

  it('runs a saga, then another process takes over a run whose lease ran out', async () => {
    const a = process(true);
    const b = process(false);
    const started = await a.start({
      definitionId: 'two-steps',
      params: {},
      actor: { id: 'api:ci', roles: [] },
      trigger: { type: 'rest' },
    });
    await b.wait(started.id, { statuses: ['running'] });
    for (let i = 0; i < 100 && keys.length < 2; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(keys).toEqual([`${started.id}:first`, `${started.id}:second`]);
    const inFlight = await b.get(started.id);
    expect(inFlight?.lease?.owner).toBe(a.processId);

    // Process a stops renewing (as if it died); b sees the lease out and resumes the run.
    await a.close();
    await b.startBackgroundWork();
    expect((await b.get(started.id))?.status).toBe('running'); // lease still valid: left alone
    now += RUN_LEASE_MS + 1;
    const done = await b.wait(started.id, { timeoutMs: 10_000 });
    expect(done.status).toBe('succeeded');
    expect(keys).toEqual([`${started.id}:first`, `${started.id}:second`, `${started.id}:second`]);
    expect(done.lease).toBeUndefined();
  }, 20_000);
});
