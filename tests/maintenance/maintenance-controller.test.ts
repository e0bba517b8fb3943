import type { Alert } from '../../engines/orchestrator/alerts/alert';
import { labelsFingerprint } from '../../engines/orchestrator/alerts/alert';
import type { AlertOutcome } from '../../engines/orchestrator/alerts/alert-router';
import { maintenanceComponent } from '../../engines/maintenance/build-maintenance-controller';
import type { CheckResult, HealthCheck } from '../../engines/maintenance/health-check';
import {
  type HealSkipped,
  MaintenanceController,
  type MaintenanceSettings,
  type WatchTransition,
} from '../../engines/maintenance/maintenance-controller';
import { capturingLogger } from '../support/alert-fakes';
import { ManualClock, settle } from './manual-clock';

const INTERVAL_MS = 1_000;

/** A check that answers as told: passing, failing with a detail, or not at all until released or aborted. */
class FakeCheck implements HealthCheck {
  ok = true;
  detail = 'HTTP 200 in 2 ms';
  /** While set, a run waits for `release()` (or its signal). */
  hold = false;
  calls = 0;
  inFlight = 0;
  mostInFlight = 0;
  aborted = 0;
  private waiting: (() => void)[] = [];

  constructor(
    readonly name: string,
    readonly timeoutMs = 500,
  ) {}

  fail(detail: string): void {
    this.ok = false;
    this.detail = detail;
  }

  pass(): void {
    this.ok = true;
    this.detail = 'HTTP 200 in 2 ms';
  }

  release(): void {
    for (const resume of this.waiting.splice(0)) resume();
  }

  async run(signal: AbortSignal): Promise<CheckResult> {
    this.calls += 1;
    this.inFlight += 1;
    this.mostInFlight = Math.max(this.mostInFlight, this.inFlight);
    try {
      if (this.hold) {
        await new Promise<void>((resolve) => {
          this.waiting.push(resolve);
          signal.addEventListener('abort', () => {
            this.aborted += 1;
            resolve();
          });
        });
      }
      return { ok: this.ok, latencyMs: 2, detail: this.detail };
    } finally {
      this.inFlight -= 1;
    }
  }
}

type Outcome = (alert: Alert, runs: number) => Omit<AlertOutcome, 'fingerprint'>;

/** What the alert router answers by default: a new run for a firing alert, the run it has for a resolved one. */
const startsRuns: Outcome = (alert, runs) =>
  alert.status === 'firing'
    ? { runbook: 'service-self-heal', runId: `run-${runs + 1}`, action: 'started' }
    : { runbook: 'service-self-heal', runId: `run-${runs}`, action: 'updated' };

function setup(
  options: {
    settings?: MaintenanceSettings;
    /** The first is a FakeCheck: rounds are counted by its calls. */
    checks?: readonly HealthCheck[];
    suppressedBy?: (service: string, environment: string) => Promise<string | undefined>;
    outcome?: Outcome;
  } = {},
) {
  const clock = new ManualClock();
  const checks: readonly HealthCheck[] = options.checks ?? [
    new FakeCheck('http http://127.0.0.1:7101/health'),
  ];
  const alerts: Alert[] = [];
  let runs = 0;
  const answer = options.outcome ?? startsRuns;
  const raise = async (sent: readonly Alert[]): Promise<AlertOutcome[]> =>
    sent.map((alert) => {
      alerts.push(alert);
      const outcome = { fingerprint: alert.fingerprint, ...answer(alert, runs) };
      if (outcome.action === 'started' || outcome.action === 'awaiting_approval') runs += 1;
      return outcome;
    });
  const { logger, lines } = capturingLogger();
  const controller = new MaintenanceController(
    {
      targets: [{ service: 'payments', environment: 'production', checks }],
      raise,
      ...(options.suppressedBy ? { suppressedBy: options.suppressedBy } : {}),
      logger,
      clock,
    },
    { intervalMs: INTERVAL_MS, ...options.settings },
  );
  const transitions: WatchTransition[] = [];
  const skipped: HealSkipped[] = [];
  controller.onTransition((t) => transitions.push(t));
  controller.onHealSkipped((s) => skipped.push(s));
  const check = checks[0] as FakeCheck;
  /** Runs `n` more rounds (the first one at start). */
  const rounds = async (n: number) => {
    for (let i = 0; i < n; i++) await clock.advance(check.calls === 0 ? 0 : INTERVAL_MS);
  };
  const states = () => transitions.map((t) => t.to);
  return { clock, check, checks, controller, alerts, transitions, skipped, lines, rounds, states };
}

let running: MaintenanceController[] = [];
afterEach(async () => {
  await Promise.all(running.map((c) => c.stop()));
  running = [];
});
function started<T extends { controller: MaintenanceController }>(fixture: T): T {
  fixture.controller.start();
  running.push(fixture.controller);
  return fixture;
}

describe('MaintenanceController', () => {
  it('calls a service failing only after failureThreshold failed rounds in a row, then raises ServiceUnhealthy', async () => {
    const { check, rounds, states, alerts, transitions, controller, clock } = started(setup());
    await rounds(2);
    expect(states()).toEqual(['healthy']);

    // One failed round between passing ones is not a failure.
    check.fail('connection refused');
    await rounds(1);
    check.pass();
    await rounds(1);
    expect(states()).toEqual(['healthy']);
    expect(alerts).toEqual([]);

    check.fail('connection refused');
    await rounds(1);
    expect(states()).toEqual(['healthy']);
    const secondFailure = clock.now() + INTERVAL_MS;
    await rounds(1);
    expect(states()).toEqual(['healthy', 'failing', 'healing']);
    expect(transitions[1]).toMatchObject({
      service: 'payments',
      environment: 'production',
      from: 'healthy',
      to: 'failing',
      at: secondFailure,
      detail: '2 failed rounds in a row: http http://127.0.0.1:7101/health: connection refused',
    });
    expect(transitions[2]).toMatchObject({ from: 'failing', to: 'healing', runIds: ['run-1'] });

    const labels = {
      alertname: 'ServiceUnhealthy',
      service: 'payments',
      environment: 'production',
      severity: 'critical',
      source: 'opsbot-maintenance',
    };
    expect(alerts).toEqual([
      {
        source: 'opsbot-maintenance',
        fingerprint: labelsFingerprint(labels),
        status: 'firing',
        labels,
        annotations: {
          summary:
            'payments in production failed its health checks 2 rounds in a row: http http://127.0.0.1:7101/health: connection refused',
          description: 'http http://127.0.0.1:7101/health: connection refused',
        },
        // The first of the failed rounds: when the failure began, not when it was called one.
        startsAt: new Date(secondFailure - INTERVAL_MS).toISOString(),
      },
    ]);
    expect(controller.status()[0]).toMatchObject({
      state: 'healing',
      since: secondFailure,
      streak: { ok: false, rounds: 2 },
      healsLastHour: 1,
      healingRuns: ['run-1'],
    });
  });

  it('resolves the alert once the service passes recoveryThreshold rounds in a row', async () => {
    const { check, rounds, states, alerts, transitions } = started(setup());
    check.fail('HTTP 503 in 4 ms');
    await rounds(2);
    expect(states()).toEqual(['failing', 'healing']);

    check.pass();
    await rounds(1);
    expect(states()).toEqual(['failing', 'healing']);
    // A relapse before recovery is the same failure: no second alert, no second run.
    check.fail('HTTP 503 in 4 ms');
    await rounds(1);
    check.pass();
    await rounds(2);
    expect(states()).toEqual(['failing', 'healing', 'healthy']);
    expect(transitions[2]?.detail).toMatch(/^passes its health checks again, 2 rounds in a row, .*run-1/);
    expect(alerts.map((a) => a.status)).toEqual(['firing', 'resolved']);
    const [firing, resolved] = alerts as [Alert, Alert];
    expect(resolved.fingerprint).toBe(firing.fingerprint);
    expect(resolved.startsAt).toBe(firing.startsAt);
    expect(resolved.endsAt).toBe(new Date(transitions[2]!.at).toISOString());
  });

  it('runs all checks of a round in parallel, each with its own timeout, and fails the round on any', async () => {
    const http = new FakeCheck('http http://127.0.0.1:7101/health', 300);
    const tcp = new FakeCheck('tcp 127.0.0.1:5432', 800);
    tcp.hold = true;
    const { controller, clock, rounds } = started(setup({ checks: [http, tcp] }));
    await rounds(1);
    expect([http.calls, tcp.calls, tcp.inFlight]).toEqual([1, 1, 1]);
    await clock.advance(799);
    expect(controller.status()[0]!.rounds).toBe(0);
    await clock.advance(1);
    expect(tcp.aborted).toBe(1);
    const [status] = controller.status();
    expect(status!.rounds).toBe(1);
    expect(status!.lastRound.map((r) => [r.check, r.ok, r.detail])).toEqual([
      ['http http://127.0.0.1:7101/health', true, 'HTTP 200 in 2 ms'],
      ['tcp 127.0.0.1:5432', false, 'timed out after 800 ms'],
    ]);
    expect(status!.streak).toMatchObject({ ok: false, rounds: 1 });
  });

  it('records a check that throws as a failed check, not a lost round', async () => {
    const throwing: HealthCheck = {
      name: 'prometheus up{job="payments"}',
      timeoutMs: 500,
      run: () => {
        throw new Error('no such metric');
      },
    };
    const { controller, rounds } = started(
      setup({ checks: [new FakeCheck('http http://127.0.0.1:7101/health'), throwing] }),
    );
    await rounds(1);
    expect(controller.status()[0]!.lastRound.map((r) => [r.ok, r.detail])).toEqual([
      [true, 'HTTP 200 in 2 ms'],
      [false, 'the check failed: no such metric'],
    ]);
  });

  it('never starts a round for a service while its previous one is still running', async () => {
    const check = new FakeCheck('http http://127.0.0.1:7101/health', 10_000);
    const { clock, controller, rounds } = started(setup({ checks: [check] }));
    check.hold = true;
    await rounds(1);
    await clock.advance(3 * INTERVAL_MS + 500);
    expect(check.calls).toBe(1);

    // Released long after its interval: the next round starts at once, then one an interval after that.
    check.hold = false;
    check.release();
    await settle();
    await clock.advance(0);
    expect(check.calls).toBe(2);
    await clock.advance(INTERVAL_MS - 1);
    expect(check.calls).toBe(2);
    await clock.advance(1);
    expect(check.calls).toBe(3);
    expect(check.mostInFlight).toBe(1);
    expect(controller.status()[0]!.rounds).toBe(3);
  });

  it('stops raising after maxHealsPerHour heals of a crash loop, says so once, and heals again an hour later', async () => {
    const { check, rounds, alerts, skipped, lines, controller, clock } = started(
      setup({ settings: { maxHealsPerHour: 2 } }),
    );
    const crashAndRecover = async () => {
      check.fail('connection refused');
      await rounds(2);
      check.pass();
      await rounds(2);
    };
    await crashAndRecover();
    await crashAndRecover();
    expect(alerts.map((a) => a.status)).toEqual(['firing', 'resolved', 'firing', 'resolved']);

    check.fail('connection refused');
    await rounds(5);
    expect(alerts).toHaveLength(4);
    expect(controller.status()[0]).toMatchObject({ state: 'failing', healsLastHour: 2, healingRuns: [] });
    expect(skipped).toEqual([
      {
        service: 'payments',
        environment: 'production',
        at: expect.any(Number),
        reason: 'limited',
        detail:
          'not healed again: 2 heal runs started in the last hour, the most allowed (2 an hour); it needs a person',
      },
    ]);
    expect(lines.filter((l) => l.event === 'maintenance.heal_skipped')).toHaveLength(1);
    expect(lines.find((l) => l.event === 'maintenance.heal_skipped')).toMatchObject({
      level: 40,
      reason: 'limited',
      msg: expect.stringContaining('it needs a person'),
    });

    // An hour after the first heal, a heal is allowed again.
    await clock.advance(3_600_000 - 10 * INTERVAL_MS);
    expect(alerts.map((a) => a.status)).toEqual(['firing', 'resolved', 'firing', 'resolved', 'firing']);
    expect(controller.status()[0]!.state).toBe('healing');
  });

  it('inside a maintenance window records that healing was suppressed, and heals once the window closes', async () => {
    let window: string | undefined = 'maintenance window 7 (payments database migration) until 11:00';
    const asked: string[] = [];
    const { check, rounds, alerts, skipped, states, controller } = started(
      setup({
        suppressedBy: async (service, environment) => {
          asked.push(`${service}/${environment}`);
          return window;
        },
      }),
    );
    check.fail('connection refused');
    await rounds(4);
    expect(states()).toEqual(['failing']);
    expect(alerts).toEqual([]);
    expect(asked).toEqual(['payments/production', 'payments/production', 'payments/production']);
    expect(skipped).toEqual([
      expect.objectContaining({
        reason: 'suppressed',
        detail: 'healing suppressed: maintenance window 7 (payments database migration) until 11:00',
      }),
    ]);
    expect(controller.status()[0]!.skipped).toMatchObject({ reason: 'suppressed' });
    expect(controller.describe()).toBe(
      'watching 1 service every 1 s: 0 healthy, payments in production failing (healing suppressed: maintenance window 7 (payments database migration) until 11:00)',
    );

    window = undefined;
    await rounds(1);
    expect(states()).toEqual(['failing', 'healing']);
    expect(alerts.map((a) => a.status)).toEqual(['firing']);
    expect(controller.status()[0]!.skipped).toBeUndefined();
  });

  it('treats a silenced alert as suppressed healing, and raises it again seconds later', async () => {
    let silence: string | undefined = 'a1b2c3';
    const { check, rounds, alerts, skipped, states, clock } = started(
      setup({
        outcome: (alert, runs) =>
          silence
            ? { action: 'silenced', silenceId: silence }
            : { runbook: 'service-self-heal', runId: `run-${runs + 1}`, action: 'started' },
      }),
    );
    check.fail('connection refused');
    await rounds(3);
    expect(states()).toEqual(['failing']);
    expect(alerts).toHaveLength(1);
    expect(skipped).toEqual([
      expect.objectContaining({
        reason: 'suppressed',
        detail: 'healing suppressed: ServiceUnhealthy is silenced (silence a1b2c3)',
      }),
    ]);

    silence = undefined;
    await clock.advance(5 * INTERVAL_MS);
    expect(alerts).toHaveLength(2);
    expect(states()).toEqual(['failing', 'healing']);
  });

  it('never resolves an alert it did not raise', async () => {
    const { check, rounds, alerts, states } = started(setup({ suppressedBy: async () => 'game day' }));
    check.fail('connection refused');
    await rounds(3);
    check.pass();
    await rounds(2);
    expect(states()).toEqual(['failing', 'healthy']);
    expect(alerts).toEqual([]);
  });

  it('repeats the alert while the failure lasts: a repeat starts a new run only once the previous one ended', async () => {
    let active = false;
    const { check, rounds, alerts, controller, clock } = started(
      setup({
        settings: { repeatIntervalMs: 10_000 },
        outcome: (alert, runs) => {
          if (active) return { runbook: 'service-self-heal', runId: `run-${runs}`, action: 'updated' };
          active = true;
          return { runbook: 'service-self-heal', runId: `run-${runs + 1}`, action: 'started' };
        },
      }),
    );
    check.fail('timed out after 500 ms');
    await rounds(2);
    expect(alerts).toHaveLength(1);
    await clock.advance(9 * INTERVAL_MS);
    expect(alerts).toHaveLength(1);
    await clock.advance(INTERVAL_MS);
    expect(alerts).toHaveLength(2);
    expect(controller.status()[0]).toMatchObject({ healsLastHour: 1, healingRuns: ['run-1'] });

    active = false;
    await clock.advance(10 * INTERVAL_MS);
    expect(alerts).toHaveLength(3);
    expect(controller.status()[0]).toMatchObject({
      state: 'healing',
      healsLastHour: 2,
      healingRuns: ['run-1', 'run-2'],
    });
  });

  it('stays failing, and says why, when no runbook takes the alert or the router cannot start one', async () => {
    const unbound = started(setup({ outcome: () => ({ action: 'unmatched' }) }));
    unbound.check.fail('connection refused');
    await unbound.rounds(2);
    expect(unbound.states()).toEqual(['failing']);
    expect(unbound.skipped).toEqual([
      expect.objectContaining({
        reason: 'unbound',
        detail: 'no runbook is triggered by ServiceUnhealthy; nothing heals it',
      }),
    ]);

    const refused = started(
      setup({
        outcome: () => ({
          runbook: 'service-self-heal',
          action: 'failed',
          error: 'service: must match pattern',
        }),
      }),
    );
    refused.check.fail('connection refused');
    await refused.rounds(2);
    expect(refused.skipped).toEqual([
      expect.objectContaining({
        reason: 'failed',
        detail: 'the healing runbook did not start: service-self-heal: service: must match pattern',
      }),
    ]);
  });

  it('stop waits for the round in flight, alert included, and no round starts after it', async () => {
    let answer: (() => void) | undefined;
    const check = new FakeCheck('http http://127.0.0.1:7101/health');
    const clock = new ManualClock();
    const { logger } = capturingLogger();
    const raised: Alert[] = [];
    const controller = new MaintenanceController(
      {
        targets: [{ service: 'payments', environment: 'production', checks: [check] }],
        raise: async (alerts) => {
          raised.push(...alerts);
          await new Promise<void>((resolve) => (answer = resolve));
          return [];
        },
        logger,
        clock,
      },
      { intervalMs: INTERVAL_MS, failureThreshold: 1 },
    );
    controller.start();
    check.fail('connection refused');
    await clock.advance(0);
    expect(raised).toHaveLength(1);

    let stopped = false;
    const stopping = controller.stop().then(() => (stopped = true));
    await settle();
    expect(stopped).toBe(false);
    answer?.();
    await stopping;
    await clock.advance(10 * INTERVAL_MS);
    expect(check.calls).toBe(1);
    expect(clock.timers).toBe(0);
  });

  it('spreads the first rounds of its services over one interval', async () => {
    const clock = new ManualClock();
    const { logger } = capturingLogger();
    const checks = ['a', 'b', 'c', 'd'].map((name) => new FakeCheck(`http http://${name}/health`));
    const controller = new MaintenanceController(
      {
        targets: checks.map((check, i) => ({
          service: `svc-${i}`,
          environment: 'production',
          checks: [check],
        })),
        raise: async () => [],
        logger,
        clock,
      },
      { intervalMs: INTERVAL_MS },
    );
    controller.start();
    running.push(controller);
    const called = () => checks.map((c) => c.calls);
    await clock.advance(0);
    expect(called()).toEqual([1, 0, 0, 0]);
    await clock.advance(250);
    expect(called()).toEqual([1, 1, 0, 0]);
    await clock.advance(500);
    expect(called()).toEqual([1, 1, 1, 1]);
    await clock.advance(250);
    expect(called()).toEqual([2, 1, 1, 1]);
  });

  it('reports itself to system status: a warning while a service is failing or healing', async () => {
    const { check, rounds, controller } = started(setup());
    const component = maintenanceComponent(controller);
    expect(await component.check()).toEqual({
      state: 'ok',
      detail: 'watching 1 service every 1 s: 0 healthy, 1 not checked yet',
    });
    await rounds(1);
    expect(await component.check()).toEqual({
      state: 'ok',
      detail: 'watching 1 service every 1 s: 1 healthy',
    });
    check.fail('connection refused');
    await rounds(2);
    expect(await component.check()).toEqual({
      state: 'warning',
      detail: 'watching 1 service every 1 s: 0 healthy, payments in production healing',
    });
    await controller.stop();
    expect(controller.describe()).toBe(
      'stopped; 1 service every 1 s: 0 healthy, payments in production healing',
    );
  });

  it('refuses a service watched twice or with nothing to check', () => {
    const { logger } = capturingLogger();
    const check = new FakeCheck('http http://127.0.0.1:7101/health');
    const deps = { raise: async () => [], logger };
    expect(
      () =>
        new MaintenanceController({
          ...deps,
          targets: [
            { service: 'payments', environment: 'production', checks: [check] },
            { service: 'payments', environment: 'production', checks: [check] },
          ],
        }),
    ).toThrow('payments in production is watched twice');
    expect(
      () =>
        new MaintenanceController({
          ...deps,
          targets: [{ service: 'payments', environment: 'staging', checks: [] }],
        }),
    ).toThrow('payments in staging has no health checks to watch');
  });
});
