import { setTimeout as delay } from 'node:timers/promises';
import { startLoadGenerator, type LoadGenerator } from '../../demo/fleet/load-generator';
import { loadMultiplier } from '../../demo/fleet/load-pattern';
import { SERVICE_NAMES } from '../../demo/fleet/service-names';
import { closedPort } from '../support/runtime';
import { postJson, sample, serviceFixture } from './fleet-helpers';

/** The base rate that makes the daily pattern's rate right now come out at `rps`. */
const baseRateFor = (rps: number) => rps / loadMultiplier(Date.now() / 1000);

async function requestsCounted(url: string, service: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return text
    .split('\n')
    .filter((line) => line.startsWith('http_requests_total{') && line.includes(`service="${service}"`))
    .reduce((sum, line) => sum + Number(line.split(' ').pop()), 0);
}

describe('load generator', () => {
  const start = serviceFixture();
  let generator: LoadGenerator | undefined;
  afterEach(async () => {
    await generator?.stop();
    generator = undefined;
  });

  it('sends about the requested rate across its targets, and the services count what it sent', async () => {
    const gateway = await start('gateway', { capacityRps: 1000 });
    const search = await start('search', { capacityRps: 1000 });
    generator = startLoadGenerator({
      targets: { gateway: gateway.url, search: search.url },
      ratePerSecond: baseRateFor(40),
      bursts: false,
    });
    const began = Date.now();
    await delay(2500);
    const { rate } = generator.stats();
    await generator.stop();
    const seconds = (Date.now() - began) / 1000;
    const stats = generator.stats();

    expect(rate).toBeCloseTo(40, 0);
    // Generous: a busy machine delays timers, but an open-loop generator catches up on the next tick.
    expect(stats.sent).toBeGreaterThan(40 * seconds * 0.6);
    expect(stats.sent).toBeLessThan(40 * seconds * 1.3);
    expect(stats.failed).toBe(0);
    expect(stats.ok).toBe(stats.sent);
    expect(Object.keys(stats.byService).sort()).toEqual(['gateway', 'search']);
    expect(stats.byService.gateway!.sent).toBeGreaterThan(0);
    expect(stats.byService.search!.sent).toBeGreaterThan(0);
    expect(stats.byService.gateway!.sent + stats.byService.search!.sent).toBe(stats.sent);
    expect(await requestsCounted(gateway.url, 'gateway')).toBe(stats.byService.gateway!.ok);
    expect(await requestsCounted(search.url, 'search')).toBe(stats.byService.search!.ok);
  });

  it('spreads the shop mix over all eight services, creating records before it reads them', async () => {
    const targets: Record<string, string> = {};
    const urls: Record<string, string> = {};
    for (const name of SERVICE_NAMES)
      targets[name] = urls[name] = (await start(name, { capacityRps: 1000 })).url;
    generator = startLoadGenerator({ targets, ratePerSecond: baseRateFor(150), bursts: false, seed: 5 });
    await delay(2500);
    await generator.stop();
    const stats = generator.stats();
    expect(stats.failed).toBe(0);
    for (const name of SERVICE_NAMES) {
      expect(stats.byService[name]!.sent).toBeGreaterThan(0);
      // Every body the generator makes up passes the service's validation.
      const text = await (await fetch(`${urls[name]}/metrics`)).text();
      expect(sample(text, 'http_requests_total', { code: '400' })).toBeUndefined();
    }
    const ordersMetrics = await (await fetch(`${urls.orders}/metrics`)).text();
    expect(sample(ordersMetrics, 'http_requests_total', { route: '/orders', code: '201' })).toBeGreaterThan(
      0,
    );
    // Reads name orders the generator created, so most of them find one.
    const found = sample(ordersMetrics, 'http_requests_total', { route: '/orders/:id', code: '200' }) ?? 0;
    const missing = sample(ordersMetrics, 'http_requests_total', { route: '/orders/:id', code: '404' }) ?? 0;
    expect(found).toBeGreaterThanOrEqual(missing);
  });

  it('counts a target that is down as failures and keeps loading the others', async () => {
    const gateway = await start('gateway', { capacityRps: 1000 });
    generator = startLoadGenerator({
      targets: { gateway: gateway.url, search: `http://127.0.0.1:${await closedPort()}` },
      ratePerSecond: baseRateFor(40),
      bursts: false,
    });
    await delay(1500);
    await generator.stop();
    const { byService, failed, ok, sent } = generator.stats();
    expect(byService.search!.sent).toBeGreaterThan(0);
    expect(byService.search!.failed).toBe(byService.search!.sent);
    expect(byService.gateway!.ok).toBe(byService.gateway!.sent);
    expect(byService.gateway!.sent).toBeGreaterThan(0);
    expect(failed).toBe(byService.search!.sent);
    expect(ok + failed).toBe(sent);
  });

  it('counts 5xx answers as failures', async () => {
    const gateway = await start('gateway', { capacityRps: 1000 });
    await postJson(`${gateway.url}/admin/fault`, { kind: 'errors' });
    generator = startLoadGenerator({
      targets: { gateway: gateway.url },
      ratePerSecond: baseRateFor(30),
      bursts: false,
    });
    await delay(1000);
    await generator.stop();
    const { sent, failed } = generator.stats();
    expect(sent).toBeGreaterThan(0);
    expect(failed).toBe(sent);
  });

  it('drops requests past its concurrency limit instead of queueing behind a hung service', async () => {
    const users = await start('users');
    await postJson(`${users.url}/admin/fault`, { kind: 'hang' });
    generator = startLoadGenerator({
      targets: { users: users.url },
      ratePerSecond: baseRateFor(30),
      bursts: false,
      concurrency: 2,
    });
    await delay(1000);
    const { sent, ok, failed } = generator.stats();
    expect(sent).toBeGreaterThan(5);
    expect(ok).toBe(0);
    // All but the two in flight were dropped at once, long before any request timed out.
    expect(failed).toBe(sent - 2);
    await users.close();
  });

  it('refuses targets it cannot load', () => {
    expect(() =>
      startLoadGenerator({ targets: { billing: 'http://127.0.0.1:1' }, ratePerSecond: 1 }),
    ).toThrow(/unknown service "billing"/);
    expect(() =>
      startLoadGenerator({ targets: { search: 'https://127.0.0.1:1' }, ratePerSecond: 1 }),
    ).toThrow(/only http/);
    expect(() => startLoadGenerator({ targets: {}, ratePerSecond: 1 })).toThrow(/at least one/);
    expect(() =>
      startLoadGenerator({ targets: { search: 'http://127.0.0.1:1' }, ratePerSecond: -1 }),
    ).toThrow(/ratePerSecond/);
  });
});
