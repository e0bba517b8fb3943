import { ConfigError } from '../../bot/core/errors';
import type { CheckResult, HealthCheck } from '../../engines/maintenance/health-check';
import { describeFetchFailure } from '../http/describe-fetch-failure';
import { isRecord } from '../is-record';

/** How many failing series a detail names; the count says how many more there were. */
const SERIES_NAMED = 3;

export interface PrometheusQueryCheckOptions {
  /** Prometheus's base URL, e.g. http://prometheus:9090, or one behind a path prefix. */
  url: string;
  /** PromQL for an instant query. */
  query: string;
  timeoutMs: number;
  /** Sent as `Authorization: Bearer …`. */
  bearerToken?: string;
}

/**
 * An instant query (`GET /api/v1/query`). Healthy when it returns at least one sample and every sample is
 * non-zero (NaN counts as zero): `up{job="payments"}` passes while every target is up, and a comparison
 * written with `bool` passes while it holds. No samples at all fails — the series is gone, which is what a
 * dead exporter looks like. A Prometheus that cannot answer fails the check too, its error in the detail: the
 * controller cannot tell a service it cannot see from one that is down, and a person reads which it was.
 */
export class PrometheusQueryCheck implements HealthCheck {
  readonly name: string;
  readonly timeoutMs: number;
  private readonly endpoint: URL;
  private readonly headers: Record<string, string>;

  constructor(options: PrometheusQueryCheckOptions) {
    const base = new URL(options.url);
    if (base.protocol !== 'http:' && base.protocol !== 'https:') {
      throw new ConfigError(`a Prometheus check needs an http(s) URL, not ${options.url}`);
    }
    // Relative API paths must resolve under a path prefix, not replace its last segment.
    if (!base.pathname.endsWith('/')) base.pathname += '/';
    this.endpoint = new URL('api/v1/query', base);
    this.endpoint.searchParams.set('query', options.query);
    this.timeoutMs = options.timeoutMs;
    this.headers = {
      accept: 'application/json',
      ...(options.bearerToken ? { authorization: `Bearer ${options.bearerToken}` } : {}),
    };
    this.name = `prometheus ${options.query}`;
  }

  async run(signal: AbortSignal): Promise<CheckResult> {
    const started = performance.now();
    const result = (ok: boolean, detail: string): CheckResult => ({
      ok,
      latencyMs: Math.round(performance.now() - started),
      detail,
    });
    let status: number;
    let text: string;
    try {
      const res = await fetch(this.endpoint, { headers: this.headers, signal });
      status = res.status;
      text = await res.text();
    } catch (err) {
      return result(false, `Prometheus: ${describeFetchFailure(err, this.timeoutMs)}`);
    }
    const body = parseJson(text);
    if (isRecord(body) && body.status === 'error') {
      return result(
        false,
        `Prometheus refused the query: ${String(body.error ?? body.errorType ?? 'error')}`,
      );
    }
    if (status < 200 || status >= 300 || !isRecord(body) || body.status !== 'success') {
      return result(false, `Prometheus answered HTTP ${status} without a query result`);
    }
    const samples = instantSamples(body.data);
    if (samples === undefined) return result(false, 'Prometheus answered with a result it cannot be read as');
    if (samples.length === 0) return result(false, 'the query returned no samples');
    const zero = samples.filter((sample) => sample.value === 0 || Number.isNaN(sample.value));
    if (zero.length === 0) {
      return result(true, `${samples.length} sample${samples.length === 1 ? '' : 's'}, none 0`);
    }
    const named = zero.slice(0, SERIES_NAMED).map((sample) => sample.series);
    const more = zero.length > SERIES_NAMED ? ` and ${zero.length - SERIES_NAMED} more` : '';
    return result(false, `${zero.length} of ${samples.length} samples are 0: ${named.join(', ')}${more}`);
  }
}

interface Sample {
  /** Its labels as PromQL writes them: `{instance="b:9100", job="node"}`. */
  series: string;
  value: number;
}

/** The samples of a vector or scalar result; undefined for anything else (a matrix, a string). */
function instantSamples(data: unknown): Sample[] | undefined {
  if (!isRecord(data)) return undefined;
  if (data.resultType === 'scalar') {
    const value = sampleValue(data.result);
    return value === undefined ? undefined : [{ series: '{}', value }];
  }
  if (data.resultType !== 'vector' || !Array.isArray(data.result)) return undefined;
  const samples: Sample[] = [];
  for (const item of data.result as unknown[]) {
    if (!isRecord(item)) return undefined;
    const value = sampleValue(item.value);
    if (value === undefined) return undefined;
    samples.push({ series: seriesName(item.metric), value });
  }
  return samples;
}

/** `[<unix seconds>, "<value>"]`, Prometheus's sample; the value is a string so it can say NaN and ±Inf. */
function sampleValue(pair: unknown): number | undefined {
  if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[1] !== 'string') return undefined;
  const [, text] = pair as [unknown, string];
  if (text === '+Inf') return Number.POSITIVE_INFINITY;
  if (text === '-Inf') return Number.NEGATIVE_INFINITY;
  return Number(text);
}

function seriesName(metric: unknown): string {
  if (!isRecord(metric)) return '{}';
  const labels = Object.entries(metric).map(([name, value]) => `${name}="${String(value)}"`);
  return `{${labels.join(', ')}}`;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
