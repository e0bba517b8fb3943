import { mkdtempSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import express from 'express';
import { AlertmanagerApi } from '../../adapters/alerts/alertmanager-api';
import { AlertmanagerFiringAlerts } from '../../adapters/alerts/alertmanager-firing-alerts';
import { AlertmanagerSilences } from '../../adapters/alerts/alertmanager-silences';
import { ServiceCatalog } from '../../bot/config/catalog';
import { createLogger } from '../../bot/core/logger';
import type { Principal } from '../../bot/core/message';
import { FileRecordStore } from '../../bot/core/record-store';
import { DialogueManager } from '../../bot/dialogue/dialogue-manager';
import { newSession, type SessionState } from '../../bot/dialogue/session';
import { RuleNlu } from '../../bot/nlu/rule-nlu';
import { Policy } from '../../bot/policy/policy';
import { Authenticator } from '../../bot/server/authenticator';
import { errorHandler } from '../../bot/server/http-errors';
import { maintenanceApi } from '../../bot/server/maintenance-api';
import { createAlertStatusSkill } from '../../bot/skills/alert-status';
import { createScheduleMaintenanceSkill } from '../../bot/skills/schedule-maintenance';
import { createSilenceAlertSkill } from '../../bot/skills/silence-alert';
import { SkillRegistry } from '../../bot/skills/skill';
import { type MaintenanceWindow, MaintenanceWindows } from '../../engines/maintenance/maintenance-windows';
import {
  describeWithAlertmanager,
  postAlerts as postAlertsTo,
  startAlertmanager,
  type RunningAlertmanager,
} from '../support/alertmanager';
import { eventually } from '../support/eventually';
import { freePorts, testConfig } from '../support/runtime';
import { RecordingAudit } from '../support/recording-audit';

/**
 * Maintenance windows, silences and alert status against a real Prometheus Alertmanager (Debian's
 * prometheus-alertmanager, no gossip port): a window scheduled over opsbot's REST API becomes an Alertmanager
 * silence with the window's matchers and end, an alert for that service shows as silenced in Alertmanager and
 * in alert_status, healing is suppressed, and cancelling the window expires the silence; silence_alert from
 * chat creates a silence there too. The pieces are composed here as the runtime composes them.
 */
const OPERATOR_KEY = 'maintenance-e2e-operator-key-0123456789';
const VIEWER_KEY = 'maintenance-e2e-viewer-key-0123456789';
const olivia: Principal = { id: 'web:olivia', name: 'Olivia', authenticated: true };

describeWithAlertmanager()('maintenance windows and silences with a real Alertmanager', () => {
  let alertmanager: RunningAlertmanager;
  let alertmanagerUrl: string;
  let server: Server;
  let opsbotUrl: string;
  let deadAlertmanagerUrl: string;
  let windows: MaintenanceWindows;
  let say: (text: string) => Promise<string>;

  const config = testConfig((raw) => {
    raw.auth = {
      apiKeys: [
        { id: 'op', key: OPERATOR_KEY, user: { id: 'ops-ci', name: 'Ops CI' } },
        { id: 'view', key: VIEWER_KEY, user: { id: 'dash', name: 'Dashboard' } },
      ],
    };
    raw.policy.users['api:ops-ci'] = ['operator'];
    raw.policy.users['web:olivia'] = ['operator'];
  });
  const catalog = new ServiceCatalog(config);
  const policy = new Policy(config.policy);
  const logger = createLogger('silent');
  const auditTrail = new RecordingAudit();
  const audit = auditTrail.entries;

  beforeAll(async () => {
    const [deadPort] = (await freePorts(1)) as [number];
    deadAlertmanagerUrl = `http://127.0.0.1:${deadPort}`;
    const dir = mkdtempSync(path.join(tmpdir(), 'opsbot-maintenance-am-'));
    alertmanager = await startAlertmanager({
      route: { receiver: 'nobody' },
      receivers: [{ name: 'nobody' }],
    });
    alertmanagerUrl = alertmanager.url;

    const api = new AlertmanagerApi({ url: alertmanagerUrl });
    const silences = new AlertmanagerSilences(api);
    const alerts = new AlertmanagerFiringAlerts(api);
    windows = new MaintenanceWindows({
      store: new FileRecordStore<MaintenanceWindow>(dir, 'maintenance-windows'),
      catalog,
      silences,
      audit: auditTrail,
    });
    const app = express();
    app.use(
      maintenanceApi({
        windows,
        silences,
        alerts,
        authenticator: new Authenticator(config.auth),
        policy,
        audit: auditTrail,
        logger,
      }),
    );
    // The same routes with an Alertmanager that is not there.
    const deadApi = new AlertmanagerApi({ url: deadAlertmanagerUrl, timeoutMs: 1000 });
    const deadSilences = new AlertmanagerSilences(deadApi);
    app.use(
      '/dead',
      maintenanceApi({
        windows: new MaintenanceWindows({
          store: new FileRecordStore<MaintenanceWindow>(dir, 'dead-windows'),
          catalog,
          silences: deadSilences,
          audit: auditTrail,
        }),
        silences: deadSilences,
        alerts: new AlertmanagerFiringAlerts(deadApi),
        authenticator: new Authenticator(config.auth),
        policy,
        audit: auditTrail,
        logger,
      }),
    );
    app.use(errorHandler(logger));
    server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    opsbotUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    const skills = new SkillRegistry()
      .register(createAlertStatusSkill({ alerts }))
      .register(createSilenceAlertSkill({ silences, audit: auditTrail }))
      .register(createScheduleMaintenanceSkill({ windows }));
    const dialogue = new DialogueManager({ nlu: new RuleNlu(catalog), skills, policy, catalog, logger });
    let session: SessionState = newSession();
    say = async (text) => {
      const outcome = await dialogue.respond(
        { channel: 'web', user: olivia, conversationId: 'c', text },
        session,
      );
      session = outcome.session;
      return outcome.reply.text;
    };
  }, 60_000);

  afterAll(async () => {
    await alertmanager?.close();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  });

  const opsbot = (pathname: string, init: RequestInit & { key?: string } = {}) =>
    fetch(`${opsbotUrl}${pathname}`, {
      ...init,
      headers: {
        'content-type': 'application/json',
        ...(init.key === undefined ? {} : { authorization: `Bearer ${init.key}` }),
      },
    });
  const amSilences = async (): Promise<any[]> => (await fetch(`${alertmanagerUrl}/api/v2/silences`)).json();
  const postAlerts = (alerts: Parameters<typeof postAlertsTo>[1]) => postAlertsTo(alertmanagerUrl, alerts);

  it('a window silences its service in Alertmanager and suppresses healing; cancelling it expires the silence', async () => {
    const created = await opsbot('/api/v1/maintenance/windows', {
      method: 'POST',
      key: OPERATOR_KEY,
      body: JSON.stringify({ service: 'payments', durationSeconds: 3600, reason: 'database upgrade' }),
    });
    expect(created.status).toBe(201);
    const window = (await created.json()) as MaintenanceWindow;
    expect(window).toMatchObject({
      service: 'payments',
      environment: 'production',
      reason: 'database upgrade',
      createdBy: 'api:ops-ci',
      silenceId: expect.any(String),
    });

    // The silence, as Alertmanager itself reports it.
    const silence = (await amSilences()).find((s) => s.id === window.silenceId);
    expect(silence).toMatchObject({
      status: { state: 'active' },
      createdBy: 'api:ops-ci',
      comment: `opsbot maintenance window ${window.id}: database upgrade`,
    });
    expect(silence.matchers).toEqual([
      { name: 'service', value: 'payments', isRegex: false, isEqual: true },
      { name: 'environment', value: 'production|', isRegex: true, isEqual: true },
    ]);
    expect(Date.parse(silence.endsAt)).toBe(Date.parse(window.endsAt));

    // An alert for payments is silenced by it; one for orders is not.
    expect(
      (
        await postAlerts([
          { labels: { alertname: 'ServiceDown', service: 'payments', severity: 'critical' } },
          { labels: { alertname: 'HighLatency', service: 'orders', severity: 'warning' } },
        ])
      ).status,
    ).toBe(200);
    const silenced = await eventually(async () => {
      const alerts: any[] = await (
        await fetch(`${alertmanagerUrl}/api/v2/alerts?silenced=true&active=false`)
      ).json();
      return alerts.find((a) => a.labels.service === 'payments');
    }, 'the payments alert to be silenced');
    expect(silenced.status).toEqual({ state: 'suppressed', silencedBy: [window.silenceId], inhibitedBy: [] });
    const active: any[] = await (await fetch(`${alertmanagerUrl}/api/v2/alerts?silenced=false`)).json();
    expect(active.map((a) => a.labels.service)).toEqual(['orders']);

    // Healing is suppressed for payments in production only.
    expect(await windows.suppressedBy('payments', 'production')).toBe(
      `maintenance window ${window.id} (database upgrade) until ${window.endsAt}`,
    );
    expect(await windows.suppressedBy('orders', 'production')).toBeUndefined();

    // alert_status shows Alertmanager's alerts, the silenced one marked.
    const status = await say('what alerts are firing?');
    expect(status).toMatch(
      new RegExp(
        `^2 alerts are firing, 1 of them silenced or inhibited, according to Alertmanager at ${alertmanagerUrl}/:`,
      ),
    );
    expect(status).toContain(`ServiceDown (critical): payments since `);
    expect(status).toContain(`[silenced by ${window.silenceId!.slice(0, 8)}]`);
    expect(status).toMatch(/HighLatency \(warning\): orders since [^[\n]*$/m);

    // The REST view of the same alerts.
    const restAlerts = await (await opsbot('/api/v1/alerts', { key: VIEWER_KEY })).json();
    expect(restAlerts.source).toBe(`Alertmanager at ${alertmanagerUrl}/`);
    expect(restAlerts.alerts).toContainEqual(
      expect.objectContaining({
        labels: expect.objectContaining({ service: 'payments' }),
        silencedBy: [window.silenceId],
      }),
    );

    // Cancelling the window expires its silence, and the alert pages again.
    const cancelled = await opsbot(`/api/v1/maintenance/windows/${window.id}`, {
      method: 'DELETE',
      key: OPERATOR_KEY,
    });
    expect(cancelled.status).toBe(200);
    expect(await cancelled.json()).toMatchObject({ id: window.id, cancelledBy: 'api:ops-ci' });
    expect((await amSilences()).find((s) => s.id === window.silenceId).status.state).toBe('expired');
    expect(await windows.suppressedBy('payments', 'production')).toBeUndefined();
    await eventually(async () => {
      const alerts: any[] = await (await fetch(`${alertmanagerUrl}/api/v2/alerts?silenced=false`)).json();
      return alerts.some((a) => a.labels.service === 'payments') ? true : undefined;
    }, 'the payments alert to be active again');
    expect(
      audit.filter((e) => e.action.startsWith('maintenance.')).map((e) => `${e.action}:${e.phase}`),
    ).toEqual(['maintenance.schedule:succeeded', 'maintenance.cancel:succeeded']);
  }, 60_000);

  it('schedule_maintenance and silence_alert from chat create silences in Alertmanager', async () => {
    await say('schedule maintenance for inventory for 30 minutes');
    const scheduled = await say('yes');
    const [window] = await windows.list({ service: 'inventory' });
    expect(scheduled).toMatch(
      new RegExp(`^Scheduled maintenance window ${window!.id} for inventory in production`),
    );
    expect((await amSilences()).find((s) => s.id === window!.silenceId)).toMatchObject({
      status: { state: 'active' },
      createdBy: 'web:olivia',
    });

    expect(await say('silence HighLatency for orders for 2h')).toMatch(
      /^Please confirm: silence HighLatency for orders for 2 hours\./,
    );
    const before = Date.now();
    const done = await say('yes');
    const id = /silence ([0-9a-f-]{36}) in Alertmanager/.exec(done)?.[1];
    const silence = (await amSilences()).find((s) => s.id === id);
    expect(silence).toMatchObject({
      status: { state: 'active' },
      createdBy: 'web:olivia',
      comment: 'Silenced from opsbot chat by Olivia for 2 hours.',
      matchers: [
        { name: 'alertname', value: 'HighLatency', isRegex: false, isEqual: true },
        { name: 'service', value: 'orders', isRegex: false, isEqual: true },
      ],
    });
    expect(Math.abs(Date.parse(silence.endsAt) - (before + 7_200_000))).toBeLessThan(5_000);
    const quiet = await eventually(async () => {
      const alerts: any[] = await (
        await fetch(`${alertmanagerUrl}/api/v2/alerts?silenced=true&active=false`)
      ).json();
      return alerts.find((a) => a.labels.service === 'orders');
    }, 'the orders alert to be silenced');
    expect(quiet.status.silencedBy).toEqual([id]);
  }, 30_000);

  it('creates and expires silences over REST, as the caller, and refuses bad requests with JSON errors', async () => {
    const created = await opsbot('/api/v1/silences', {
      method: 'POST',
      key: OPERATOR_KEY,
      body: JSON.stringify({
        matchers: ['alertname="DiskFull"', 'instance=~"db-.*"'],
        durationSeconds: 600,
        comment: 'resizing the volume',
      }),
    });
    expect(created.status).toBe(201);
    const { silenceId, createdBy } = await created.json();
    expect(createdBy).toBe('api:ops-ci');
    expect((await amSilences()).find((s) => s.id === silenceId).matchers).toEqual([
      { name: 'alertname', value: 'DiskFull', isRegex: false, isEqual: true },
      { name: 'instance', value: 'db-.*', isRegex: true, isEqual: true },
    ]);
    const listed = await (await opsbot('/api/v1/silences', { key: VIEWER_KEY })).json();
    expect(listed.silences.map((s: { id: string }) => s.id)).toContain(silenceId);

    expect(
      (await opsbot(`/api/v1/silences/${silenceId}`, { method: 'DELETE', key: OPERATOR_KEY })).status,
    ).toBe(200);
    expect((await amSilences()).find((s) => s.id === silenceId).status.state).toBe('expired');

    const refusals: [string, RequestInit & { key?: string }, number, string, RegExp][] = [
      [
        '/api/v1/silences',
        { method: 'POST', key: VIEWER_KEY, body: '{}' },
        403,
        'forbidden',
        /alert\.silence/,
      ],
      [
        '/api/v1/maintenance/windows',
        { method: 'POST', body: '{}' },
        403,
        'forbidden',
        /maintenance\.schedule/,
      ],
      [
        '/api/v1/maintenance/windows',
        {
          method: 'POST',
          key: OPERATOR_KEY,
          body: JSON.stringify({ service: 'payments', durationSeconds: 600, createdBy: 'mallory' }),
        },
        400,
        'invalid_request',
        /unknown field createdBy/,
      ],
      [
        '/api/v1/maintenance/windows',
        {
          method: 'POST',
          key: OPERATOR_KEY,
          body: JSON.stringify({ service: 'nope', durationSeconds: 600 }),
        },
        400,
        'invalid_request',
        /service: "nope" is not in the catalog/,
      ],
      [
        '/api/v1/silences',
        {
          method: 'POST',
          key: OPERATOR_KEY,
          body: JSON.stringify({ matchers: [], durationSeconds: 60, comment: 'x' }),
        },
        400,
        'invalid_request',
        /matchers: at least one/,
      ],
      [
        '/api/v1/maintenance/health',
        { key: VIEWER_KEY },
        404,
        'not_found',
        /the maintenance controller is off in this process/,
      ],
      [
        '/api/v1/maintenance/windows/00000000',
        { method: 'DELETE', key: OPERATOR_KEY },
        404,
        'not_found',
        /no maintenance window 00000000/,
      ],
    ];
    for (const [pathname, init, status, code, message] of refusals) {
      const res = await opsbot(pathname, init);
      const body = await res.json();
      expect({ pathname, status: res.status, code: body.error.code }).toEqual({ pathname, status, code });
      expect(body.error.message).toMatch(message);
    }
  });

  it('answers 502 naming Alertmanager when it cannot be reached, and schedules nothing', async () => {
    const res = await opsbot('/dead/api/v1/maintenance/windows', {
      method: 'POST',
      key: OPERATOR_KEY,
      body: JSON.stringify({ service: 'payments', durationSeconds: 600 }),
    });
    expect(res.status).toBe(502);
    expect((await res.json()).error).toEqual({
      code: 'driver_failed',
      message: `could not silence the alerts of payments in production (Alertmanager at ${deadAlertmanagerUrl}/): Alertmanager POST ${deadAlertmanagerUrl}/api/v2/silences: connection refused. No maintenance window was scheduled.`,
    });
    const alerts = await opsbot('/dead/api/v1/alerts', { key: VIEWER_KEY });
    expect(alerts.status).toBe(502);
    expect((await alerts.json()).error.message).toBe(
      `Alertmanager GET ${deadAlertmanagerUrl}/api/v2/alerts: connection refused`,
    );
  });
});
