/** @jest-environment ./tests/support/onnx-environment.js */
import path from 'node:path';
import { signToken } from '../../bot/server/signed-token';
import { SERVICE_NAMES } from '../../demo/fleet/service-names';
import { verifyAuditLog } from '../../engines/audit/verify-audit-log';
import {
  describeWithAlertmanager,
  startAlertmanager,
  webhookToOpsbot,
  type RunningAlertmanager,
} from '../support/alertmanager';
import { freePorts, testConfig, testServer } from '../support/runtime';
import { connectWs } from '../support/ws-client';

/**
 * The whole alert path with a real Prometheus Alertmanager (Debian's prometheus-alertmanager, no gossip port)
 * whose webhook receiver is opsbot: the demo fleet's payments service crashes, ServiceDown fires, opsbot
 * posts the service-down runbook's plan into the war-room widget room, an operator approves it there with the
 * Approve button, the runbook restarts payments and verifies it healthy, and the resolved alert is said in the
 * same thread. Needs the build (npm test builds first) and the alertmanager binary (.ci/run installs it).
 */
const TOKEN_SECRET = 'alertmanager-e2e-token-secret-0123456789';

describeWithAlertmanager()('an Alertmanager alert runs the service-down runbook after approval', () => {
  let server: Awaited<ReturnType<typeof testServer>>;
  let alertmanager: RunningAlertmanager;
  let alertmanagerUrl: string;
  let ports: Record<string, number>;

  beforeAll(async () => {
    const free = await freePorts(SERVICE_NAMES.length + 1);
    ports = Object.fromEntries(SERVICE_NAMES.map((n, i) => [n, free[i] as number]));
    const config = testConfig((raw) => {
      for (const name of SERVICE_NAMES) {
        raw.services[name].environments.production = {
          healthUrl: `http://127.0.0.1:${ports[name]}/health`,
          metricsUrl: `http://127.0.0.1:${ports[name]}/metrics`,
        };
      }
      raw.demo = { enabled: true, load: { enabled: false } };
      raw.metrics = { source: 'scrape', scrape: { intervalSeconds: 1 } };
      raw.platform = { environments: { production: { driver: 'local' } }, verifyTimeoutSeconds: 20 };
      raw.health = { timeoutMs: 1000, cacheSeconds: 0 };
      raw.auth = { tokenSecret: TOKEN_SECRET };
      raw.policy.users['web:wendy'] = ['operator'];
      raw.notifications = { targets: { 'war-room': { channel: 'web', room: 'war-room' } } };
      raw.orchestrator = { alertsTarget: 'war-room' };
    });
    server = await testServer(config, { start: true });

    alertmanager = await startAlertmanager(webhookToOpsbot(server.url), free[SERVICE_NAMES.length]);
    alertmanagerUrl = alertmanager.url;
  }, 90_000);

  afterAll(async () => {
    await alertmanager?.close();
    await server?.close();
  }, 30_000);

  const labels = { alertname: 'ServiceDown', service: 'payments', severity: 'critical' };
  const postAlert = (extra: Record<string, string>) =>
    fetch(`${alertmanagerUrl}/api/v2/alerts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([
        { labels, annotations: { summary: 'payments has no healthy instance' }, ...extra },
      ]),
    });

  async function nextNotification(
    ws: { next(): Promise<any> },
    match: (text: string) => boolean,
  ): Promise<any> {
    for (;;) {
      const frame = await ws.next();
      if (frame.type === 'notification' && match(frame.reply.text)) return frame;
    }
  }

  it('fires → plan in the room → approved → payments restarted and healthy → resolved in the thread', async () => {
    const token = signToken({ sub: 'wendy', name: 'Wendy', ttlSeconds: 600 }, TOKEN_SECRET);
    const room = await connectWs(
      `${server.url.replace('http', 'ws')}/ws?conversation=war&room=war-room&token=${token}`,
    );
    expect(await room.next()).toMatchObject({ type: 'welcome', room: 'war-room' });

    const before = await (await fetch(`http://127.0.0.1:${ports.payments}/admin/info`)).json();
    const crash = await fetch(`http://127.0.0.1:${ports.payments}/admin/fault`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'crash' }),
    });
    expect(crash.status).toBe(202);
    expect((await postAlert({ startsAt: new Date().toISOString() })).status).toBe(200);

    // The plan, with the approval buttons, in the war room.
    const plan = await nextNotification(room, (text) => /service-down/i.test(text) && /approv/i.test(text));
    const buttons = plan.reply.blocks.find((b: any) => b.type === 'buttons').buttons;
    const approve = buttons.find((b: any) => b.actionId === 'orchestrator.approve');
    expect(approve.value).toMatch(/^[0-9a-f]{8}$/);
    const [run] = await server.runtime.orchestrator!.service.list({ definitionId: 'service-down' });
    expect(run).toMatchObject({
      status: 'awaiting_approval',
      actor: 'alertmanager',
      params: { service: 'payments' },
    });
    expect(run!.trigger).toEqual({ type: 'alert', ref: expect.any(String) });

    // Wendy clicks Approve in the widget.
    room.ws.send(
      JSON.stringify({ type: 'action', id: 'a1', actionId: approve.actionId, value: approve.value }),
    );
    const done = await server.runtime.orchestrator!.service.wait(run!.id, { timeoutMs: 90_000 });
    expect(done.status).toBe('succeeded');
    expect(done.steps.map((s) => `${s.id}:${s.status}`)).toEqual([
      'check-still-down:failed',
      'restart:succeeded',
      'wait-healthy:succeeded',
      'announce:succeeded',
    ]);
    const after = await (await fetch(`http://127.0.0.1:${ports.payments}/admin/info`)).json();
    expect(after.pid).not.toBe(before.pid);
    expect((await fetch(`http://127.0.0.1:${ports.payments}/health`)).status).toBe(200);
    await nextNotification(room, (text) => /was restarted by run/.test(text));

    // Alertmanager sends the resolution; opsbot says so in the same thread.
    expect((await postAlert({ startsAt: run!.createdAt, endsAt: new Date().toISOString() })).status).toBe(
      200,
    );
    await nextNotification(room, (text) => /resolved/i.test(text));
    room.close();

    // Every step and the approval are in the audit log, whose chain is intact.
    await server.runtime.audit.flush?.();
    const auditFile = path.join(server.runtime.config.stateDir, 'audit', 'audit.log');
    const verification = await verifyAuditLog(path.resolve(auditFile));
    expect(verification.ok).toBe(true);
  }, 150_000);

  it('a repeat updates the same thread, and a resolution before anyone approved cancels the run', async () => {
    const token = signToken({ sub: 'wendy', name: 'Wendy', ttlSeconds: 600 }, TOKEN_SECRET);
    const room = await connectWs(
      `${server.url.replace('http', 'ws')}/ws?conversation=war2&room=war-room&token=${token}`,
    );
    expect(await room.next()).toMatchObject({ type: 'welcome', room: 'war-room' });
    const ordersDown = { alertname: 'ServiceDown', service: 'orders', severity: 'critical' };
    const send = (extra: Record<string, string>) =>
      fetch(`${alertmanagerUrl}/api/v2/alerts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify([{ labels: ordersDown, annotations: { summary: 'orders is down' }, ...extra }]),
      });
    const startsAt = new Date().toISOString();
    expect((await send({ startsAt })).status).toBe(200);
    // The plan with its buttons (after the headline that opens the thread).
    await nextNotification(
      room,
      (text) => /service-down/i.test(text) && /orders/.test(text) && /approv/i.test(text),
    );
    const orchestrator = server.runtime.orchestrator!.service;
    const waiting = (
      await orchestrator.list({ definitionId: 'service-down', statuses: ['awaiting_approval'] })
    ).filter((r) => r.params.service === 'orders');
    expect(waiting).toHaveLength(1);

    // Alertmanager sends the group again on a change in the group: here, a second alert for the same service.
    const direct = await fetch(`${server.url}/webhooks/alertmanager`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        version: '4',
        groupKey: '{}:{alertname="ServiceDown", service="orders"}',
        status: 'firing',
        receiver: 'opsbot',
        groupLabels: {},
        commonLabels: ordersDown,
        commonAnnotations: {},
        externalURL: alertmanagerUrl,
        alerts: [
          {
            status: 'firing',
            labels: ordersDown,
            annotations: {},
            startsAt,
            endsAt: '0001-01-01T00:00:00Z',
            generatorURL: '',
            fingerprint: waiting[0]!.alert!.fingerprint,
          },
        ],
      }),
    });
    expect(await direct.json()).toMatchObject({ runs: [{ action: 'updated', runId: waiting[0]!.id }] });
    await nextNotification(room, (text) => /still firing/.test(text));

    expect((await send({ startsAt, endsAt: new Date().toISOString() })).status).toBe(200);
    const cancelled = await orchestrator.wait(waiting[0]!.id, { timeoutMs: 30_000 });
    expect(cancelled).toMatchObject({ status: 'cancelled', cancel: { by: 'alertmanager' } });
    expect(cancelled.steps.every((s) => s.status === 'pending')).toBe(true);
    await nextNotification(room, (text) => /cancelled before it started/.test(text));
    room.close();
  }, 60_000);
});
