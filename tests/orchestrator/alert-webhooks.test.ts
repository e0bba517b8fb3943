import { mkdtempSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import express from 'express';
import { alertWebhooks } from '../../adapters/alerts/alert-webhooks';
import { alertmanagerAlerts } from '../../adapters/alerts/alertmanager-payload';
import { grafanaAlerts } from '../../adapters/alerts/grafana-payload';
import { createLogger } from '../../bot/core/logger';
import { FileRecordStore } from '../../bot/core/record-store';
import { Notifier } from '../../bot/notify/notifier';
import { errorHandler } from '../../bot/server/http-errors';
import { labelsFingerprint } from '../../engines/orchestrator/alerts/alert';
import { AlertRouter, type AlertThreadRecord } from '../../engines/orchestrator/alerts/alert-router';
import { CapturingSlackSender, eq, FakeOrchestrator, planText, runbook } from '../support/alert-fakes';

/**
 * The alert webhooks over real HTTP on an ephemeral loopback port: who may post, what a bad payload gets,
 * and what each alert became, with the real router over a fake orchestrator.
 */
const TOKEN = 'webhook-token-0123456789abcdef';

const LABELS = { alertname: 'ServiceDown', service: 'payments', severity: 'critical' };

function alertmanagerPayload(status: 'firing' | 'resolved', alert: Record<string, unknown> = {}) {
  return {
    version: '4',
    groupKey: '{}:{alertname="ServiceDown"}',
    truncatedAlerts: 0,
    status,
    receiver: 'opsbot',
    groupLabels: { alertname: 'ServiceDown' },
    commonLabels: LABELS,
    commonAnnotations: { summary: 'payments is not answering' },
    externalURL: 'http://alertmanager:9093',
    alerts: [
      {
        status,
        labels: LABELS,
        annotations: { summary: 'payments is not answering' },
        startsAt: '2025-01-01T10:00:00.123456789Z',
        endsAt: status === 'firing' ? '0001-01-01T00:00:00Z' : '2025-01-01T10:20:00Z',
        generatorURL: 'http://prometheus:9090/graph?g0.expr=up%3D%3D0',
        fingerprint: 'c8f1d6a0b2e4f6a8',
        ...alert,
      },
    ],
  };
}

function grafanaPayload() {
  return {
    receiver: 'opsbot',
    status: 'firing',
    orgId: 1,
    alerts: [
      {
        status: 'firing',
        labels: { ...LABELS, grafana_folder: 'Payments' },
        annotations: { summary: 'payments is not answering' },
        startsAt: '2025-01-01T10:00:00+01:00',
        endsAt: '0001-01-01T00:00:00Z',
        generatorURL: 'http://grafana:3000/alerting/grafana/abc/view',
        fingerprint: '0f1e2d3c4b5a6978',
        silenceURL: 'http://grafana:3000/alerting/silence/new',
        dashboardURL: '',
        panelURL: '',
        values: { A: 0 },
      },
    ],
    groupLabels: { alertname: 'ServiceDown' },
    commonLabels: LABELS,
    commonAnnotations: {},
    externalURL: 'http://grafana:3000/',
    version: '1',
    groupKey: '{}:{alertname="ServiceDown"}',
    truncatedAlerts: 0,
    title: '[FIRING:1] ServiceDown',
    state: 'alerting',
    message: 'payments is not answering',
  };
}

async function startWebhooks(token?: string) {
  const orchestrator = new FakeOrchestrator([
    runbook('service-down', [[eq('alertname', 'ServiceDown'), eq('severity', 'critical')]]),
  ]);
  const sender = new CapturingSlackSender();
  const notifier = new Notifier();
  notifier.register(sender);
  const logger = createLogger('silent');
  const router = new AlertRouter({
    orchestrator,
    notifier,
    target: { channel: 'slack', conversation: 'C0ALERTS' },
    renderPlan: planText,
    threads: new FileRecordStore<AlertThreadRecord>(
      mkdtempSync(path.join(tmpdir(), 'opsbot-alert-webhooks-')),
      'alert-threads',
    ),
    logger,
  });
  const app = express();
  app.use(alertWebhooks({ router, token, logger }));
  app.use(errorHandler(logger));
  const server = await new Promise<Server>((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const post = (route: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${url}${route}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  const close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return { orchestrator, sender, post, close };
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe('alert payloads', () => {
  it('translate into the core alert model: UTC milliseconds, no zero end time, no platform fields', () => {
    expect(alertmanagerAlerts(alertmanagerPayload('firing'))).toEqual([
      {
        source: 'alertmanager',
        fingerprint: 'c8f1d6a0b2e4f6a8',
        status: 'firing',
        labels: LABELS,
        annotations: { summary: 'payments is not answering' },
        startsAt: '2025-01-01T10:00:00.123Z',
        generatorURL: 'http://prometheus:9090/graph?g0.expr=up%3D%3D0',
      },
    ]);
    expect(alertmanagerAlerts(alertmanagerPayload('resolved'))[0]?.endsAt).toBe('2025-01-01T10:20:00.000Z');
    expect(grafanaAlerts(grafanaPayload())).toEqual([
      {
        source: 'grafana',
        fingerprint: '0f1e2d3c4b5a6978',
        status: 'firing',
        labels: { ...LABELS, grafana_folder: 'Payments' },
        annotations: { summary: 'payments is not answering' },
        startsAt: '2025-01-01T09:00:00.000Z',
        generatorURL: 'http://grafana:3000/alerting/grafana/abc/view',
      },
    ]);
  });
});

describe('alert webhooks with a token configured', () => {
  let hooks: Awaited<ReturnType<typeof startWebhooks>>;
  beforeAll(async () => {
    hooks = await startWebhooks(TOKEN);
  });
  afterAll(() => hooks.close());

  it('refuses Alertmanager and Grafana without the bearer token, or with another one', async () => {
    for (const route of ['/webhooks/alertmanager', '/webhooks/grafana']) {
      const missing = await hooks.post(route, alertmanagerPayload('firing'));
      expect(missing.status).toBe(401);
      expect(missing.headers.get('www-authenticate')).toBe('Bearer realm="opsbot"');
      expect((await missing.json()).error.code).toBe('unauthorized');
      expect((await hooks.post(route, alertmanagerPayload('firing'), bearer(`${TOKEN}x`))).status).toBe(401);
      expect((await hooks.post(route, alertmanagerPayload('firing'), { authorization: TOKEN })).status).toBe(
        401,
      );
    }
    expect(hooks.orchestrator.starts).toEqual([]);
  });

  it('starts one run for an Alertmanager alert, updates it on repeats, and cancels it when resolved', async () => {
    const first = await hooks.post('/webhooks/alertmanager', alertmanagerPayload('firing'), bearer(TOKEN));
    expect(first.status).toBe(202);
    expect(await first.json()).toEqual({
      accepted: 1,
      runs: [
        {
          fingerprint: 'c8f1d6a0b2e4f6a8',
          runbook: 'service-down',
          runId: 'run-1',
          action: 'awaiting_approval',
        },
      ],
    });
    expect(hooks.orchestrator.starts[0]?.alert).toEqual({
      fingerprint: 'c8f1d6a0b2e4f6a8',
      status: 'firing',
      labels: LABELS,
      annotations: { summary: 'payments is not answering' },
    });

    const repeat = await hooks.post('/webhooks/alertmanager', alertmanagerPayload('firing'), bearer(TOKEN));
    expect((await repeat.json()).runs).toEqual([
      { fingerprint: 'c8f1d6a0b2e4f6a8', runbook: 'service-down', runId: 'run-1', action: 'updated' },
    ]);

    const resolved = await hooks.post(
      '/webhooks/alertmanager',
      alertmanagerPayload('resolved'),
      bearer(TOKEN),
    );
    expect((await resolved.json()).runs).toEqual([
      { fingerprint: 'c8f1d6a0b2e4f6a8', runbook: 'service-down', runId: 'run-1', action: 'cancelled' },
    ]);
    expect(hooks.orchestrator.runs.size).toBe(1);
    expect(hooks.orchestrator.runs.get('run-1')?.status).toBe('cancelled');
  });

  it('gives an alert without a fingerprint the one Alertmanager computes from its labels', async () => {
    // prometheus/common's own test vector for model.LabelSet.Fingerprint: 5799056148416392346.
    expect(labelsFingerprint({ name: 'garland, briggs', fear: 'love is not enough' })).toBe(
      '507a62d79ee76c9a',
    );

    const response = await hooks.post(
      '/webhooks/alertmanager',
      alertmanagerPayload('firing', { fingerprint: undefined, labels: { ...LABELS, severity: 'info' } }),
      bearer(TOKEN),
    );
    expect((await response.json()).runs).toEqual([
      { fingerprint: labelsFingerprint({ ...LABELS, severity: 'info' }), action: 'unmatched' },
    ]);
  });

  it('answers a bad payload with 400 naming the field, and keeps serving', async () => {
    const cases: [unknown, RegExp][] = [
      [{ ...alertmanagerPayload('firing'), version: '3' }, /^version: expected "4"/],
      [{ ...alertmanagerPayload('firing'), alerts: {} }, /^alerts: must be a list/],
      [{ ...alertmanagerPayload('firing'), alerts: [] }, /^alerts: must list at least one alert/],
      [
        alertmanagerPayload('firing', { status: 'pending' }),
        /^alerts\[0\]\.status: must be "firing" or "resolved"/,
      ],
      [
        alertmanagerPayload('firing', { labels: { ...LABELS, replicas: 3 } }),
        /^alerts\[0\]\.labels\.replicas: must be a string/,
      ],
      [
        alertmanagerPayload('firing', { startsAt: 'yesterday' }),
        /^alerts\[0\]\.startsAt: must be an RFC 3339 timestamp/,
      ],
      [
        alertmanagerPayload('firing', { fingerprint: 'a:b' }),
        /^alerts\[0\]\.fingerprint: must be 1-128 letters/,
      ],
      [[1, 2], /^the body must be a JSON object/],
    ];
    for (const [payload, message] of cases) {
      const response = await hooks.post('/webhooks/alertmanager', payload, bearer(TOKEN));
      expect(response.status).toBe(400);
      const { error } = await response.json();
      expect(error.code).toBe('invalid_request');
      expect(error.message).toMatch(message);
    }
    const notJson = await hooks.post('/webhooks/alertmanager', '{"version":', bearer(TOKEN));
    expect(notJson.status).toBe(400);
    expect((await notJson.json()).error.code).toBe('invalid_json');
    const grafanaLegacy = await hooks.post(
      '/webhooks/grafana',
      { ruleName: 'x', state: 'alerting' },
      bearer(TOKEN),
    );
    expect(grafanaLegacy.status).toBe(400);
    expect((await grafanaLegacy.json()).error.message).toMatch(/^version: expected "1"/);

    const fine = await hooks.post(
      '/webhooks/alertmanager',
      alertmanagerPayload('firing', { fingerprint: 'd00d00d00d00d00d' }),
      bearer(TOKEN),
    );
    expect(fine.status).toBe(202);
  });

  it('starts a run for a Grafana alert, as Grafana', async () => {
    const response = await hooks.post('/webhooks/grafana', grafanaPayload(), bearer(TOKEN));

    expect(response.status).toBe(202);
    const body = await response.json();
    expect(body).toMatchObject({
      accepted: 1,
      runs: [{ fingerprint: '0f1e2d3c4b5a6978', runbook: 'service-down' }],
    });
    const start = hooks.orchestrator.starts.find((s) => s.trigger.ref === '0f1e2d3c4b5a6978');
    expect(start?.actor).toEqual({ id: 'grafana', roles: [] });
  });
});

describe('alert webhooks without a token', () => {
  let hooks: Awaited<ReturnType<typeof startWebhooks>>;
  beforeAll(async () => {
    hooks = await startWebhooks();
  });
  afterAll(() => hooks.close());

  it('accepts Alertmanager from loopback, but not through a proxy', async () => {
    const local = await hooks.post('/webhooks/alertmanager', alertmanagerPayload('firing'));
    expect(local.status).toBe(202);
    expect((await local.json()).runs[0]).toMatchObject({ action: 'awaiting_approval' });

    const proxied = await hooks.post('/webhooks/alertmanager', alertmanagerPayload('firing'), {
      'x-forwarded-for': '203.0.113.9',
    });
    expect(proxied.status).toBe(403);
    expect((await proxied.json()).error).toMatchObject({
      code: 'forbidden',
      message: expect.stringMatching(/orchestrator\.webhookToken/),
    });
  });

  it('answers Grafana 503 not_configured: it must send a token, and none is set', async () => {
    const response = await hooks.post('/webhooks/grafana', grafanaPayload(), bearer(TOKEN));

    expect(response.status).toBe(503);
    expect((await response.json()).error).toMatchObject({
      code: 'not_configured',
      message: expect.stringMatching(/OPSBOT_WEBHOOK_TOKEN/),
    });
    expect(hooks.orchestrator.starts.some((s) => s.actor.id === 'grafana')).toBe(false);
  });
});
