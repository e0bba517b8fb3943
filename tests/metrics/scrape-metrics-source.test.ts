import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { EnvironmentName } from '../../bot/config/schema';
import type { MetricQuery } from '../../bot/metrics/metrics-source';
import {
  ScrapeMetricsSource,
  type ScrapeMetricsSourceOptions,
} from '../../adapters/metrics/scrape-metrics-source';

const T0 = 1_700_000_000_000;
const SECOND = 1000;
const LE = ['0.05', '0.1', '0.25', '0.5', '1', '+Inf'];

/** Cumulative counters and the gauge of one replica, as the demo fleet's prom-client would expose them. */
interface Page {
  ok: number;
  failed: number;
  notFound: number;
  /** Cumulative bucket counts per LE for two routes. */
  pay: number[];
  cart: number[];
  cpu?: number;
}

function exposition(page: Page): string {
  const lines = [
    '# HELP http_requests_total Requests served.',
    '# TYPE http_requests_total counter',
    `http_requests_total{service="checkout",route="/pay",method="POST",code="200"} ${page.ok}`,
    `http_requests_total{service="checkout",route="/pay",method="POST",code="503"} ${page.failed}`,
    `http_requests_total{service="checkout",route="/cart",method="GET",code="404"} ${page.notFound}`,
    // Another service's series on the same page must not count.
    `http_requests_total{service="payments",route="/x",method="GET",code="500"} ${page.ok * 7}`,
    '# TYPE http_request_duration_seconds histogram',
  ];
  for (const [route, counts] of [
    ['/pay', page.pay],
    ['/cart', page.cart],
  ] as const) {
    LE.forEach((le, i) =>
      lines.push(
        `http_request_duration_seconds_bucket{service="checkout",route="${route}",le="${le}"} ${counts[i]}`,
      ),
    );
    lines.push(`http_request_duration_seconds_sum{service="checkout",route="${route}"} 12.5`);
    lines.push(`http_request_duration_seconds_count{service="checkout",route="${route}"} ${counts.at(-1)}`);
  }
  if (page.cpu !== undefined) lines.push(`demo_cpu_utilisation{service="checkout"} ${page.cpu}`);
  lines.push('this line is garbage');
  return lines.join('\n') + '\n';
}

const ZERO_BUCKETS = [0, 0, 0, 0, 0, 0];

function page(overrides: Partial<Page> = {}): Page {
  return { ok: 0, failed: 0, notFound: 0, pay: ZERO_BUCKETS, cart: ZERO_BUCKETS, ...overrides };
}

interface Replica {
  url: string;
  page: Page;
  hits: number;
}

describe('ScrapeMetricsSource', () => {
  const servers: Server[] = [];
  const sources: ScrapeMetricsSource[] = [];
  let now = T0;

  afterEach(async () => {
    await Promise.all(sources.splice(0).map((s) => s.close()));
    await Promise.all(
      servers.splice(0).map(
        (server) =>
          new Promise<void>((resolve) => {
            server.closeAllConnections();
            server.close(() => resolve());
          }),
      ),
    );
    now = T0;
  });

  async function listen(handler: Parameters<typeof createServer>[1]): Promise<string> {
    const server = createServer(handler);
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
  }

  async function replica(initial: Page): Promise<Replica> {
    const r: Replica = { url: '', page: initial, hits: 0 };
    r.url = await listen((_req, res) => {
      r.hits += 1;
      res.setHeader('content-type', 'text/plain; version=0.0.4');
      res.end(exposition(r.page));
    });
    return r;
  }

  function source(
    targets: () => string[],
    options: Partial<ScrapeMetricsSourceOptions> = {},
  ): ScrapeMetricsSource {
    const s = new ScrapeMetricsSource({
      targets: (service, environment) =>
        service === 'checkout' && environment === 'production' ? targets() : [],
      services: () => [{ service: 'checkout', environment: 'production' }],
      intervalMs: 5 * SECOND,
      timeoutMs: 2 * SECOND,
      now: () => now,
      ...options,
    });
    sources.push(s);
    return s;
  }

  async function scrapeAt(s: ScrapeMetricsSource, t: number): Promise<void> {
    now = t;
    await s.scrapeNow();
  }

  function q(metric: MetricQuery['metric'], start: number, end: number, extra: Partial<MetricQuery> = {}) {
    return {
      service: 'checkout',
      environment: 'production' as EnvironmentName,
      metric,
      start,
      end,
      stepSeconds: 10,
      ...extra,
    };
  }

  it('computes throughput, error ratio, CPU and interpolated latency quantiles from two scrapes', async () => {
    const a = await replica(
      page({ ok: 100, failed: 5, notFound: 1, pay: [10, 10, 10, 10, 10, 10], cpu: 0.2 }),
    );
    const b = await replica(page({ cpu: 0.6 }));
    const s = source(() => [a.url, b.url]);
    await scrapeAt(s, T0);
    // Over 10 s: 100 requests (80 ok, 10 failed with 503, 10 not found), split 60/40 between the replicas.
    a.page = page({ ok: 150, failed: 11, notFound: 5, pay: [50, 60, 66, 70, 70, 70], cpu: 0.3 });
    b.page = page({
      ok: 30,
      failed: 4,
      notFound: 6,
      pay: [10, 20, 24, 30, 30, 30],
      cart: [0, 10, 10, 10, 10, 10],
      cpu: 0.5,
    });
    await scrapeAt(s, T0 + 10 * SECOND);
    // Bucket increases summed by le: [50, 80, 90, 100, 100, 100] of 100 requests.

    const at = T0 + 10 * SECOND;
    expect((await s.query(q('throughput', T0, at))).points).toEqual([{ t: at, v: 10 }]);
    expect((await s.query(q('error_rate', at, at))).points).toEqual([{ t: at, v: 0.1 }]);
    expect((await s.query(q('cpu', at, at))).points).toEqual([{ t: at, v: 0.4 }]);
    expect(await s.query(q('cpu_replicas', at, at))).toMatchObject({
      unit: 'replicas',
      points: [{ t: at, v: 0.8 }],
    });
    const latency = async (quantile?: number) =>
      (await s.query(q('latency', at, at, { quantile }))).points.map((p) => p.v);
    // p95: rank 95 falls in (0.25, 0.5] holding ranks 90..100 → 0.25 + 0.25 × 5/10.
    expect(await latency(0.95)).toEqual([0.375]);
    expect(await latency()).toEqual([0.375]);
    // p50: rank 50 is the top of the first bucket, whose lower bound is 0.
    expect(await latency(0.5)).toEqual([0.05]);
    // p99: 0.25 + 0.25 × 9/10.
    expect((await latency(0.99))[0]).toBeCloseTo(0.475, 12);
    expect(await s.query(q('latency', at, at))).toMatchObject({ metric: 'latency', unit: 'seconds' });
  });

  it('has no rate at the first scrape, which only sets the baseline, and no latency without traffic', async () => {
    const a = await replica(page({ ok: 100, cpu: 0.25 }));
    const s = source(() => [a.url]);
    await scrapeAt(s, T0);
    await scrapeAt(s, T0 + 10 * SECOND);
    const first = await s.query(q('throughput', T0, T0 + 10 * SECOND));
    expect(first.points).toEqual([{ t: T0 + 10 * SECOND, v: 0 }]);
    expect(first.coveredFrom).toBeUndefined();
    expect((await s.query(q('error_rate', T0, T0 + 10 * SECOND))).points).toEqual([]);
    expect((await s.query(q('latency', T0, T0 + 10 * SECOND))).points).toEqual([]);
    // The gauge needs no previous scrape.
    expect((await s.query(q('cpu', T0, T0 + 10 * SECOND))).points).toEqual([
      { t: T0, v: 0.25 },
      { t: T0 + 10 * SECOND, v: 0.25 },
    ]);
  });

  it('sums CPU over the replicas that reported at each step, so a scale-down shows in the history', async () => {
    const a = await replica(page({ ok: 1, cpu: 0.6 }));
    const b = await replica(page({ ok: 1, cpu: 0.6 }));
    let targets = [a.url, b.url];
    const s = source(() => targets);
    await scrapeAt(s, T0);
    targets = [a.url];
    a.page = page({ ok: 1, cpu: 0.9 });
    await scrapeAt(s, T0 + 10 * SECOND);
    expect((await s.query(q('cpu_replicas', T0, T0 + 10 * SECOND))).points).toEqual([
      { t: T0, v: 1.2 },
      { t: T0 + 10 * SECOND, v: 0.9 },
    ]);
    // The mean utilisation rose while the total CPU fell.
    expect((await s.query(q('cpu', T0, T0 + 10 * SECOND))).points.map((p) => p.v)).toEqual([0.6, 0.9]);
  });

  it('counts from zero after a counter reset, for every counter of the restarted target', async () => {
    const a = await replica(page({ ok: 100, failed: 2 }));
    const s = source(() => [a.url]);
    await scrapeAt(s, T0);
    a.page = page({ ok: 130, failed: 2 });
    await scrapeAt(s, T0 + 10 * SECOND);
    // Restarted: ok went down; failed reads 4, all of them new since the restart.
    a.page = page({ ok: 20, failed: 4 });
    await scrapeAt(s, T0 + 20 * SECOND);
    expect((await s.query(q('throughput', T0, T0 + 20 * SECOND))).points).toEqual([
      { t: T0 + 10 * SECOND, v: 3 },
      { t: T0 + 20 * SECOND, v: 2.4 },
    ]);
    const [errors] = (await s.query(q('error_rate', T0 + 20 * SECOND, T0 + 20 * SECOND))).points;
    expect(errors?.t).toBe(T0 + 20 * SECOND);
    expect(errors?.v).toBeCloseTo(4 / 24, 12);
  });

  it('counts a series that appears on a known target from zero', async () => {
    // prom-client creates the 503 series on the first failure.
    let body = exposition(page({ ok: 100 })).replace(/.*code="503".*\n/, '');
    const url = await listen((_req, res) => res.end(body));
    const s = source(() => [url]);
    await scrapeAt(s, T0);
    body = exposition(page({ ok: 110, failed: 10 }));
    await scrapeAt(s, T0 + 10 * SECOND);
    expect((await s.query(q('error_rate', T0 + 10 * SECOND, T0 + 10 * SECOND))).points).toEqual([
      { t: T0 + 10 * SECOND, v: 0.5 },
    ]);
  });

  it('adds a replica that appears from its second scrape, and keeps one that went away', async () => {
    const a = await replica(page({ ok: 0 }));
    const b = await replica(page({ ok: 500 }));
    let urls = [a.url];
    const s = source(() => urls);
    await scrapeAt(s, T0);
    a.page = page({ ok: 50 });
    urls = [a.url, b.url];
    await scrapeAt(s, T0 + 10 * SECOND);
    a.page = page({ ok: 100 });
    b.page = page({ ok: 530 });
    await scrapeAt(s, T0 + 20 * SECOND);
    a.page = page({ ok: 150 });
    b.page = page({ ok: 999_999 });
    urls = [a.url];
    await scrapeAt(s, T0 + 30 * SECOND);
    expect(b.hits).toBe(2);
    // B's 500 requests before opsbot saw it are not a burst at 10 s; after it left, only A counts.
    expect((await s.query(q('throughput', T0, T0 + 30 * SECOND))).points).toEqual([
      { t: T0 + 10 * SECOND, v: 5 },
      { t: T0 + 20 * SECOND, v: 8 },
      { t: T0 + 30 * SECOND, v: 5 },
    ]);
  });

  it('skips a failing target, reports it, and forgets the error once all targets answer', async () => {
    const a = await replica(page({ ok: 0 }));
    const broken = await listen((_req, res) => {
      res.statusCode = 500;
      res.end('boom');
    });
    const refused = await listen(() => {});
    await new Promise<void>((resolve) => servers.pop()!.close(() => resolve()));
    let urls = [a.url, broken, refused];
    const s = source(() => urls);
    await scrapeAt(s, T0);
    a.page = page({ ok: 20 });
    await scrapeAt(s, T0 + 10 * SECOND);

    const error = s.lastError('checkout', 'production');
    expect(error?.at).toBe(T0 + 10 * SECOND);
    expect(error?.message).toContain(`${broken}: HTTP 500`);
    expect(error?.message).toContain(`${refused}: connection refused`);
    expect(s.lastError('checkout')).toEqual(error);
    expect(s.lastError('payments')).toBeUndefined();
    expect((await s.query(q('throughput', T0 + 10 * SECOND, T0 + 10 * SECOND))).points).toEqual([
      { t: T0 + 10 * SECOND, v: 2 },
    ]);

    urls = [a.url];
    await scrapeAt(s, T0 + 20 * SECOND);
    expect(s.lastError('checkout', 'production')).toBeUndefined();
  });

  it('gives up on a target after the timeout', async () => {
    const hung = await listen(() => {});
    const s = source(() => [hung], { timeoutMs: 100 });
    await s.scrapeNow();
    expect(s.lastError('checkout', 'production')?.message).toBe(`${hung}: timed out after 100 ms`);
  });

  it('reports services without targets and targets that cannot be listed', async () => {
    const s = new ScrapeMetricsSource({
      targets: (service) => {
        if (service === 'payments') throw new Error('kubeconfig missing');
        return [];
      },
      services: () => [
        { service: 'checkout', environment: 'staging' },
        { service: 'payments', environment: 'staging' },
      ],
      now: () => now,
    });
    sources.push(s);
    await s.scrapeNow();
    expect(s.lastError('checkout', 'staging')?.message).toBe('no metrics URLs');
    expect(s.lastError('payments', 'staging')?.message).toBe(
      'could not list metrics URLs: kubeconfig missing',
    );
  });

  it('drops history older than the retention and says where its history starts', async () => {
    const a = await replica(page());
    const s = source(() => [a.url], { intervalMs: 10 * SECOND, retentionMs: 30 * SECOND });
    for (let i = 0; i <= 10; i++) {
      a.page = page({ ok: i * 10 });
      await scrapeAt(s, T0 + i * 10 * SECOND);
    }
    const series = await s.query(q('throughput', T0, T0 + 100 * SECOND));
    expect(series.coveredFrom).toBe(T0 + 70 * SECOND);
    expect(series.points).toEqual([70, 80, 90, 100].map((sec) => ({ t: T0 + sec * SECOND, v: 1 })));
    expect((await s.query(q('throughput', T0 + 70 * SECOND, T0 + 80 * SECOND))).coveredFrom).toBeUndefined();
  });

  it('answers "no data" with coverage from now before anything was scraped', async () => {
    const s = source(() => []);
    now = T0 + 60 * SECOND;
    const series = await s.query(q('throughput', T0, T0 + 60 * SECOND));
    expect(series).toEqual({
      metric: 'throughput',
      unit: 'per_second',
      points: [],
      coveredFrom: T0 + 60 * SECOND,
    });
  });

  it('spreads a target’s increase over its own gap when it missed scrapes', async () => {
    const a = await replica(page());
    const b = await replica(page());
    let urls = [a.url, b.url];
    const s = source(() => urls);
    await scrapeAt(s, T0);
    urls = [a.url];
    a.page = page({ ok: 100 });
    await scrapeAt(s, T0 + 10 * SECOND);
    urls = [a.url, b.url];
    a.page = page({ ok: 200 });
    b.page = page({ ok: 200 });
    await scrapeAt(s, T0 + 20 * SECOND);
    // A: 100 in 10 s; B: 200 over the 20 s since its last scrape.
    expect((await s.query(q('throughput', T0 + 20 * SECOND, T0 + 20 * SECOND))).points).toEqual([
      { t: T0 + 20 * SECOND, v: 20 },
    ]);
  });

  it('refuses queries without a positive step or with too many points', async () => {
    const s = source(() => []);
    await expect(s.query(q('cpu', T0, T0 + SECOND, { stepSeconds: 0 }))).rejects.toThrow(RangeError);
    await expect(s.query(q('cpu', T0 + SECOND, T0))).rejects.toThrow(RangeError);
    await expect(s.query(q('cpu', T0, T0 + 86_400 * SECOND, { stepSeconds: 1 }))).rejects.toThrow(/at most/);
    await expect(s.query(q('latency', T0, T0, { quantile: 1.5 }))).rejects.toThrow(/quantile/);
  });

  it('describes itself', () => {
    expect(source(() => [], { intervalMs: 60 * SECOND }).description).toBe('scrape (every 1 min, 1 h kept)');
    expect(source(() => []).description).toBe('scrape (every 5 s, 1 h kept)');
  });

  it('scrapes once on start, however often started, and not after close', async () => {
    const a = await replica(page());
    // An interval short enough that a timer left running (a second one from the second start, or one close
    // missed) would scrape again while the test waits.
    const s = source(() => [a.url], { intervalMs: 10, retentionMs: SECOND });
    s.start();
    s.start();
    await s.close();
    expect(a.hits).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(a.hits).toBe(1);
  });
});
