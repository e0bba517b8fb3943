/** @jest-environment ./tests/support/onnx-environment.js */
import path from 'node:path';
import { signToken } from '../../bot/server/signed-token';
import { SERVICE_NAMES } from '../../demo/fleet/service-names';
import type { AuditRecord } from '../../engines/audit/hash-chained-audit-log';
import { verifyAuditLog } from '../../engines/audit/verify-audit-log';
import type { MaintenanceWindow } from '../../engines/maintenance/maintenance-windows';
import { readFileSync } from 'node:fs';
import {
  describeWithAlertmanager,
  postAlerts,
  startAlertmanager,
  webhookToOpsbot,
  type RunningAlertmanager,
} from '../support/alertmanager';
import { eventually } from '../support/eventually';
import { freePorts, testConfig, testServer } from '../support/runtime';

/**
 * A maintenance window in the whole server against a real Alertmanager (Debian's), with nothing composed by
 * hand: `opsbot serve`'s runtime runs the demo fleet, the maintenance controller watching it every second, the
 * orchestrator with the shipped runbooks, and `alerts.alertmanager.url` pointing at Alertmanager, whose webhook
 * receiver is opsbot. An operator schedules a window for payments in chat; Alertmanager then holds back
 * payments' alerts (orders' still reach opsbot), a SIGKILLed payments replica is detected but not healed, and
 * once the window is cancelled in chat the silence expires, the held-back alert arrives and the controller heals
 * payments through service-self-heal. Needs the build (the demo services run from dist/).
 */
const TOKEN_SECRET = 'maintenance-healing-e2e-secret-0123456789';
/** Long enough for several rounds, alerts and repeats, to see that nothing heals a service in maintenance. */
const SUPPRESSED_WATCH_MS = 4_000;
/** A detection, a restart and its verification, several times over. */
const HEAL_WAIT_MS = 45_000;

describeWithAlertmanager()(
  'a maintenance window suppresses healing and silences alerts in Alertmanager',
  () => {
    let server: Awaited<ReturnType<typeof testServer>>;
    let alertmanager: RunningAlertmanager;
    let ports: Record<string, number>;
    const token = signToken({ sub: 'olivia', name: 'Olivia', ttlSeconds: 900 }, TOKEN_SECRET);

    beforeAll(async () => {
      const free = await freePorts(SERVICE_NAMES.length + 1);
      ports = Object.fromEntries(SERVICE_NAMES.map((n, i) => [n, free[i] as number]));
      const alertmanagerPort = free[SERVICE_NAMES.length] as number;
      const config = testConfig((raw) => {
        for (const name of SERVICE_NAMES) {
          raw.services[name].environments.production = {
            healthUrl: `http://127.0.0.1:${ports[name]}/health`,
          };
        }
        raw.demo = { enabled: true, load: { enabled: false } };
        raw.platform = { environments: { production: { driver: 'local' } }, verifyTimeoutSeconds: 20 };
        raw.health = { timeoutMs: 1000, cacheSeconds: 0 };
        raw.auth = { tokenSecret: TOKEN_SECRET };
        raw.policy.users['web:olivia'] = ['operator'];
        raw.maintenance = { enabled: true, intervalSeconds: 1, environments: ['production'] };
        raw.alerts = { alertmanager: { url: `http://127.0.0.1:${alertmanagerPort}` } };
      });
      server = await testServer(config, { start: true });
      alertmanager = await startAlertmanager(webhookToOpsbot(server.url), alertmanagerPort);
      await eventually(
        async () => (await health()).services.every((s: { state: string }) => s.state === 'healthy'),
        'the fleet to be healthy',
        30_000,
      );
    }, 90_000);

    afterAll(async () => {
      await alertmanager?.close();
      await server?.close();
    }, 30_000);

    const api = (pathname: string) =>
      fetch(`${server.url}${pathname}`, { headers: { authorization: `Bearer ${token}` } });
    const health = async () => (await api('/api/v1/maintenance/health')).json();
    const watchOf = async (service: string) =>
      (await health()).services.find((s: { service: string }) => s.service === service);
    const say = async (text: string): Promise<string> => {
      const res = await fetch(`${server.url}/api/chat`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ text, conversation: 'maintenance' }),
      });
      expect(res.status).toBe(200);
      return (await res.json()).reply.text;
    };
    const amSilence = async (id: string) =>
      ((await (await fetch(`${alertmanager.url}/api/v2/silences`)).json()) as any[]).find((s) => s.id === id);
    const serviceDownRuns = async (service: string) =>
      (await server.runtime.orchestrator!.service.list({ definitionId: 'service-down' })).filter(
        (run) => run.params.service === service,
      );
    const selfHealRuns = async (service: string) =>
      (await server.runtime.orchestrator!.service.list({ definitionId: 'service-self-heal' })).filter(
        (run) => run.params.service === service,
      );

    it('window → alerts held back and healing suppressed → cancelled → the alert arrives and payments is healed', async () => {
      // The operator schedules the window in chat; it becomes a silence in Alertmanager.
      expect(await say('schedule maintenance for payments for 1 hour because of the db upgrade')).toMatch(
        /^Please confirm: schedule a 1 hour maintenance window for payments \(the db upgrade\)\./,
      );
      const scheduled = await say('yes');
      const [window] = (await (await api('/api/v1/maintenance/windows')).json())
        .windows as MaintenanceWindow[];
      expect(window).toMatchObject({
        service: 'payments',
        environment: 'production',
        createdBy: 'web:olivia',
      });
      expect(scheduled).toContain(`silence ${window!.silenceId} in Alertmanager at ${alertmanager.url}/`);
      expect(await amSilence(window!.silenceId!)).toMatchObject({
        status: { state: 'active' },
        createdBy: 'web:olivia',
        matchers: [
          { name: 'service', value: 'payments', isRegex: false, isEqual: true },
          { name: 'environment', value: 'production|', isRegex: true, isEqual: true },
        ],
      });

      // Prometheus fires ServiceDown for payments and for orders: Alertmanager sends opsbot only orders'.
      expect(
        (
          await postAlerts(alertmanager.url, [
            { labels: { alertname: 'ServiceDown', service: 'payments', severity: 'critical' } },
            { labels: { alertname: 'ServiceDown', service: 'orders', severity: 'critical' } },
          ])
        ).status,
      ).toBe(200);
      const [ordersRun] = await eventually(async () => {
        const runs = await serviceDownRuns('orders');
        return runs.length > 0 && runs;
      }, 'orders’ alert to reach opsbot through the webhook');
      expect(ordersRun).toMatchObject({ status: 'awaiting_approval', actor: 'alertmanager' });

      // A payments replica dies: the controller sees it within 5 s and leaves it to the window.
      const driver = server.runtime.platforms.driver('production')!;
      const [replica] = (await driver.status('payments')).instances ?? [];
      process.kill(replica!.pid as number, 'SIGKILL');
      const killedAt = Date.now();
      const failing = await eventually(async () => {
        const watch = await watchOf('payments');
        return watch.state === 'failing' && watch.skipped?.reason === 'suppressed' && watch;
      }, 'payments to be failing with healing suppressed');
      expect(Date.parse(failing.since) - killedAt).toBeLessThan(5_000);
      expect(failing.skipped.detail).toBe(
        `healing suppressed: maintenance window ${window!.id} (the db upgrade) until ${window!.endsAt}`,
      );
      await new Promise((resolve) => setTimeout(resolve, SUPPRESSED_WATCH_MS));
      expect(await watchOf('payments')).toMatchObject({ state: 'failing', healingRuns: [] });
      expect(await selfHealRuns('payments')).toEqual([]);
      expect(await serviceDownRuns('payments')).toEqual([]);
      expect((await driver.status('payments')).state).toBe('down');
      expect((await fetch(`http://127.0.0.1:${ports.payments}/health`).catch(() => undefined))?.ok).not.toBe(
        true,
      );

      // What the operator sees meanwhile: the silenced alert marked, and why payments is not being healed.
      const alerts = await say('what alerts are firing?');
      expect(alerts).toMatch(
        /^2 alerts are firing, 1 of them silenced or inhibited, according to Alertmanager/,
      );
      expect(alerts).toContain(`[silenced by ${window!.silenceId!.slice(0, 8)}]`);
      expect(await say('system status')).toContain(
        `payments in production failing (healing suppressed: maintenance window ${window!.id}`,
      );

      // Cancelling the window in chat expires the silence: the alert reaches opsbot, and healing starts.
      expect(await say(`cancel maintenance window ${window!.id}`)).toMatch(
        new RegExp(`^Please confirm: cancel maintenance window ${window!.id}\\.`),
      );
      expect(await say('yes')).toBe(
        `Cancelled maintenance window ${window!.id} for payments in production and its silence ${window!.silenceId} expired; self-healing and alerts apply again.`,
      );
      expect((await amSilence(window!.silenceId!)).status.state).toBe('expired');
      await eventually(
        async () => (await serviceDownRuns('payments')).length > 0,
        'payments’ alert to reach opsbot once the silence expired',
      );
      const [heal] = await eventually(
        async () => {
          const runs = await selfHealRuns('payments');
          return runs.length > 0 && runs;
        },
        'a service-self-heal run for payments',
        HEAL_WAIT_MS,
      );
      const healed = await server.runtime.orchestrator!.service.wait(heal!.id, { timeoutMs: HEAL_WAIT_MS });
      expect(healed).toMatchObject({ status: 'succeeded', actor: 'opsbot-maintenance' });
      await eventually(
        async () => (await watchOf('payments')).state === 'healthy',
        'payments to be healthy again',
        HEAL_WAIT_MS,
      );
      expect((await fetch(`http://127.0.0.1:${ports.payments}/health`)).status).toBe(200);

      // The window's life and the heal are in the audit log, whose chain is intact.
      await server.runtime.audit.flush?.();
      const auditFile = path.resolve(server.runtime.config.stateDir, 'audit', 'audit.log');
      expect((await verifyAuditLog(auditFile)).ok).toBe(true);
      const entries = readFileSync(auditFile, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => (JSON.parse(line) as AuditRecord).entry);
      expect(
        entries.filter((e) => e.action.startsWith('maintenance.')).map((e) => `${e.action}:${e.actor}`),
      ).toEqual(['maintenance.schedule:web:olivia', 'maintenance.cancel:web:olivia']);
      expect(entries).toContainEqual(
        expect.objectContaining({ action: 'runbook.run', phase: 'succeeded', runId: heal!.id }),
      );
    }, 150_000);

    it('refuses the health watch to a caller without failures.read', async () => {
      const res = await fetch(`${server.url}/api/v1/maintenance/health`);
      expect(res.status).toBe(403);
      expect((await res.json()).error).toMatchObject({
        code: 'forbidden',
        message: expect.stringMatching(/failures\.read/),
      });
    });
  },
);
