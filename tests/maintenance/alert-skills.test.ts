import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ServiceCatalog } from '../../bot/config/catalog';
import { ErrorCode, OpsbotError } from '../../bot/core/errors';
import { createLogger } from '../../bot/core/logger';
import type { Principal } from '../../bot/core/message';
import { FileRecordStore } from '../../bot/core/record-store';
import { DialogueManager } from '../../bot/dialogue/dialogue-manager';
import { newSession, type SessionState } from '../../bot/dialogue/session';
import { RuleNlu } from '../../bot/nlu/rule-nlu';
import { Policy } from '../../bot/policy/policy';
import { createAlertStatusSkill } from '../../bot/skills/alert-status';
import { createScheduleMaintenanceSkill } from '../../bot/skills/schedule-maintenance';
import { createSilenceAlertSkill } from '../../bot/skills/silence-alert';
import { SkillRegistry } from '../../bot/skills/skill';
import { type MaintenanceWindow, MaintenanceWindows } from '../../engines/maintenance/maintenance-windows';
import { AlertLedger, type LedgerEntry } from '../../engines/orchestrator/alerts/alert-ledger';
import type { FiringAlerts } from '../../engines/orchestrator/alerts/firing-alerts';
import { OpsbotSilences, type SilenceRecord } from '../../engines/orchestrator/alerts/opsbot-silences';
import { alert } from '../support/alert-fakes';
import { testConfig } from '../support/runtime';
import { RecordingAudit } from '../support/recording-audit';

const olivia: Principal = { id: 'web:olivia', name: 'Olivia', authenticated: true };
const victor: Principal = { id: 'web:victor', name: 'Victor', authenticated: true };

/**
 * The three alert and maintenance skills as chat reaches them: the rule NLU, the real dialogue (policy,
 * slots, confirmation) and policy, with opsbot's own silences and alert list behind them.
 */
function chat(options: { alerts?: FiringAlerts } = {}) {
  const config = testConfig((raw) => {
    raw.policy.users['web:olivia'] = ['operator'];
  });
  const catalog = new ServiceCatalog(config);
  const dir = mkdtempSync(path.join(tmpdir(), 'opsbot-alert-skills-'));
  const auditTrail = new RecordingAudit();
  const audit = auditTrail.entries;
  const silences = new OpsbotSilences({ store: new FileRecordStore<SilenceRecord>(dir, 'silences') });
  const ledger = new AlertLedger({
    store: new FileRecordStore<LedgerEntry>(dir, 'alert-ledger'),
    silencedBy: (a) => silences.silencedBy(a),
  });
  const windows = new MaintenanceWindows({
    store: new FileRecordStore<MaintenanceWindow>(dir, 'maintenance-windows'),
    catalog,
    silences,
    audit: auditTrail,
  });
  const skills = new SkillRegistry()
    .register(createAlertStatusSkill({ alerts: options.alerts ?? ledger }))
    .register(createSilenceAlertSkill({ silences, audit: auditTrail }))
    .register(createScheduleMaintenanceSkill({ windows }));
  const dialogue = new DialogueManager({
    nlu: new RuleNlu(catalog),
    skills,
    policy: new Policy(config.policy),
    catalog,
    logger: createLogger('silent'),
  });
  const sessions = new Map<string, SessionState>();
  const say = async (text: string, user: Principal = olivia) => {
    const outcome = await dialogue.respond(
      { channel: 'web', user, conversationId: user.id, text },
      sessions.get(user.id) ?? newSession(),
    );
    sessions.set(user.id, outcome.session);
    return outcome;
  };
  return { say, windows, silences, ledger, audit };
}

describe('schedule_maintenance from chat', () => {
  it('schedules after confirmation, lists, and cancels after confirmation', async () => {
    const { say, windows, silences, audit } = chat();

    const asked = await say('schedule maintenance for payments for 1 hour because of the db upgrade');
    expect(asked.kind).toBe('asked_confirmation');
    expect(asked.reply.text).toMatch(
      /^Please confirm: schedule a 1 hour maintenance window for payments \(the db upgrade\)\./,
    );
    expect(await windows.list()).toEqual([]);

    const done = await say('yes');
    const [window] = await windows.list();
    expect(window).toMatchObject({
      service: 'payments',
      environment: 'production',
      reason: 'the db upgrade',
      createdBy: 'web:olivia',
    });
    expect(done.reply.text).toMatch(
      new RegExp(
        `^Scheduled maintenance window ${window!.id} for payments in production, from \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d UTC to \\d\\d:\\d\\d UTC: self-healing leaves it alone and its alerts are silenced \\(silence ${window!.silenceId} in opsbot's own silences`,
      ),
    );
    expect(await silences.silencedBy(alert())).toBe(window!.silenceId);
    expect(audit.map((e) => `${e.action}:${e.phase}`)).toEqual(['maintenance.schedule:succeeded']);

    for (const question of ['list maintenance windows', 'is payments in maintenance?']) {
      const listed = await say(question);
      expect(listed.kind).toBe('answered');
      expect(listed.reply.text).toMatch(
        new RegExp(
          `^1 maintenance window is open or scheduled.*:\\n${window!.id}: payments in production, from .* — the db upgrade \\(by web:olivia\\)$`,
        ),
      );
    }

    const cancelAsked = await say('cancel the maintenance window for payments');
    expect(cancelAsked.kind).toBe('asked_confirmation');
    expect(cancelAsked.reply.text).toMatch(/^Please confirm: cancel the maintenance window for payments\./);
    const cancelled = await say('yes');
    expect(cancelled.reply.text).toBe(
      `Cancelled maintenance window ${window!.id} for payments in production and its silence ${window!.silenceId} expired; self-healing and alerts apply again.`,
    );
    expect(await windows.list()).toEqual([]);
    expect(await silences.silencedBy(alert())).toBeUndefined();
    expect((await say('list maintenance windows')).reply.text).toBe(
      'No maintenance window is open or scheduled.',
    );
  });

  it('cancels by id, asks which when several match, and says when nothing matches', async () => {
    const { say, windows } = chat();
    const by = { id: 'web:olivia', roles: ['operator'], correlationId: 'c' };
    const now = await windows.create({ service: 'payments', durationSeconds: 3600 }, by);
    const later = await windows.create(
      { service: 'payments', startsAt: new Date(Date.now() + 7_200_000).toISOString(), durationSeconds: 600 },
      by,
    );

    expect((await say('cancel the maintenance window for payments')).kind).toBe('asked_confirmation');
    const which = await say('yes');
    expect(which.reply.text).toMatch(
      new RegExp(
        `^More than one window matches, so I cancelled none\\. Say which: "cancel maintenance window ${now.id}"\\.\\n2 maintenance windows are open or scheduled:\\n${now.id}: payments .*\\n${later.id}: payments `,
      ),
    );
    expect((await windows.list()).length).toBe(2);

    // "cancel" alone is a no; with "maintenance window" and an id it is this request.
    const byId = await say(`cancel maintenance window ${later.id}`);
    expect(byId.reply.text).toMatch(new RegExp(`^Please confirm: cancel maintenance window ${later.id}\\.`));
    expect((await say('yes')).reply.text).toMatch(new RegExp(`^Cancelled maintenance window ${later.id} `));
    expect((await windows.list()).map((w) => w.id)).toEqual([now.id]);

    await say('cancel the maintenance window for orders');
    expect((await say('yes')).reply.text).toBe(
      'There is no open or upcoming maintenance window for orders. Nothing was cancelled.',
    );
  });

  it('answers a request to schedule without a length with a question, not a confirmation', async () => {
    const { say, windows } = chat();
    const reply = await say('schedule maintenance for payments');
    expect(reply.kind).toBe('answered');
    expect(reply.reply.text).toMatch(
      /^How long should the window be\? Ask again with its length or times, e\.g\. "schedule maintenance for payments for 1 hour" or "… from 22:00 to 23:30"\. Nothing was scheduled\./,
    );
    expect(await windows.list()).toEqual([]);
  });

  it('asks which service before confirming a window that names none', async () => {
    const { say, windows } = chat();
    const asked = await say('schedule maintenance for 2h');
    expect(asked.kind).toBe('asked_slot');
    expect(asked.reply.text).toBe('Which service is the maintenance for?');
    const confirm = await say('checkout');
    expect(confirm.kind).toBe('asked_confirmation');
    expect(confirm.reply.text).toMatch(
      /^Please confirm: schedule a 2 hours maintenance window for checkout\./,
    );
    await say('yes');
    expect(
      (await windows.list()).map((w) => [w.service, Date.parse(w.endsAt) - Date.parse(w.startsAt)]),
    ).toEqual([['checkout', 7_200_000]]);
    // Listing and cancelling need no service.
    expect((await say('list maintenance windows')).kind).toBe('answered');
  });

  it('reads a service that is also an everyday word when a length follows it', async () => {
    const { say } = chat();
    const asked = await say('schedule maintenance for checkout for 30 minutes');
    expect(asked.reply.text).toMatch(
      /^Please confirm: schedule a 30 minutes maintenance window for checkout\./,
    );
  });

  it('tells the user why a window is refused, and schedules nothing', async () => {
    const { say, windows } = chat();
    await say('schedule maintenance for payments for 9 days');
    expect((await say('yes')).reply.text).toBe(
      'I could not do that: a maintenance window lasts from 1 minute to 7 days',
    );
    expect(await windows.list()).toEqual([]);
  });

  it('is refused to a viewer, who lacks maintenance.schedule', async () => {
    const { say } = chat();
    const reply = await say('list maintenance windows', victor);
    expect(reply.kind).toBe('refused');
    expect(reply.reply.text).toMatch(/needs the permission maintenance\.schedule/);
  });
});

describe('silence_alert from chat', () => {
  it('silences the alert for the service after confirmation, as the chat user, and audits it', async () => {
    const { say, silences, audit } = chat();
    const asked = await say('silence ServiceDown for payments for 30m');
    expect(asked.kind).toBe('asked_confirmation');
    expect(asked.reply.text).toMatch(/^Please confirm: silence ServiceDown for payments for 30 minutes\./);
    expect(await silences.list()).toEqual([]);

    const done = await say('yes');
    const [silence] = await silences.list();
    expect(silence).toMatchObject({
      state: 'active',
      createdBy: 'web:olivia',
      comment: 'Silenced from opsbot chat by Olivia for 30 minutes.',
      matchers: [
        { name: 'alertname', value: 'ServiceDown', isRegex: false, isEqual: true },
        { name: 'service', value: 'payments', isRegex: false, isEqual: true },
      ],
    });
    expect(Date.parse(silence!.endsAt) - Date.parse(silence!.startsAt)).toBe(30 * 60_000);
    expect(done.reply.text).toMatch(
      new RegExp(
        `^Silenced ServiceDown for payments for 30 minutes, until .* UTC \\(silence ${silence!.id} in opsbot's own silences`,
      ),
    );
    expect(await silences.silencedBy(alert())).toBe(silence!.id);
    expect(
      await silences.silencedBy(alert({ labels: { alertname: 'ServiceDown', service: 'orders' } })),
    ).toBe(undefined);
    expect(audit).toEqual([
      expect.objectContaining({
        action: 'alert.silence',
        phase: 'succeeded',
        actor: 'web:olivia',
        service: 'payments',
        details: expect.objectContaining({ alertname: 'ServiceDown', seconds: 1800, silenceId: silence!.id }),
      }),
    ]);
  });

  it('asks for the missing duration, refuses an out-of-bounds one, and needs alert.silence', async () => {
    const { say } = chat();
    expect((await say('silence ServiceDown')).reply.text).toBe('For how long?');
    expect((await say('10 days')).reply.text).toBe('A silence lasts from 1 minute to 7 days. For how long?');
    expect((await say('2h')).reply.text).toMatch(/^Please confirm: silence ServiceDown for 2 hours\./);
    expect((await say('silence ServiceDown for 1h', victor)).kind).toBe('refused');
  });
});

describe('alert_status', () => {
  it('lists the firing alerts grouped by name, loudest first, with the silenced marked', async () => {
    const { say, ledger, silences } = chat();
    expect((await say('what alerts are firing?')).reply.text).toBe(
      'Nothing is firing, according to the alerts opsbot received on its webhooks.',
    );
    const id = await silences.create({
      matchers: [{ name: 'service', value: 'orders', isRegex: false, isEqual: true }],
      startsAt: new Date().toISOString(),
      endsAt: new Date(Date.now() + 3_600_000).toISOString(),
      createdBy: 'web:olivia',
      comment: 'deploying',
    });
    await ledger.record([
      alert({
        fingerprint: 'fp1',
        labels: { alertname: 'HighLatency', service: 'search', severity: 'warning' },
      }),
      alert({ fingerprint: 'fp2' }),
      alert({
        fingerprint: 'fp3',
        labels: { alertname: 'ServiceDown', service: 'orders', severity: 'critical' },
      }),
      alert({ fingerprint: 'fp4', status: 'resolved', labels: { alertname: 'DiskFull', service: 'users' } }),
    ]);

    const reply = await say('what alerts are firing?');
    expect(reply.reply.text).toBe(
      [
        '3 alerts are firing, 1 of them silenced or inhibited, according to the alerts opsbot received on its webhooks:',
        `ServiceDown (critical): payments since 2025-01-01 10:00 UTC, orders since 2025-01-01 10:00 UTC [silenced by ${id.slice(0, 8)}]`,
        'HighLatency (warning): search since 2025-01-01 10:00 UTC — payments is not answering',
      ].join('\n'),
    );
    expect(reply.reply.blocks).toContainEqual({
      type: 'status',
      badges: [
        { label: 'ServiceDown', state: 'critical', detail: '2 firing, 1 silenced or inhibited' },
        { label: 'HighLatency', state: 'warning', detail: '1 firing' },
      ],
    });

    expect((await say('any alerts for orders?')).reply.text).toMatch(
      /^1 alert \(for orders\) is firing, 1 of them silenced or inhibited/,
    );
    expect((await say('any alerts for checkout?')).reply.text).toBe(
      'Nothing (for checkout) is firing, according to the alerts opsbot received on its webhooks.',
    );
  });

  it('says it cannot tell when the alert list cannot be read', async () => {
    const { say } = chat({
      alerts: {
        description: 'Alertmanager at http://127.0.0.1:9/',
        firing: async () => {
          throw new OpsbotError(
            ErrorCode.DriverFailed,
            'Alertmanager GET http://127.0.0.1:9/api/v2/alerts: connection refused',
          );
        },
      },
    });
    const reply = await say('what alerts are firing?');
    expect(reply.reply.text).toBe(
      "I could not read the alerts from Alertmanager at http://127.0.0.1:9/: Alertmanager GET http://127.0.0.1:9/api/v2/alerts: connection refused. I can't tell what is firing right now.",
    );
    expect(reply.reply.blocks).toContainEqual({
      type: 'status',
      badges: [{ label: 'Alerts', state: 'unknown', detail: 'unreachable' }],
    });
  });
});
