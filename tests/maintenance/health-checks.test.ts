import { createServer, type IncomingMessage, type Server } from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { createHealthCheck } from '../../adapters/health/create-health-check';
import { HttpHealthCheck } from '../../adapters/health/http-health-check';
import { PrometheusQueryCheck } from '../../adapters/health/prometheus-query-check';
import { TcpHealthCheck } from '../../adapters/health/tcp-health-check';
import { ServiceCatalog } from '../../bot/config/catalog';
import { ConfigError } from '../../bot/core/errors';
import { serviceCheckSpecs } from '../../engines/maintenance/check-specs';
import { watchTargets } from '../../engines/maintenance/build-maintenance-controller';
import { closedPort, loopbackHttpServer, testConfig } from '../support/runtime';

const TIMEOUT_MS = 1_000;
const signal = () => new AbortController().signal;

async function listen(server: Server | net.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

function close(server: Server | net.Server): Promise<void> {
  if ('closeAllConnections' in server) server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

describe('TcpHealthCheck', () => {
  it('passes when a connection opens, and says why it failed when none does', async () => {
    const accepted: net.Socket[] = [];
    const server = net.createServer((socket) => accepted.push(socket));
    const port = await listen(server);
    try {
      const open = await new TcpHealthCheck(`127.0.0.1:${port}`, TIMEOUT_MS).run(signal());
      expect(open).toMatchObject({ ok: true, detail: expect.stringMatching(/^connected in \d+ ms$/) });
      expect(open.latencyMs).toBeGreaterThanOrEqual(0);
    } finally {
      for (const socket of accepted) socket.destroy();
      await close(server);
    }

    const refused = await new TcpHealthCheck(`127.0.0.1:${await closedPort()}`, TIMEOUT_MS).run(signal());
    expect(refused).toMatchObject({ ok: false, detail: 'connection refused' });
  });

  it('stops connecting when its signal aborts', async () => {
    const server = net.createServer((socket) => socket.destroy());
    const port = await listen(server);
    try {
      const abort = new AbortController();
      abort.abort();
      const result = await new TcpHealthCheck(`127.0.0.1:${port}`, 250).run(abort.signal);
      expect(result).toMatchObject({ ok: false, detail: 'timed out after 250 ms' });
    } finally {
      await close(server);
    }
  });

  it('refuses an address that is not host:port', () => {
    expect(() => new TcpHealthCheck('127.0.0.1', TIMEOUT_MS)).toThrow(ConfigError);
    expect(() => new TcpHealthCheck('db:99999', TIMEOUT_MS)).toThrow('a TCP check needs host:port');
    expect(new TcpHealthCheck('[::1]:5432', TIMEOUT_MS).name).toBe('tcp [::1]:5432');
  });
});

/** A tiny Prometheus: answers /api/v1/query from a table of PromQL to result, as Prometheus's JSON API does. */
async function fakePrometheus(answers: Record<string, { status: number; body: unknown }>, prefix = '') {
  const requests: IncomingMessage[] = [];
  const server = createServer((req, res) => {
    requests.push(req);
    const url = new URL(req.url ?? '/', 'http://prometheus');
    const answer =
      url.pathname === `${prefix}/api/v1/query` ? answers[url.searchParams.get('query') ?? ''] : undefined;
    if (answer === undefined) {
      res.writeHead(404).end('not found');
      return;
    }
    if (answer.status === 0) return; // never answers
    res.writeHead(answer.status, { 'content-type': 'application/json' }).end(JSON.stringify(answer.body));
  });
  const port = await listen(server);
  return { url: `http://127.0.0.1:${port}${prefix}`, requests, close: () => close(server) };
}

const vector = (...samples: [Record<string, string>, string][]) => ({
  status: 200,
  body: {
    status: 'success',
    data: {
      resultType: 'vector',
      result: samples.map(([metric, value]) => ({ metric, value: [1_763_800_000.123, value] })),
    },
  },
});

describe('PrometheusQueryCheck', () => {
  let prometheus: Awaited<ReturnType<typeof fakePrometheus>>;

  beforeAll(async () => {
    prometheus = await fakePrometheus(
      {
        'up{job="payments"}': vector(
          [{ instance: 'a:7101', job: 'payments' }, '1'],
          [{ instance: 'b:7101' }, '1'],
        ),
        'up{job="orders"}': vector(
          [{ instance: 'a:7102' }, '1'],
          [{ instance: 'b:7102' }, '0'],
          [{ instance: 'c:7102' }, 'NaN'],
        ),
        'up{job="gone"}': vector(),
        'scalar(1)': {
          status: 200,
          body: { status: 'success', data: { resultType: 'scalar', result: [1, '1'] } },
        },
        'rate(x[': {
          status: 400,
          body: { status: 'error', errorType: 'bad_data', error: 'parse error: unclosed left bracket' },
        },
        'up{job="slow"}': { status: 0, body: undefined },
      },
      '/prom',
    );
  });
  afterAll(() => prometheus.close());

  const check = (query: string, options: { bearerToken?: string; timeoutMs?: number } = {}) =>
    new PrometheusQueryCheck({ url: prometheus.url, query, timeoutMs: TIMEOUT_MS, ...options });

  it('passes when every sample of the instant query is non-zero', async () => {
    const result = await check('up{job="payments"}', { bearerToken: 'prom-token' }).run(signal());
    expect(result).toMatchObject({ ok: true, detail: '2 samples, none 0' });
    expect(prometheus.requests.at(-1)?.headers.authorization).toBe('Bearer prom-token');
    expect(await check('scalar(1)').run(signal())).toMatchObject({ ok: true, detail: '1 sample, none 0' });
  });

  it('fails naming the series that are 0 or NaN, and when the query returns nothing', async () => {
    expect(await check('up{job="orders"}').run(signal())).toMatchObject({
      ok: false,
      detail: '2 of 3 samples are 0: {instance="b:7102"}, {instance="c:7102"}',
    });
    expect(await check('up{job="gone"}').run(signal())).toMatchObject({
      ok: false,
      detail: 'the query returned no samples',
    });
  });

  it("fails with Prometheus's own words when it refuses the query, and when it cannot be reached", async () => {
    expect(await check('rate(x[').run(signal())).toMatchObject({
      ok: false,
      detail: 'Prometheus refused the query: parse error: unclosed left bracket',
    });
    const nowhere = new PrometheusQueryCheck({
      url: `http://127.0.0.1:${await closedPort()}`,
      query: 'up',
      timeoutMs: TIMEOUT_MS,
    });
    expect(await nowhere.run(signal())).toMatchObject({
      ok: false,
      detail: 'Prometheus: connection refused',
    });
  });

  it('gives up when its signal aborts', async () => {
    const result = await check('up{job="slow"}', { timeoutMs: 100 }).run(AbortSignal.timeout(100));
    expect(result).toMatchObject({ ok: false, detail: 'Prometheus: timed out after 100 ms' });
  });
});

describe('HttpHealthCheck', () => {
  it('fails on no answer or a 5xx, and passes a service that reports itself degraded', async () => {
    const answers: [number, string][] = [
      [200, '{"status":"ok"}'],
      [503, '{"status":"down"}'],
      [200, '{"status":"degraded"}'],
    ];
    const service = await loopbackHttpServer((res) => {
      const [status, body] = answers.shift() as [number, string];
      res.writeHead(status, { 'content-type': 'application/json' }).end(body);
    });
    try {
      const check = new HttpHealthCheck(service.url, TIMEOUT_MS);
      expect(check.name).toBe(`http ${service.url}`);
      expect(await check.run()).toMatchObject({
        ok: true,
        detail: expect.stringMatching(/^HTTP 200 in \d+ ms$/),
      });
      expect(await check.run()).toMatchObject({ ok: false, detail: expect.stringMatching(/^HTTP 503/) });
      expect(await check.run()).toMatchObject({
        ok: true,
        detail: expect.stringMatching(/reports degraded$/),
      });
    } finally {
      await service.close();
    }
    const down = new HttpHealthCheck(`http://127.0.0.1:${await closedPort()}/health`, TIMEOUT_MS);
    expect(await down.run()).toMatchObject({ ok: false, detail: 'connection refused' });
  });
});

describe('check specs', () => {
  it('runs the health URL first, then the listed checks, the health URL once', () => {
    const healthUrl = 'http://127.0.0.1:7101/health';
    expect(
      serviceCheckSpecs({
        healthUrl,
        checks: [
          { type: 'tcp', address: '127.0.0.1:5432' },
          { type: 'prometheus', query: 'up{job="payments"}' },
        ],
      }),
    ).toEqual([
      { type: 'http', url: healthUrl },
      { type: 'tcp', address: '127.0.0.1:5432' },
      { type: 'prometheus', query: 'up{job="payments"}' },
    ]);
    expect(
      serviceCheckSpecs({ healthUrl, checks: [{ type: 'http', url: healthUrl, timeoutMs: 300 }] }),
    ).toEqual([{ type: 'http', url: healthUrl, timeoutMs: 300 }]);
    expect(serviceCheckSpecs(undefined)).toEqual([]);
  });

  it('builds checks with the default timeout, and refuses a query with no Prometheus to ask', () => {
    const defaults = { timeoutMs: 700, prometheus: { url: 'http://prometheus:9090', bearerToken: 't' } };
    const query = createHealthCheck({ type: 'prometheus', query: 'up' }, defaults);
    expect([query.name, query.timeoutMs]).toEqual(['prometheus up', 700]);
    const tcp = createHealthCheck({ type: 'tcp', address: 'db:5432', timeoutMs: 200 }, defaults);
    expect([tcp.name, tcp.timeoutMs]).toEqual(['tcp db:5432', 200]);
    expect(() => createHealthCheck({ type: 'prometheus', query: 'up' }, { timeoutMs: 700 })).toThrow(
      'the Prometheus check "up" has no url, and metrics.prometheus.url is not set',
    );
  });

  it("watches each catalog service's health URL in the watched environments", () => {
    const catalog = new ServiceCatalog(testConfig());
    const targets = watchTargets(catalog, { environments: ['production', 'staging'], checkTimeoutMs: 800 });
    expect(targets.map((t) => `${t.service}/${t.environment}`)).toEqual([
      'payments/production',
      'orders/production',
      'inventory/production',
      'checkout/production',
      'notifications/production',
      'users/production',
      'search/production',
      'gateway/production',
    ]);
    expect(targets[0]!.checks.map((c) => [c.name, c.timeoutMs])).toEqual([
      ['http http://127.0.0.1:7101/health', 800],
    ]);
    const only = watchTargets(catalog, { environments: ['production'], services: ['orders', 'search'] });
    expect(only.map((t) => [t.service, t.checks[0]!.timeoutMs])).toEqual([
      ['orders', 1_000],
      ['search', 1_000],
    ]);
  });
});
