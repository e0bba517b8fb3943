import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ServiceCatalog } from '../../bot/config/catalog';
import { ErrorCode, OpsbotError } from '../../bot/core/errors';
import { FileRecordStore } from '../../bot/core/record-store';
import { Notifier } from '../../bot/notify/notifier';
import {
  ENDED_WINDOW_RETENTION_MS,
  type MaintenanceWindow,
  MaintenanceWindows,
  windowMatchers,
} from '../../engines/maintenance/maintenance-windows';
import type { Alert } from '../../engines/orchestrator/alerts/alert';
import { AlertLedger, type LedgerEntry } from '../../engines/orchestrator/alerts/alert-ledger';
import { AlertRouter, type AlertThreadRecord } from '../../engines/orchestrator/alerts/alert-router';
import { OpsbotSilences, type SilenceRecord } from '../../engines/orchestrator/alerts/opsbot-silences';
import type { NewSilence, Silence, Silences } from '../../engines/orchestrator/alerts/silences';
import {
  alert,
  CapturingSlackSender,
  capturingLogger,
  eq,
  FakeOrchestrator,
  planText,
  runbook,
} from '../support/alert-fakes';
import { testConfig } from '../support/runtime';
import { RecordingAudit } from '../support/recording-audit';

const T0 = Date.parse('2026-03-01T10:00:00.000Z');
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const olivia = { id: 'web:olivia', roles: ['operator'], correlationId: 'corr-1' };

/** Silences whose backend is down: every call fails as an unreachable Alertmanager would. */
class UnreachableSilences implements Silences {
  readonly description = 'Alertmanager at http://127.0.0.1:9/';
  async create(_silence: NewSilence): Promise<string> {
    throw new OpsbotError(
      ErrorCode.DriverFailed,
      'Alertmanager POST http://127.0.0.1:9/api/v2/silences: connection refused',
    );
  }
  async expire(_id: string): Promise<void> {
    throw new OpsbotError(ErrorCode.DriverFailed, 'connection refused');
  }
  async list(): Promise<Silence[]> {
    return [];
  }
}

function setup(options: { silences?: Silences; dir?: string } = {}) {
  let now = T0;
  const clock = () => now;
  const dir = options.dir ?? mkdtempSync(path.join(tmpdir(), 'opsbot-maintenance-'));
  const catalog = new ServiceCatalog(
    testConfig((raw) => {
      raw.services.orders.environments.staging = { healthUrl: 'http://127.0.0.1:1/health' };
    }),
  );
  const ownSilences = new OpsbotSilences({
    store: new FileRecordStore<SilenceRecord>(dir, 'silences'),
    now: clock,
  });
  const audit = new RecordingAudit();
  const store = new FileRecordStore<MaintenanceWindow>(dir, 'maintenance-windows');
  const windows = new MaintenanceWindows({
    store,
    catalog,
    silences: options.silences ?? ownSilences,
    audit,
    now: clock,
  });
  return {
    windows,
    ownSilences,
    audit,
    store,
    catalog,
    dir,
    advance: (ms: number) => {
      now += ms;
    },
    at: () => now,
  };
}

describe('MaintenanceWindows', () => {
  it('creates a window that silences its service and suppresses healing only while open', async () => {
    const { windows, ownSilences, audit, advance } = setup();

    const window = await windows.create(
      {
        service: 'payments',
        startsAt: new Date(T0 + HOUR).toISOString(),
        durationSeconds: 3600,
        reason: 'db upgrade',
      },
      olivia,
    );

    expect(window).toMatchObject({
      id: expect.stringMatching(/^[0-9a-f]{8}$/),
      service: 'payments',
      environment: 'production',
      startsAt: '2026-03-01T11:00:00.000Z',
      endsAt: '2026-03-01T12:00:00.000Z',
      reason: 'db upgrade',
      createdBy: 'web:olivia',
      silenceId: expect.any(String),
    });
    const [silence] = await ownSilences.list();
    expect(silence).toMatchObject({
      id: window.silenceId,
      state: 'pending',
      startsAt: window.startsAt,
      endsAt: window.endsAt,
      createdBy: 'web:olivia',
      comment: `opsbot maintenance window ${window.id}: db upgrade`,
      matchers: [
        { name: 'service', value: 'payments', isRegex: false, isEqual: true },
        { name: 'environment', value: 'production|', isRegex: true, isEqual: true },
      ],
    });
    expect(audit.entries).toEqual([
      expect.objectContaining({
        action: 'maintenance.schedule',
        phase: 'succeeded',
        actor: 'web:olivia',
        service: 'payments',
        environment: 'production',
        correlationId: 'corr-1',
        details: expect.objectContaining({ windowId: window.id, silenceId: window.silenceId }),
      }),
    ]);

    // Upcoming: nothing suppressed yet, and the silence is pending.
    expect(await windows.suppressedBy('payments', 'production')).toBeUndefined();
    expect(await ownSilences.silencedBy(alert())).toBeUndefined();

    advance(HOUR);
    expect(await windows.suppressedBy('payments', 'production')).toBe(
      `maintenance window ${window.id} (db upgrade) until 2026-03-01T12:00:00.000Z`,
    );
    expect(await windows.suppressedBy('orders', 'production')).toBeUndefined();
    expect(await windows.suppressedBy('payments', 'staging')).toBeUndefined();
    // An alert without an environment label is read as the default environment's, so it is silenced too.
    expect(await ownSilences.silencedBy(alert())).toBe(window.silenceId);
    expect(
      await ownSilences.silencedBy(alert({ labels: { service: 'payments', environment: 'staging' } })),
    ).toBe(undefined);

    // Expiry: at its end the window stops suppressing and is no longer listed; so does its silence.
    advance(HOUR);
    expect(await windows.suppressedBy('payments', 'production')).toBeUndefined();
    expect(await windows.list()).toEqual([]);
    expect(await ownSilences.silencedBy(alert())).toBeUndefined();
    expect(await ownSilences.list()).toEqual([]);
  });

  it('lists open and upcoming windows soonest first, filtered by service and environment', async () => {
    const { windows } = setup();
    const later = await windows.create(
      {
        service: 'orders',
        environment: 'staging',
        startsAt: new Date(T0 + 2 * HOUR).toISOString(),
        durationSeconds: 600,
      },
      olivia,
    );
    const now = await windows.create({ service: 'payments', durationSeconds: 1800 }, olivia);

    expect((await windows.list()).map((w) => w.id)).toEqual([now.id, later.id]);
    expect((await windows.list({ service: 'orders' })).map((w) => w.id)).toEqual([later.id]);
    expect(await windows.list({ service: 'orders', environment: 'production' })).toEqual([]);
    expect(later.environment).toBe('staging');
    // A window outside the default environment matches only alerts labelled with it.
    expect(windowMatchers(later, 'production')[1]).toEqual({
      name: 'environment',
      value: 'staging',
      isRegex: false,
      isEqual: true,
    });
    expect(now).toMatchObject({ startsAt: '2026-03-01T10:00:00.000Z', endsAt: '2026-03-01T10:30:00.000Z' });
    expect(now.reason).toBe('scheduled maintenance');
  });

  it('cancels a window: it stops suppressing, its silence expires, and both are audited', async () => {
    const { windows, ownSilences, audit, advance } = setup();
    const window = await windows.create({ service: 'payments', durationSeconds: 3600 }, olivia);
    advance(MINUTE);
    expect(await windows.suppressedBy('payments', 'production')).toBeDefined();

    const cancelled = await windows.cancel(window.id, { ...olivia, id: 'web:omar', correlationId: 'corr-2' });

    expect(cancelled).toMatchObject({
      id: window.id,
      cancelledAt: '2026-03-01T10:01:00.000Z',
      cancelledBy: 'web:omar',
    });
    expect(await windows.suppressedBy('payments', 'production')).toBeUndefined();
    expect(await windows.list()).toEqual([]);
    expect(await windows.get(window.id)).toEqual(cancelled);
    expect(await ownSilences.list()).toEqual([]);
    expect(await ownSilences.silencedBy(alert())).toBeUndefined();
    expect(audit.entries.map((e) => `${e.action}:${e.phase}:${e.actor}`)).toEqual([
      'maintenance.schedule:succeeded:web:olivia',
      'maintenance.cancel:succeeded:web:omar',
    ]);

    await expect(windows.cancel(window.id, olivia)).rejects.toThrow(/already cancelled/);
    await expect(windows.cancel('00000000', olivia)).rejects.toMatchObject({
      code: ErrorCode.NotFound,
      message: 'there is no maintenance window 00000000',
    });
  });

  it('refuses bad requests with the reason, and stores nothing', async () => {
    const { windows, store } = setup();
    const refused = (request: Parameters<MaintenanceWindows['create']>[0]) =>
      windows.create(request, olivia).then(
        () => 'accepted',
        (err: OpsbotError) => `${err.code}: ${err.message}`,
      );

    expect(await refused({ service: 'ledger', durationSeconds: 3600 })).toMatch(
      /^invalid_request: service: "ledger" is not in the catalog \(payments, /,
    );
    expect(await refused({ service: 'payments', environment: 'moon', durationSeconds: 3600 })).toBe(
      'invalid_request: environment: "moon" is not an environment',
    );
    expect(await refused({ service: 'payments', environment: 'staging', durationSeconds: 3600 })).toBe(
      'invalid_request: payments does not run in staging (it runs in production)',
    );
    expect(await refused({ service: 'payments', durationSeconds: 10 })).toBe(
      'invalid_request: a maintenance window lasts from 1 minute to 7 days',
    );
    expect(await refused({ service: 'payments', durationSeconds: 8 * 86_400 })).toBe(
      'invalid_request: a maintenance window lasts from 1 minute to 7 days',
    );
    expect(await refused({ service: 'payments' })).toBe(
      'invalid_request: give the window an end: either endsAt or durationSeconds',
    );
    expect(
      await refused({ service: 'payments', startsAt: '2026-03-01T09:00:00Z', durationSeconds: 3600 }),
    ).toBe('invalid_request: startsAt: 2026-03-01T09:00:00Z has passed; a window starts now or later');
    expect(await refused({ service: 'payments', startsAt: 'tonight', durationSeconds: 3600 })).toBe(
      'invalid_request: startsAt: an ISO 8601 time such as 2026-03-01T22:00:00Z',
    );
    expect(await refused({ service: 'payments', endsAt: '2026-03-01T09:59:00Z' })).toBe(
      'invalid_request: a maintenance window lasts from 1 minute to 7 days',
    );
    expect(await store.size()).toBe(0);

    // Overlapping windows of one service and environment would leave it unclear which one a cancel ends.
    const first = await windows.create({ service: 'payments', durationSeconds: 3600 }, olivia);
    expect(
      await refused({ service: 'payments', startsAt: '2026-03-01T10:30:00Z', durationSeconds: 3600 }),
    ).toBe(
      `invalid_request: payments in production already has maintenance window ${first.id} from 2026-03-01T10:00:00.000Z to 2026-03-01T11:00:00.000Z; cancel it first or choose another time`,
    );
    expect(
      await refused({ service: 'payments', startsAt: '2026-03-01T11:00:00Z', durationSeconds: 600 }),
    ).toBe('accepted');
  });

  it('creates no window when its silence cannot be created, and cancels none whose silence cannot expire', async () => {
    const { windows, store, audit } = setup({ silences: new UnreachableSilences() });

    await expect(
      windows.create({ service: 'payments', durationSeconds: 3600 }, olivia),
    ).rejects.toMatchObject({
      code: ErrorCode.DriverFailed,
      message:
        'could not silence the alerts of payments in production (Alertmanager at http://127.0.0.1:9/): Alertmanager POST http://127.0.0.1:9/api/v2/silences: connection refused. No maintenance window was scheduled.',
    });
    expect(await store.size()).toBe(0);
    expect(audit.entries).toEqual([
      expect.objectContaining({ action: 'maintenance.schedule', phase: 'failed' }),
    ]);

    // A window made while the silences worked, whose silence then cannot be expired, stays as it was.
    const window: MaintenanceWindow = {
      id: 'abcd0123',
      service: 'payments',
      environment: 'production',
      startsAt: new Date(T0).toISOString(),
      endsAt: new Date(T0 + HOUR).toISOString(),
      reason: 'db upgrade',
      createdBy: 'web:olivia',
      silenceId: 'silence-1',
    };
    await store.put(window.id, window);
    await expect(windows.cancel(window.id, olivia)).rejects.toThrow(
      /could not expire the silence silence-1 of maintenance window abcd0123 .*connection refused\. The window stays scheduled\./,
    );
    expect(await store.get(window.id)).toEqual(window);
    expect(await windows.suppressedBy('payments', 'production')).toMatch(/^maintenance window abcd0123 /);
  });

  it('keeps windows across restarts and forgets ended ones after the retention', async () => {
    const first = setup();
    const window = await first.windows.create({ service: 'payments', durationSeconds: 3600 }, olivia);

    const restarted = setup({ dir: first.dir });
    expect((await restarted.windows.list()).map((w) => w.id)).toEqual([window.id]);
    expect(await restarted.windows.suppressedBy('payments', 'production')).toBeDefined();

    restarted.advance(HOUR + ENDED_WINDOW_RETENTION_MS);
    await restarted.windows.create({ service: 'orders', durationSeconds: 600 }, olivia);
    expect(await restarted.windows.get(window.id)).toBeUndefined();
    expect(await restarted.store.size()).toBe(1);
  });
});

describe('OpsbotSilences', () => {
  it('silences matching alerts while active, with Alertmanager matcher semantics, and expires on request', async () => {
    const { ownSilences, advance } = setup();
    const id = await ownSilences.create({
      matchers: [
        { name: 'alertname', value: 'Service.*', isRegex: true, isEqual: true },
        { name: 'severity', value: 'info', isRegex: false, isEqual: false },
      ],
      startsAt: new Date(T0).toISOString(),
      endsAt: new Date(T0 + HOUR).toISOString(),
      createdBy: 'web:olivia',
      comment: 'deploying',
    });

    expect(await ownSilences.silencedBy(alert())).toBe(id);
    expect(
      await ownSilences.silencedBy(alert({ labels: { alertname: 'ServiceDown', severity: 'info' } })),
    ).toBe(undefined);
    // Regular expressions are anchored at both ends.
    expect(await ownSilences.silencedBy(alert({ labels: { alertname: 'MyServiceDown' } }))).toBeUndefined();
    expect(await ownSilences.list()).toEqual([expect.objectContaining({ id, state: 'active' })]);

    advance(MINUTE);
    await ownSilences.expire(id);
    expect(await ownSilences.silencedBy(alert())).toBeUndefined();
    expect(await ownSilences.list()).toEqual([]);
    // Expiring again, or an unknown id, changes nothing.
    await ownSilences.expire(id);
    await ownSilences.expire('no-such-silence');
  });

  it('refuses silences Alertmanager would refuse', async () => {
    const { ownSilences } = setup();
    const valid: NewSilence = {
      matchers: [{ name: 'alertname', value: 'ServiceDown', isRegex: false, isEqual: true }],
      startsAt: new Date(T0).toISOString(),
      endsAt: new Date(T0 + HOUR).toISOString(),
      createdBy: 'web:olivia',
      comment: 'deploying',
    };
    await expect(ownSilences.create({ ...valid, matchers: [] })).rejects.toThrow(
      /at least one label matcher/,
    );
    await expect(
      ownSilences.create({
        ...valid,
        matchers: [{ name: 'alertname', value: '(', isRegex: true, isEqual: true }],
      }),
    ).rejects.toMatchObject({ code: ErrorCode.InvalidRequest });
    await expect(
      ownSilences.create({
        ...valid,
        matchers: [{ name: '1bad', value: 'x', isRegex: false, isEqual: true }],
      }),
    ).rejects.toThrow(/not a label name/);
    await expect(
      ownSilences.create({ ...valid, endsAt: new Date(T0 - MINUTE).toISOString() }),
    ).rejects.toThrow(/must end after it starts/);
    await expect(ownSilences.create({ ...valid, comment: ' ' })).rejects.toThrow(/needs a comment/);
    expect(await ownSilences.list()).toEqual([]);
  });
});

describe('AlertLedger', () => {
  function ledgerSetup(maxAlerts?: number) {
    const { ownSilences, dir, advance } = setup();
    const ledger = new AlertLedger({
      store: new FileRecordStore<LedgerEntry>(dir, 'alert-ledger'),
      silencedBy: (a) => ownSilences.silencedBy(a),
      now: () => T0,
      ...(maxAlerts === undefined ? {} : { maxAlerts }),
    });
    return { ledger, ownSilences, advance };
  }

  it('keeps the latest state per fingerprint and lists the firing ones, silenced ones marked', async () => {
    const { ledger, ownSilences } = ledgerSetup();
    const payments = alert();
    const orders = alert({
      fingerprint: 'f00000000000000b',
      labels: { alertname: 'HighLatency', service: 'orders' },
    });
    await ledger.record([payments, orders]);
    await ledger.record([{ ...orders, status: 'resolved', endsAt: '2026-03-01T10:05:00.000Z' }]);
    expect((await ledger.firing()).map((a) => a.fingerprint)).toEqual([payments.fingerprint]);
    expect((await ledger.latest()).map((a) => `${a.fingerprint}:${a.status}`).sort()).toEqual([
      'a1b2c3d4e5f60718:firing',
      'f00000000000000b:resolved',
    ]);

    const id = await ownSilences.create({
      matchers: [{ name: 'service', value: 'payments', isRegex: false, isEqual: true }],
      startsAt: new Date(T0).toISOString(),
      endsAt: new Date(T0 + HOUR).toISOString(),
      createdBy: 'web:olivia',
      comment: 'deploying',
    });
    expect(await ledger.firing()).toEqual([
      expect.objectContaining({ fingerprint: payments.fingerprint, silencedBy: [id], inhibited: false }),
    ]);
  });

  it('is bounded: beyond its size the oldest resolved alerts go first', async () => {
    let now = T0;
    const { dir } = setup();
    const ledger = new AlertLedger({
      store: new FileRecordStore<LedgerEntry>(dir, 'alert-ledger'),
      maxAlerts: 3,
      now: () => now,
    });
    const numbered = (n: number, status: Alert['status']) =>
      alert({ fingerprint: `fp${n}`, status, labels: { alertname: `A${n}` } });
    for (const [n, status] of [
      [1, 'resolved'],
      [2, 'firing'],
      [3, 'resolved'],
      [4, 'firing'],
    ] as const) {
      now += MINUTE;
      await ledger.record([numbered(n, status)]);
    }
    expect((await ledger.latest()).map((a) => a.fingerprint)).toEqual(['fp4', 'fp3', 'fp2']);
    now += MINUTE;
    await ledger.record([numbered(5, 'firing')]);
    expect((await ledger.latest()).map((a) => a.fingerprint)).toEqual(['fp5', 'fp4', 'fp2']);
  });
});

describe('AlertRouter with silences', () => {
  it('records a silenced firing alert as silenced and starts nothing; its resolution is still handled', async () => {
    const { ownSilences } = setup();
    const restartPayments = runbook(
      'restart-payments',
      [[eq('alertname', 'ServiceDown'), eq('service', 'payments')]],
      {
        autoRun: true,
      },
    );
    const orchestrator = new FakeOrchestrator([restartPayments]);
    const sender = new CapturingSlackSender();
    const notifier = new Notifier({ oncall: { channel: 'slack', conversation: 'C0ALERTS' } });
    notifier.register(sender);
    const { logger, lines } = capturingLogger();
    const router = new AlertRouter({
      orchestrator,
      notifier,
      target: 'oncall',
      renderPlan: planText,
      threads: new FileRecordStore<AlertThreadRecord>(
        mkdtempSync(path.join(tmpdir(), 'opsbot-threads-')),
        'threads',
      ),
      silencedBy: (a) => ownSilences.silencedBy(a),
      logger,
    });
    const id = await ownSilences.create({
      matchers: [{ name: 'service', value: 'payments', isRegex: false, isEqual: true }],
      startsAt: new Date(T0).toISOString(),
      endsAt: new Date(T0 + HOUR).toISOString(),
      createdBy: 'web:olivia',
      comment: 'deploying',
    });

    expect(await router.route([alert()])).toEqual([
      { fingerprint: 'a1b2c3d4e5f60718', action: 'silenced', silenceId: id },
    ]);
    expect(await orchestrator.list({})).toEqual([]);
    expect(sender.posts).toEqual([]);
    expect(lines).toContainEqual(
      expect.objectContaining({ event: 'alert.routed', action: 'silenced', silenceId: id }),
    );

    // Resolved alerts are not silenced: a run waiting for approval must still be cancelled.
    expect(await router.route([alert({ status: 'resolved' })])).toEqual([
      { fingerprint: 'a1b2c3d4e5f60718', runbook: 'restart-payments', action: 'ignored' },
    ]);

    // Without a matching silence, the same alert runs its runbook.
    await ownSilences.expire(id);
    expect(await router.route([alert()])).toEqual([
      expect.objectContaining({ runbook: 'restart-payments', action: 'started' }),
    ]);
  });

  it('routes the alert when the silences cannot be read', async () => {
    const orchestrator = new FakeOrchestrator([
      runbook('restart-payments', [[eq('service', 'payments')]], { autoRun: true }),
    ]);
    const { logger, lines } = capturingLogger();
    const router = new AlertRouter({
      orchestrator,
      notifier: new Notifier({}),
      renderPlan: planText,
      threads: new FileRecordStore<AlertThreadRecord>(
        mkdtempSync(path.join(tmpdir(), 'opsbot-threads-')),
        'threads',
      ),
      silencedBy: async () => {
        throw new Error('store unavailable');
      },
      logger,
    });
    expect(await router.route([alert()])).toEqual([expect.objectContaining({ action: 'started' })]);
    expect(lines).toContainEqual(expect.objectContaining({ msg: 'could not check silences for an alert' }));
  });
});
