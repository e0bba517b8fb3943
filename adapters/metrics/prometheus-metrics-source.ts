import {
  METRIC_UNITS,
  type MetricKind,
  type MetricPoint,
  type MetricQuery,
  type MetricSeries,
  type MetricsSource,
  quantileOf,
} from '../../bot/metrics/metrics-source';
import { isRecord } from '../is-record';
import { describeFetchFailure } from '../http/describe-fetch-failure';

/**
 * PromQL per metric kind. Placeholders: {service}, {environment}, {quantile} (0.95 for p95) and {window}, the
 * range of `rate()`. Users override these in config when their metrics are named differently.
 */
export const DEFAULT_PROMQL: Readonly<Record<MetricKind, string>> = {
  throughput: 'sum(rate(http_requests_total{service="{service}"}[{window}]))',
  error_rate:
    'sum(rate(http_requests_total{service="{service}",code=~"5.."}[{window}])) / sum(rate(http_requests_total{service="{service}"}[{window}]))',
  latency:
    'histogram_quantile({quantile}, sum by (le) (rate(http_request_duration_seconds_bucket{service="{service}"}[{window}])))',
  cpu: 'avg(demo_cpu_utilisation{service="{service}"})',
  cpu_replicas: 'sum(demo_cpu_utilisation{service="{service}"})',
};

const DEFAULT_TIMEOUT_MS = 10_000;
/**
 * `rate()` needs at least two samples in its range; four steps, and never under a minute, holds several at
 * usual scrape intervals (15–30 s) and smooths a step's worth of noise without hiding a spike.
 */
const WINDOW_STEPS = 4;
const MIN_WINDOW_SECONDS = 60;
/** Names reach PromQL inside quoted label matchers; this alphabet cannot close the quote or the selector. */
const SAFE_NAME = /^[a-z0-9-]+$/;
const PLACEHOLDER = /\{(service|environment|quantile|window)\}/g;

export interface BasicAuth {
  username: string;
  password: string;
}

export interface PrometheusMetricsSourceOptions {
  /** Prometheus's base URL, e.g. http://prometheus:9090 or https://host/prometheus behind a path prefix. */
  url: string;
  timeoutMs?: number;
  /** Sent as `Authorization: Bearer …`. */
  bearerToken?: string;
  /** Sent as `Authorization: Basic …`; user:password@ in `url` means the same. */
  basicAuth?: BasicAuth;
  /** Replaces the default PromQL of the kinds given; see {@link DEFAULT_PROMQL} for the placeholders. */
  queries?: Partial<Record<MetricKind, string>>;
  fetch?: typeof fetch;
}

/** Prometheus answered `{"status":"error"}`: the message is Prometheus's own, `errorType` e.g. "bad_data". */
export class PrometheusQueryError extends Error {
  constructor(
    message: string,
    readonly errorType: string,
  ) {
    super(message);
    this.name = 'PrometheusQueryError';
  }
}

/**
 * Reads metrics from Prometheus's HTTP API with range queries. Every kind must come out as one series, so
 * the templates aggregate over routes and instances; a template that does not is reported, not guessed at.
 */
export class PrometheusMetricsSource implements MetricsSource {
  readonly description: string;
  private readonly base: URL;
  private readonly timeoutMs: number;
  private readonly headers: Record<string, string>;
  private readonly queries: Record<MetricKind, string>;
  private readonly fetch: typeof fetch;

  constructor(options: PrometheusMetricsSourceOptions) {
    const base = new URL(options.url);
    if (base.protocol !== 'http:' && base.protocol !== 'https:') {
      throw new Error(`Prometheus URL must be http or https, not ${base.protocol}`);
    }
    // Relative API paths must resolve under a path prefix, not replace its last segment.
    if (!base.pathname.endsWith('/')) base.pathname += '/';
    if (options.bearerToken && options.basicAuth) {
      throw new Error('Prometheus takes a bearer token or basic auth, not both');
    }
    // fetch refuses URLs with credentials; user:password@ in the URL means basic auth.
    const basicAuth =
      options.basicAuth ??
      (base.username
        ? { username: decodeURIComponent(base.username), password: decodeURIComponent(base.password) }
        : undefined);
    base.username = '';
    base.password = '';
    this.base = base;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.headers = { accept: 'application/json', ...authorization(options.bearerToken, basicAuth) };
    this.queries = { ...DEFAULT_PROMQL, ...options.queries };
    // Wrapped, not stored bare: a platform fetch may insist on being called with its own `this`.
    this.fetch = options.fetch ?? ((input, init) => fetch(input, init));
    this.description = `prometheus ${displayUrl(base).replace(/\/$/, '')}`;
  }

  async query(query: MetricQuery): Promise<MetricSeries> {
    const params = new URLSearchParams({
      query: this.promql(query),
      start: String(query.start / 1000),
      end: String(query.end / 1000),
      step: String(query.stepSeconds),
    });
    const data = await this.get('api/v1/query_range', params);
    return {
      metric: query.metric,
      unit: METRIC_UNITS[query.metric],
      points: matrixPoints(data, query.metric),
    };
  }

  private promql(query: MetricQuery): string {
    for (const name of [query.service, query.environment]) {
      if (!SAFE_NAME.test(name)) {
        throw new Error(
          `refusing to query Prometheus for ${JSON.stringify(name)}: not a service or environment name`,
        );
      }
    }
    const values = {
      service: query.service,
      environment: query.environment,
      quantile: String(quantileOf(query)),
      window: promDuration(Math.max(WINDOW_STEPS * query.stepSeconds, MIN_WINDOW_SECONDS)),
    };
    return this.queries[query.metric].replace(PLACEHOLDER, (_, name: keyof typeof values) => values[name]);
  }

  /** GETs an API path and returns its `data`, mapping every failure to a message that names the endpoint. */
  private async get(path: string, params: URLSearchParams): Promise<unknown> {
    const url = new URL(path, this.base);
    url.search = params.toString();
    const endpoint = `Prometheus at ${displayUrl(url)}`;
    let status: number;
    let text: string;
    try {
      const res = await this.fetch(url, {
        headers: this.headers,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      status = res.status;
      text = await res.text();
    } catch (err) {
      throw new Error(`${endpoint}: ${describeFetchFailure(err, this.timeoutMs)}`);
    }
    const body = parseJson(text);
    // Prometheus answers query errors with a 4xx/5xx and a JSON body; its own words beat the status code.
    if (isRecord(body) && body.status === 'error') {
      throw new PrometheusQueryError(
        String(body.error ?? 'unknown error'),
        String(body.errorType ?? 'unknown'),
      );
    }
    if (status < 200 || status >= 300) throw new Error(`${endpoint} answered HTTP ${status}`);
    if (!isRecord(body) || body.status !== 'success' || !('data' in body)) {
      throw new Error(`${endpoint} did not answer like the Prometheus API; is the URL right?`);
    }
    return body.data;
  }
}

function authorization(bearerToken?: string, basicAuth?: BasicAuth): Record<string, string> {
  if (bearerToken) return { authorization: `Bearer ${bearerToken}` };
  if (!basicAuth) return {};
  const credentials = Buffer.from(`${basicAuth.username}:${basicAuth.password}`, 'utf8').toString('base64');
  return { authorization: `Basic ${credentials}` };
}

/** The one series of a range query's matrix as points, without NaN and infinite values. */
function matrixPoints(data: unknown, metric: MetricKind): MetricPoint[] {
  if (!isRecord(data) || data.resultType !== 'matrix' || !Array.isArray(data.result)) {
    throw new Error(`the ${metric} query did not return a range of values`);
  }
  const [series, ...more] = data.result as unknown[];
  if (more.length > 0) {
    throw new Error(
      `the ${metric} query returned ${data.result.length} series; its PromQL must aggregate them into one (sum, avg)`,
    );
  }
  if (!isRecord(series) || !Array.isArray(series.values)) return [];
  const points: MetricPoint[] = [];
  for (const pair of series.values as unknown[]) {
    if (!Array.isArray(pair)) continue;
    const [seconds, value] = pair as unknown[];
    const v = Number(value);
    if (typeof seconds === 'number' && typeof value === 'string' && Number.isFinite(v)) {
      points.push({ t: Math.round(seconds * 1000), v });
    }
  }
  return points;
}

/** Seconds as a PromQL duration, "1h30m", rounded up to whole seconds. */
function promDuration(seconds: number): string {
  let rest = Math.ceil(seconds);
  let duration = '';
  for (const [unit, size] of [
    ['h', 3600],
    ['m', 60],
    ['s', 1],
  ] as const) {
    const n = Math.floor(rest / size);
    if (n > 0) duration += `${n}${unit}`;
    rest -= n * size;
  }
  return duration || '0s';
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** A URL for messages and the description, without its query string: a request's is long PromQL. */
function displayUrl(url: URL): string {
  const shown = new URL(url);
  shown.search = '';
  return shown.href;
}
