import type { HealthProbe, ProbeResult } from '../../bot/core/health';
import type { PlatformDriver, ServiceStatus } from '../../bot/platform/platform-driver';
import { Platforms } from '../../bot/platform/platforms';
import { verifyRollout } from '../../bot/platform/rollout-verification';

/** A driver whose status answers come from a script, one per call (the last one repeats). */
function scriptedDriver(statuses: (ServiceStatus | Error)[]): PlatformDriver & { calls: number } {
  const driver = {
    kind: 'scripted',
    calls: 0,
    async status() {
      const next = statuses[Math.min(driver.calls++, statuses.length - 1)] as ServiceStatus | Error;
      if (next instanceof Error) throw next;
      return next;
    },
    list: async () => [],
    restart: async () => {},
    scale: async () => {},
    events: async () => [],
    logs: async () => [],
  };
  return driver;
}

const probe = (state: ProbeResult['state'], detail = 'HTTP 200 in 1 ms'): HealthProbe => ({
  check: async () => ({ state, detail, latencyMs: 1, checkedAt: Date.now() }),
});

const instance = (id: string, state: 'ready' | 'starting' | 'exited') => ({ id, state });

describe('rollout verification', () => {
  it('waits until the old replicas are gone and the new ones ready, through driver errors', async () => {
    const driver = scriptedDriver([
      new Error('pod list failed'),
      {
        service: 'payments',
        state: 'running',
        instances: [instance('p-1', 'ready'), instance('p-2', 'starting')],
      },
      { service: 'payments', state: 'running', instances: [instance('p-2', 'ready')] },
    ]);
    const result = await verifyRollout(
      driver,
      'payments',
      { replicas: 1, replaced: new Set(['p-1']), healthUrl: 'http://h/health' },
      { timeoutMs: 10_000, probe: probe('ok') },
    );
    expect(result).toMatchObject({ verified: true, ready: 1 });
    expect(driver.calls).toBe(3);
  });

  it('reports what is still wrong when the time is up', async () => {
    const stale = await verifyRollout(
      scriptedDriver([{ service: 'payments', state: 'running', instances: [instance('p-1', 'ready')] }]),
      'payments',
      { replicas: 1, replaced: new Set(['p-1']) },
      { timeoutMs: 0, probe: probe('ok') },
    );
    expect(stale).toMatchObject({ verified: false, ready: 1, problem: '1 replica not replaced yet' });

    const unhealthy = await verifyRollout(
      scriptedDriver([{ service: 'orders', state: 'running', replicas: { desired: 3, ready: 3 } }]),
      'orders',
      { replicas: 3, healthUrl: 'http://h/health' },
      { timeoutMs: 0, probe: probe('critical', 'connection refused') },
    );
    expect(unhealthy).toMatchObject({
      verified: false,
      ready: 3,
      problem: 'health check: connection refused',
    });

    const short = await verifyRollout(
      scriptedDriver([{ service: 'orders', state: 'degraded', replicas: { desired: 3, ready: 2 } }]),
      'orders',
      { replicas: 3 },
      { timeoutMs: 0, probe: probe('ok') },
    );
    expect(short).toMatchObject({ verified: false, ready: 2, problem: '2/3 replicas ready' });
  });
});

describe('platform change lock', () => {
  it('runs changes to one service one at a time and says when one is waiting', async () => {
    const platforms = new Platforms({});
    const order: string[] = [];
    let releaseFirst!: () => void;
    const first = platforms.exclusive('production', 'payments', async () => {
      order.push('first start');
      await new Promise<void>((resolve) => (releaseFirst = resolve));
      order.push('first end');
    });
    expect(platforms.changing('production', 'payments')).toBe(true);
    expect(platforms.changing('production', 'orders')).toBe(false);
    const second = platforms.exclusive('production', 'payments', async () => void order.push('second'));
    const other = platforms.exclusive('production', 'orders', async () => void order.push('orders'));
    await other;
    expect(order).toEqual(['first start', 'orders']);
    releaseFirst();
    await Promise.all([first, second]);
    expect(order).toEqual(['first start', 'orders', 'first end', 'second']);
    await new Promise((resolve) => setImmediate(resolve));
    expect(platforms.changing('production', 'payments')).toBe(false);
  });
});
