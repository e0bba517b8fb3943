import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startDemoService, type RunningDemoService } from '../../demo/fleet/demo-service';
import { verifyAuditLog } from '../../engines/audit/verify-audit-log';
import { sample } from '../demo/fleet-helpers';
import { startServe, writeServeConfig, type ServeProcess } from '../support/serve-process';

/**
 * The order-fulfillment saga against real demo services, with opsbot as a real `opsbot serve` process that is
 * SIGKILLed while the payment is being charged (the payments service is slowed so the charge is in flight),
 * then started again on the same state folder. The restarted process resumes the saga; the services' own
 * counters show that every POST did its work exactly once (a re-sent charge is answered from the idempotency
 * store). Needs the build (npm test builds first).
 */
const OPERATOR_KEY = 'crash-operator-key-0123456789abcdef';
const SAGA_SERVICES = ['orders', 'inventory', 'payments', 'checkout', 'notifications'] as const;

/** Every POST route the saga calls, by service. */
const POST_ROUTES: Record<string, string[]> = {
  orders: ['/orders'],
  inventory: ['/inventory/reserve'],
  payments: ['/payments/charge'],
  checkout: ['/checkout/ship'],
  notifications: ['/notifications/send'],
};

describe('a saga survives SIGKILL of opsbot mid-step', () => {
  const services: Record<string, RunningDemoService> = {};
  let opsbot: ServeProcess | undefined;
  let configFile: string;
  let stateDir: string;

  beforeAll(async () => {
    for (const name of SAGA_SERVICES) {
      services[name] = await startDemoService({ service: name, replica: `${name}-1`, port: 0 });
    }
    stateDir = mkdtempSync(path.join(tmpdir(), 'opsbot-crash-state-'));
    configFile = writeServeConfig((raw) => {
      for (const name of SAGA_SERVICES) {
        raw.services[name].environments.production = {
          healthUrl: `${services[name]!.url}/health`,
          metricsUrl: `${services[name]!.url}/metrics`,
        };
      }
      raw.auth = { apiKeys: [{ id: 'op', key: OPERATOR_KEY, user: { id: 'olivia', name: 'Olivia' } }] };
      raw.policy.users['api:olivia'] = ['operator'];
      raw.metrics = { source: 'scrape', scrape: { intervalSeconds: 1 } };
    }, stateDir);
  }, 30_000);

  afterAll(async () => {
    await opsbot?.kill();
    await Promise.all(Object.values(services).map((s) => s.close()));
  }, 30_000);

  const api = (method: string, route: string, body?: unknown) =>
    fetch(`${opsbot!.url}${route}`, {
      method,
      headers: { authorization: `Bearer ${OPERATOR_KEY}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });

  async function runUntil(id: string, done: (run: any) => boolean, timeoutMs = 60_000): Promise<any> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const res = await api('GET', `/api/v1/sagas/${id}`);
      const run = res.ok ? await res.json() : undefined;
      if (run && done(run)) return run;
      if (Date.now() > deadline) throw new Error(`run ${id} never got there: ${JSON.stringify(run)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** Work each POST route really did: answers with 2xx minus those replayed from the idempotency store. */
  async function workDone(): Promise<Record<string, number>> {
    const done: Record<string, number> = {};
    for (const [service, routes] of Object.entries(POST_ROUTES)) {
      const metrics = await (await fetch(`${services[service]!.url}/metrics`)).text();
      for (const route of routes) {
        const answered = [200, 201, 202].reduce(
          (sum, code) =>
            sum +
            (sample(metrics, 'http_requests_total', { route, method: 'POST', code: String(code) }) ?? 0),
          0,
        );
        const replayed = sample(metrics, 'demo_idempotent_replays_total', { route }) ?? 0;
        done[route] = answered - replayed;
      }
    }
    return done;
  }

  it('resumes after the restart, and no mutating step ran twice', async () => {
    opsbot = await startServe(configFile);
    // The charge takes 3 s: long enough to kill opsbot while it waits for the answer.
    const fault = await fetch(`${services.payments!.url}/admin/fault`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'latency', rate: 1, latencyMs: 3000, durationSeconds: 60 }),
    });
    expect(fault.status).toBe(202);

    const start = await api('POST', '/api/v1/sagas/start', {
      saga: 'order-fulfillment',
      params: { customerId: 'cus_CRASH1', sku: 'sku-7', quantity: 2, amountCents: 2598 },
    });
    expect(start.status).toBe(202);
    const { run } = await start.json();
    // The failure model may score the slowed payments as a high risk: the run then waits for an approval,
    // which its requester may give.
    if (run.status === 'awaiting_approval') {
      const approved = await api('POST', `/api/v1/approvals/${run.approvalId}/approve`);
      expect((await approved.json()).outcome.result).toBe('approved');
    }
    const charging = await runUntil(
      run.id,
      (r) => r.steps.find((s: any) => s.id === 'charge-payment').status === 'running',
    );
    expect(charging.steps.slice(0, 2).map((s: any) => s.status)).toEqual(['succeeded', 'succeeded']);
    await new Promise((resolve) => setTimeout(resolve, 300)); // the charge request is now at payments
    await opsbot.kill('SIGKILL');
    expect(opsbot.child.signalCode).toBe('SIGKILL');

    // The payments service finishes the charge the dead process asked for; the restarted one asks again.
    await fetch(`${services.payments!.url}/admin/fault`, { method: 'DELETE' });
    opsbot = await startServe(configFile);
    const finished = await runUntil(run.id, (r) => ['succeeded', 'compensated', 'failed'].includes(r.status));
    expect(finished.status).toBe('succeeded');
    expect(finished.steps.map((s: any) => s.status)).toEqual(Array(6).fill('succeeded'));
    expect(opsbot.logs.some((l) => l.msg === 'resuming a run after a restart' && l.runId === run.id)).toBe(
      true,
    );

    // Every POST did its work exactly once, the charge included (its second sending was a replay).
    await new Promise((resolve) => setTimeout(resolve, 3500)); // the first charge request has now been answered too
    expect(await workDone()).toEqual({
      '/orders': 1,
      '/inventory/reserve': 1,
      '/payments/charge': 1,
      '/checkout/ship': 1,
      '/notifications/send': 1,
    });
    const metrics = await (await fetch(`${services.payments!.url}/metrics`)).text();
    expect(sample(metrics, 'demo_idempotent_replays_total', { route: '/payments/charge' })).toBe(1);

    // The audit log written by both processes is one intact chain.
    await opsbot.kill('SIGTERM');
    const verification = await verifyAuditLog(path.join(stateDir, 'audit', 'audit.log'));
    expect(verification).toMatchObject({ ok: true });
    expect(verification.records).toBeGreaterThan(10);
    opsbot = undefined;
  }, 120_000);
});
