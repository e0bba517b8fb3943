import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { EnvironmentName } from '../../bot/config/schema';
import type { MetricQuery } from '../../bot/metrics/metrics-source';
import {
  DEFAULT_PROMQL,
  PrometheusMetricsSource,
  PrometheusQueryError,
} from '../../adapters/metrics/prometheus-metrics-source';

const T0 = 1_700_000_000_000;
const TOKEN = 's3cret-token';

interface Answer {
  status: number;
  body: string;
}

const matrix = (values: [number, string][], series = 1): Answer => ({
  status: 200,
  body: JSON.stringify({
    status: 'success',
    data: {
      resultType: 'matrix',
      result: Array.from({ length: series }, (_, i) => ({ metric: { instance: String(i) }, values })),
    },
  }),
});

describe('PrometheusMetricsSource', () => {
  let server: Server;
  let base: string;
  let answer: Answer;
  const requests: IncomingMessage[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      requests.push(req);
      res.statusCode = answer.status;
      res.setHeader('content-type', 'application/json');
      res.end(answer.body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );

  beforeEach(() => {
    requests.length = 0;
    answer = matrix([]);
  });

  function query(overrides: Partial<MetricQuery> = {}): MetricQuery {
    return {
      service: 'checkout',
      environment: 'production' as EnvironmentName,
      metric: 'throughput',
      start: T0,
      end: T0 + 3_600_000,
      stepSeconds: 60,
      ...overrides,
    };
  }

  function lastParams(): URLSearchParams {
    const req = requests.at(-1);
    if (!req?.url) throw new Error('Prometheus was not asked');
    return new URL(req.url, base).searchParams;
  }

  it('sends the default PromQL per metric kind with start, end, step and window', async () => {
    const source = new PrometheusMetricsSource({ url: base });
    await source.query(query());
    expect(requests.at(-1)?.url?.split('?')[0]).toBe('/api/v1/query_range');
    expect(Object.fromEntries(lastParams())).toEqual({
      query: 'sum(rate(http_requests_total{service="checkout"}[4m]))',
      start: '1700000000',
      end: '1700003600',
      step: '60',
    });

    await source.query(query({ metric: 'error_rate', stepSeconds: 10, start: T0 + 500 }));
    expect(lastParams().get('query')).toBe(
      'sum(rate(http_requests_total{service="checkout",code=~"5.."}[1m])) / sum(rate(http_requests_total{service="checkout"}[1m]))',
    );
    expect(lastParams().get('start')).toBe('1700000000.5');
    expect(lastParams().get('step')).toBe('10');

    await source.query(query({ metric: 'latency', quantile: 0.99, stepSeconds: 1350 }));
    expect(lastParams().get('query')).toBe(
      'histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{service="checkout"}[1h30m])))',
    );
    await source.query(query({ metric: 'latency' }));
    expect(lastParams().get('query')).toContain('histogram_quantile(0.95,');

    await source.query(query({ metric: 'cpu' }));
    expect(lastParams().get('query')).toBe('avg(demo_cpu_utilisation{service="checkout"})');
    await source.query(query({ metric: 'cpu_replicas' }));
    expect(lastParams().get('query')).toBe('sum(demo_cpu_utilisation{service="checkout"})');
    expect(requests.at(-1)?.headers.authorization).toBeUndefined();
  });

  it('fills the placeholders of a query from config, environment included', async () => {
    const source = new PrometheusMetricsSource({
      url: `${base}/prom`,
      queries: { cpu: 'avg(rate(cpu_seconds{app="{service}",env="{environment}"}[{window}]))' },
    });
    await source.query(query({ metric: 'cpu', environment: 'staging' }));
    expect(requests.at(-1)?.url?.split('?')[0]).toBe('/prom/api/v1/query_range');
    expect(lastParams().get('query')).toBe('avg(rate(cpu_seconds{app="checkout",env="staging"}[4m]))');
    await source.query(query({ metric: 'throughput' }));
    expect(lastParams().get('query')).toBe(
      DEFAULT_PROMQL.throughput.replace(/\{service\}/g, 'checkout').replace('{window}', '4m'),
    );
  });

  it('maps a matrix to points in milliseconds and drops NaN and infinite values', async () => {
    answer = matrix([
      [1_700_000_000, '12.5'],
      [1_700_000_060.5, 'NaN'],
      [1_700_000_120, '+Inf'],
      [1_700_000_180, '-Inf'],
      [1_700_000_240, '0'],
    ]);
    const series = await new PrometheusMetricsSource({ url: base }).query(query({ metric: 'error_rate' }));
    expect(series).toEqual({
      metric: 'error_rate',
      unit: 'ratio',
      points: [
        { t: 1_700_000_000_000, v: 12.5 },
        { t: 1_700_000_240_000, v: 0 },
      ],
    });
  });

  it('answers an empty result as no data and refuses several series', async () => {
    const source = new PrometheusMetricsSource({ url: base });
    answer = {
      status: 200,
      body: JSON.stringify({ status: 'success', data: { resultType: 'matrix', result: [] } }),
    };
    expect((await source.query(query())).points).toEqual([]);
    answer = matrix([[1_700_000_000, '1']], 2);
    await expect(source.query(query({ metric: 'cpu' }))).rejects.toThrow(/returned 2 series/);
  });

  it('sends a bearer token or basic auth', async () => {
    await new PrometheusMetricsSource({ url: base, bearerToken: TOKEN }).query(query());
    expect(requests.at(-1)?.headers.authorization).toBe(`Bearer ${TOKEN}`);
    await new PrometheusMetricsSource({ url: base, basicAuth: { username: 'ops', password: 'pw' } }).query(
      query(),
    );
    expect(requests.at(-1)?.headers.authorization).toBe(`Basic ${Buffer.from('ops:pw').toString('base64')}`);
    const fromUrl = new PrometheusMetricsSource({ url: base.replace('//', '//ops:p%40ss@') });
    expect(fromUrl.description).toBe(`prometheus ${base}`);
    await fromUrl.query(query());
    expect(requests.at(-1)?.headers.authorization).toBe(
      `Basic ${Buffer.from('ops:p@ss').toString('base64')}`,
    );
  });

  it("rejects with Prometheus's own error message", async () => {
    answer = {
      status: 400,
      body: JSON.stringify({
        status: 'error',
        errorType: 'bad_data',
        error: '1:5: parse error: unexpected "}"',
      }),
    };
    const failure = new PrometheusMetricsSource({ url: base }).query(query());
    await expect(failure).rejects.toThrow(PrometheusQueryError);
    await expect(failure).rejects.toMatchObject({
      message: '1:5: parse error: unexpected "}"',
      errorType: 'bad_data',
    });
  });

  it('names the endpoint, never the token, when HTTP or the network fails', async () => {
    const endpoint = `${base}/api/v1/query_range`;
    answer = { status: 502, body: '<html>Bad Gateway</html>' };
    const source = new PrometheusMetricsSource({ url: base, bearerToken: TOKEN });
    const failure = await source.query(query()).catch((err: Error) => err);
    expect((failure as Error).message).toBe(`Prometheus at ${endpoint} answered HTTP 502`);

    answer = { status: 200, body: '<html>Grafana</html>' };
    await expect(source.query(query())).rejects.toThrow(`Prometheus at ${endpoint} did not answer like`);

    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const closedUrl = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const refused = await new PrometheusMetricsSource({ url: closedUrl, bearerToken: TOKEN })
      .query(query())
      .catch((err: Error) => err);
    expect((refused as Error).message).toBe(
      `Prometheus at ${closedUrl}/api/v1/query_range: connection refused`,
    );
    for (const err of [failure, refused])
      expect(JSON.stringify({ ...(err as Error), m: String(err) })).not.toContain(TOKEN);
  });

  it('times out', async () => {
    const hung = createServer(() => {});
    await new Promise<void>((resolve) => hung.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(hung.address() as AddressInfo).port}`;
    try {
      await expect(new PrometheusMetricsSource({ url, timeoutMs: 100 }).query(query())).rejects.toThrow(
        `Prometheus at ${url}/api/v1/query_range: timed out after 100 ms`,
      );
    } finally {
      hung.closeAllConnections();
      await new Promise<void>((resolve) => hung.close(() => resolve()));
    }
  });

  it.each([
    ['service', { service: 'checkout"}) or vector(1) #' }],
    ['service', { service: 'Checkout' }],
    ['service', { service: '' }],
    ['environment', { environment: 'prod{x="1"}' as EnvironmentName }],
  ])('refuses to put an unsafe %s name into PromQL', async (_kind, overrides) => {
    await expect(new PrometheusMetricsSource({ url: base }).query(query(overrides))).rejects.toThrow(
      /refusing/,
    );
    expect(requests).toHaveLength(0);
  });

  it('describes itself and refuses a URL that is not http', () => {
    expect(new PrometheusMetricsSource({ url: 'http://prom:9090' }).description).toBe(
      'prometheus http://prom:9090',
    );
    expect(() => new PrometheusMetricsSource({ url: 'ftp://prom' })).toThrow(/http or https/);
    expect(
      () =>
        new PrometheusMetricsSource({
          url: base,
          bearerToken: TOKEN,
          basicAuth: { username: 'a', password: 'b' },
        }),
    ).toThrow(/not both/);
  });
});
