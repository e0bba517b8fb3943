import { LocalDriver } from '../../adapters/platform/local-driver';
import { HttpHealthProbe } from '../../adapters/http/http-health-probe';
import type { HealthProbe } from '../../bot/core/health';
import type { PlatformDriver, ServiceInstance, ServiceStatus } from '../../bot/platform/platform-driver';
import { Platforms } from '../../bot/platform/platforms';
import { PermanentActionError } from '../../engines/orchestrator/action';
import type { PlatformChangeDeps } from '../../engines/orchestrator/actions/platform-change';
import { createRestartAction } from '../../engines/orchestrator/actions/restart-action';
import { createScaleAction } from '../../engines/orchestrator/actions/scale-action';
import { actionContext, catalogService, testCatalog } from './actions-support';

const healthy: HealthProbe = {
  check: async () => ({ state: 'ok', detail: 'HTTP 200 in 1 ms', latencyMs: 1, checkedAt: Date.now() }),
};

/**
 * A platform in memory: restart replaces every replica with a new one, scale sets the count. `hold` keeps
 * the effect of the next change from showing until released, as a slow rollout would.
 */
class FakeDriver implements PlatformDriver {
  readonly kind = 'fake';
  readonly calls: string[] = [];
  instances: ServiceInstance[];
  desired: number;
  /** When set, a restart leaves this many old replicas serving. */
  stuckReplicas = 0;
  onChange?: () => void;
  private spawned = 0;

  constructor(replicas: number) {
    this.desired = replicas;
    this.instances = Array.from({ length: replicas }, () => this.spawn());
  }

  async list() {
    return ['payments'];
  }
  async status(service: string): Promise<ServiceStatus> {
    return {
      service,
      state: 'running',
      replicas: { desired: this.desired, ready: this.instances.length },
      instances: this.instances.map((i) => ({ ...i })),
    };
  }
  async restart(service: string) {
    this.calls.push(`restart ${service}`);
    const kept = this.instances.slice(0, this.stuckReplicas);
    this.instances = [...kept, ...Array.from({ length: this.desired - kept.length }, () => this.spawn())];
    this.onChange?.();
  }
  async scale(service: string, replicas: number) {
    this.calls.push(`scale ${service} ${replicas}`);
    this.desired = replicas;
    this.instances = [
      ...this.instances.slice(0, replicas),
      ...Array.from({ length: Math.max(0, replicas - this.instances.length) }, () => this.spawn()),
    ];
    this.onChange?.();
  }
  async events() {
    return [];
  }
  async logs() {
    return [];
  }

  private spawn(): ServiceInstance {
    this.spawned += 1;
    return { id: `payments-${this.spawned}`, state: 'ready', startedAt: new Date().toISOString() };
  }
}

function depsFor(driver: PlatformDriver, verifyTimeoutMs = 5_000): PlatformChangeDeps {
  return {
    catalog: testCatalog({
      payments: catalogService('http://127.0.0.1:9/health', { replicas: { min: 1, max: 4 } }),
    }),
    platforms: new Platforms({ production: driver }),
    probe: healthy,
    verifyTimeoutMs,
  };
}

describe('restart action', () => {
  it('restarts under the service change lock and verifies every replica was replaced', async () => {
    const driver = new FakeDriver(2);
    const deps = depsFor(driver);
    let lockedDuringRestart = false;
    driver.onChange = () => (lockedDuringRestart = deps.platforms.changing('production', 'payments'));
    const output = await createRestartAction(deps).execute({ service: 'payments' }, actionContext());
    expect(output).toMatchObject({ verified: true, replicas: 2 });
    expect(driver.calls).toEqual(['restart payments']);
    expect(driver.instances.map((i) => i.id)).toEqual(['payments-3', 'payments-4']);
    expect(lockedDuringRestart).toBe(true);
  });

  it('on a later attempt, only verifies a restart that already took place', async () => {
    const driver = new FakeDriver(2);
    const restart = createRestartAction(depsFor(driver));
    const stepStarted = new Date(Date.now() - 60_000).toISOString();
    await restart.execute({ service: 'payments' }, actionContext({ attempt: 2, startedAt: stepStarted }));
    expect(driver.calls).toEqual([]);

    // Replicas older than the step: the restart did not happen, so it does now.
    const stepStartedLater = new Date(Date.now() + 60_000).toISOString();
    await restart.execute(
      { service: 'payments' },
      actionContext({ attempt: 2, startedAt: stepStartedLater }),
    );
    expect(driver.calls).toEqual(['restart payments']);
  });

  it('fails for good, saying what it saw, when the restart does not verify', async () => {
    const driver = new FakeDriver(2);
    driver.stuckReplicas = 1;
    const failed = createRestartAction(depsFor(driver, 0)).execute({ service: 'payments' }, actionContext());
    await expect(failed).rejects.toBeInstanceOf(PermanentActionError);
    await expect(failed).rejects.toThrow(
      /^restart payments in production was not verified after \d+\.\d s: 1 replica not replaced yet$/,
    );
  });

  it('refuses for good a service the catalog does not know and an environment without a driver', async () => {
    const restart = createRestartAction(depsFor(new FakeDriver(1)));
    await expect(restart.execute({ service: 'ledger' }, actionContext())).rejects.toThrow(
      new PermanentActionError('the catalog has no service called ledger'),
    );
    const noDriver = createRestartAction({
      ...depsFor(new FakeDriver(1)),
      catalog: testCatalog({
        payments: catalogService('http://127.0.0.1:9/health', {
          environments: { production: {}, staging: {} },
        }),
      }),
    });
    const refused = noDriver.execute({ service: 'payments', environment: 'stg' }, actionContext());
    await expect(refused).rejects.toBeInstanceOf(PermanentActionError);
    await expect(refused).rejects.toThrow(
      'no platform driver is configured for staging (drivers are configured for production)',
    );
  });

  it('retries a driver that refused', async () => {
    const driver = new FakeDriver(1);
    driver.restart = async () => {
      throw new Error('kubectl: connection refused');
    };
    const failed = createRestartAction(depsFor(driver)).execute({ service: 'payments' }, actionContext());
    await expect(failed).rejects.toThrow(
      'could not restart payments in production: kubectl: connection refused',
    );
    await expect(failed).rejects.not.toBeInstanceOf(PermanentActionError);
  });
});

describe('scale action', () => {
  it('scales within the catalog limits and reports the count before for an undo', async () => {
    const driver = new FakeDriver(1);
    const scale = createScaleAction(depsFor(driver));
    const output = await scale.execute({ service: 'payments', replicas: 3 }, actionContext());
    expect(output).toMatchObject({ from: 1, to: 3, verified: true });
    expect(driver.calls).toEqual(['scale payments 3']);

    const again = await scale.execute(
      { service: 'payments', replicas: 3 },
      actionContext({ idempotencyKey: 'run-2:s1' }),
    );
    expect(again).toMatchObject({ from: 3, to: 3 });
    expect(driver.calls).toEqual(['scale payments 3']);

    for (const replicas of [0, 5]) {
      const refused = scale.execute({ service: 'payments', replicas }, actionContext());
      await expect(refused).rejects.toBeInstanceOf(PermanentActionError);
      await expect(refused).rejects.toThrow(`payments allows 1–4 replicas, not ${replicas}`);
    }
  });

  it('keeps the count from before the first attempt when a retry finds it already changed', async () => {
    const driver = new FakeDriver(1);
    const scale = createScaleAction(depsFor(driver));
    const controller = new AbortController();
    driver.onChange = () => controller.abort(new Error('step timed out'));
    const first = scale.execute(
      { service: 'payments', replicas: 2 },
      actionContext({ idempotencyKey: 'run-3:up', signal: controller.signal }),
    );
    await expect(first).rejects.toThrow('step timed out');
    driver.onChange = undefined;

    const retried = await scale.execute(
      { service: 'payments', replicas: 2 },
      actionContext({ idempotencyKey: 'run-3:up', attempt: 2 }),
    );
    expect(retried).toMatchObject({ from: 1, to: 2, verified: true });
  });

  it('describes the change for a plan', () => {
    const scale = createScaleAction(depsFor(new FakeDriver(1)));
    expect(scale.describe({ service: 'payments', environment: 'prod', replicas: 3 })).toEqual({
      summary: 'scale payments in production to 3 replicas',
      services: ['payments'],
      environment: 'production',
    });
  });
});

/** A service that answers /health, as a local replica; exits on SIGTERM. */
const SERVICE = `
const http = require('http');
const server = http.createServer((req, res) => { res.statusCode = req.url === '/health' ? 200 : 404; res.end(); });
server.listen(Number(process.env.PORT), '127.0.0.1');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
`;

describe('restart and scale on the local platform driver', () => {
  let driver: LocalDriver;
  afterEach(() => driver?.close());

  it('restarts real processes, scales up and back down with the undo the output allows', async () => {
    driver = new LocalDriver([{ name: 'payments', command: [process.execPath, '-e', SERVICE], port: 0 }], {
      healthIntervalMs: 100,
    });
    await driver.start();
    const deps: PlatformChangeDeps = {
      catalog: testCatalog({ payments: catalogService(`${driver.frontUrl('payments')}/health`) }),
      platforms: new Platforms({ production: driver }),
      probe: new HttpHealthProbe(2_000, 0),
      verifyTimeoutMs: 30_000,
    };
    const pids = async () => ((await driver.status('payments')).instances ?? []).map((i) => i.pid);
    const before = await pids();

    await expect(
      createRestartAction(deps).execute({ service: 'payments' }, actionContext()),
    ).resolves.toMatchObject({
      verified: true,
      replicas: 1,
    });
    const afterRestart = await pids();
    expect(afterRestart).toHaveLength(1);
    expect(afterRestart).not.toEqual(before);

    const scale = createScaleAction(deps);
    const up = await scale.execute(
      { service: 'payments', replicas: 2 },
      actionContext({ idempotencyKey: 'up' }),
    );
    expect(up).toMatchObject({ from: 1, to: 2, verified: true });
    expect((await driver.status('payments')).replicas).toEqual({ desired: 2, ready: 2 });

    const undo = await scale.execute(
      { service: 'payments', replicas: up.from as number },
      actionContext({ idempotencyKey: 'undo' }),
    );
    expect(undo).toMatchObject({ from: 2, to: 1, verified: true });
    expect((await driver.status('payments')).replicas).toEqual({ desired: 1, ready: 1 });
  }, 60_000);
});
