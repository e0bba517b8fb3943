import type { EnvironmentName } from '../../bot/config/schema';
import {
  METRIC_UNITS,
  type MetricKind,
  type MetricPoint,
  type MetricQuery,
  type MetricSeries,
  type MetricsSource,
  quantileOf,
} from '../../bot/metrics/metrics-source';
import {
  MAX_EXPOSITION_BYTES,
  parsePrometheusFloat,
  parsePrometheusText,
  type PrometheusSample,
} from './prometheus-text';
import { mean, sum } from '../../bot/core/statistics';
import { describeFetchFailure } from '../http/describe-fetch-failure';

const DEFAULT_INTERVAL_MS = 5000;
const DEFAULT_RETENTION_MS = 60 * 60 * 1000;
/** Well under the default interval, so a hung replica cannot delay the next round. */
const DEFAULT_TIMEOUT_MS = 3000;
/** Prometheus refuses range queries with more points than this; the reason, memory per answer, holds here too. */
const MAX_POINTS = 11_000;
/** A rate needs a scrape before and after; a window of two intervals has one even when scrapes drift. */
const MIN_WINDOW_INTERVALS = 2;
/**
 * Snapshots kept per target, as a multiple of what the retention needs at the configured interval: room for
 * extra `scrapeNow()` rounds, while still a hard bound if something calls it in a loop.
 */
const RING_HEADROOM = 2;
const EXPOSITION_ACCEPT = 'text/plain;version=0.0.4;q=1,*/*;q=0.1';

const REQUESTS = 'http_requests_total';
const DURATION_BUCKETS = 'http_request_duration_seconds_bucket';
const CPU = 'demo_cpu_utilisation';
const SERVER_ERROR_CODE = /^5\d\d$/;

/** A service to scrape in one environment. */
export interface ScrapedService {
  service: string;
  environment: EnvironmentName;
}

export interface ScrapeMetricsSourceOptions {
  /** The metrics URLs of a service: one per replica. A replica added or restarted may get a new URL. */
  targets: (service: string, environment: EnvironmentName) => Promise<string[]> | string[];
  /** What to scrape; asked again every round, so services can come and go. */
  services: () => ScrapedService[];
  intervalMs?: number;
  retentionMs?: number;
  /** Per target and round: connecting and reading the whole page. */
  timeoutMs?: number;
  now?: () => number;
  fetch?: typeof fetch;
}

/** What went wrong in the latest round for a service: every failed target, `url: reason`, joined by "; ". */
export interface ScrapeError {
  message: string;
  /** Epoch milliseconds of the round. */
  at: number;
}

/** Increases of a target's counters since its previous snapshot. */
interface Increase {
  /** When the previous snapshot was taken. */
  since: number;
  requests: number;
  errors: number;
  /** Histogram bucket upper bound → increase, summed over routes. */
  buckets: Map<number, number>;
}

interface Snapshot {
  t: number;
  /** Absent on a target's first snapshot, which only sets the baseline. */
  increase?: Increase;
  /** Mean of the gauge over the target's series, when it exposes any. */
  cpu?: number;
}

type CounterRole = { kind: 'requests'; error: boolean } | { kind: 'bucket'; le: number };

interface Counter {
  value: number;
  role: CounterRole;
}

interface TargetHistory {
  snapshots: Ring<Snapshot>;
  /** The counters of the latest snapshot, by series, to diff the next scrape against. */
  counters: Map<string, Counter>;
}

/** Per-second rates of one target over a window. */
interface Rates {
  requests: number;
  errors: number;
  buckets: Map<number, number>;
}

/**
 * The embedded metrics source: scrapes every replica's /metrics page itself and answers from what it kept,
 * computing rates and histogram quantiles the way Prometheus's `rate` and `histogram_quantile` would.
 *
 * It is meant for a laptop or a demo, not for production:
 * - History lives in memory only. It is lost when opsbot restarts, and it starts when scraping starts: a
 *   question about the hour before gets `coveredFrom` instead of data.
 * - History is `retentionMs` long (1 h by default); older snapshots are dropped.
 * - Every opsbot instance scrapes on its own, so several instances multiply the load on the services and may
 *   answer slightly differently. Run Prometheus and use PrometheusMetricsSource when that matters.
 * - It knows only the metrics opsbot asks about: `http_requests_total`, `http_request_duration_seconds` and
 *   `demo_cpu_utilisation`; samples labelled with another `service` are ignored.
 *
 * Counters are diffed per target between consecutive scrapes. A counter that went down means the process
 * restarted, so every counter of that target counts from zero again. A series missing from the previous
 * scrape of a known target is counted from zero too: client libraries create a labelled series on its first
 * increment, and Prometheus loses that increment. A target's first scrape only sets a baseline, since its
 * counters may hold requests from before opsbot was watching.
 */
export class ScrapeMetricsSource implements MetricsSource {
  readonly description: string;
  private readonly intervalMs: number;
  private readonly retentionMs: number;
  private readonly timeoutMs: number;
  private readonly capacity: number;
  private readonly now: () => number;
  private readonly fetch: typeof fetch;
  /** Service key → target URL → history. */
  private readonly histories = new Map<string, Map<string, TargetHistory>>();
  private errors = new Map<string, ScrapeError>();
  /** Set when `services()` itself failed, which leaves every service unscraped. */
  private listError?: ScrapeError;
  private round?: Promise<void>;
  private timer?: NodeJS.Timeout;

  constructor(private readonly options: ScrapeMetricsSourceOptions) {
    this.intervalMs = options.intervalMs ?? DEFAULT_INTERVAL_MS;
    this.retentionMs = options.retentionMs ?? DEFAULT_RETENTION_MS;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    if (!(this.intervalMs > 0 && this.timeoutMs > 0 && this.retentionMs > 0)) {
      throw new RangeError('scrape interval, retention and timeout must be positive');
    }
    this.capacity = Math.ceil(this.retentionMs / this.intervalMs) * RING_HEADROOM + 1;
    this.now = options.now ?? Date.now;
    // Wrapped, not stored bare: a platform fetch may insist on being called with its own `this`.
    this.fetch = options.fetch ?? ((input, init) => fetch(input, init));
    this.description = `scrape (every ${formatMs(this.intervalMs)}, ${formatMs(this.retentionMs)} kept)`;
  }

  /** Scrapes now and then every interval. The timer does not keep the process alive. */
  start(): void {
    if (this.timer) return;
    void this.scrapeNow();
    this.timer = setInterval(() => void this.scrapeNow(), this.intervalMs);
    this.timer.unref();
  }

  /** One round over every service's targets, stamped with `now()`; joins a round already in flight. Never rejects. */
  scrapeNow(): Promise<void> {
    this.round ??= this.scrapeAll().finally(() => {
      this.round = undefined;
    });
    return this.round;
  }

  /**
   * The failures of the latest round for a service, in any environment scraped when none is given;
   * undefined when all its targets answered.
   */
  lastError(service: string, environment?: EnvironmentName): ScrapeError | undefined {
    if (this.listError) return this.listError;
    if (environment) return this.errors.get(serviceKey(service, environment));
    return [...this.errors].find(([key]) => key.startsWith(`${service}\u0000`))?.[1];
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.round;
  }

  async query(query: MetricQuery): Promise<MetricSeries> {
    const stepMs = query.stepSeconds * 1000;
    if (!(stepMs > 0) || !(query.end >= query.start)) {
      throw new RangeError('a metrics query needs a positive step and an end not before its start');
    }
    if ((query.end - query.start) / stepMs + 1 > MAX_POINTS) {
      throw new RangeError(`a metrics query may return at most ${MAX_POINTS} points; use a larger step`);
    }
    const quantile = quantileOf(query);

    const targets = [...(this.histories.get(serviceKey(query.service, query.environment))?.values() ?? [])];
    const windowMs = Math.max(stepMs, MIN_WINDOW_INTERVALS * this.intervalMs);
    const cursors = targets.map((target) => ({ snapshots: [...target.snapshots], from: 0, to: 0 }));
    const points: MetricPoint[] = [];
    for (let k = 0; query.start + k * stepMs <= query.end; k++) {
      const t = query.start + k * stepMs;
      // Each point looks back over (t - window, t]; points only move forward, so the bounds do too.
      const windows = cursors.map((cursor) => {
        while (cursor.from < cursor.snapshots.length && cursor.snapshots[cursor.from]!.t <= t - windowMs) {
          cursor.from++;
        }
        cursor.to = Math.max(cursor.to, cursor.from);
        while (cursor.to < cursor.snapshots.length && cursor.snapshots[cursor.to]!.t <= t) cursor.to++;
        return cursor.snapshots.slice(cursor.from, cursor.to);
      });
      const v = valueAt(query.metric, windows, quantile);
      if (v !== undefined && Number.isFinite(v)) points.push({ t, v });
    }

    const oldest = Math.min(...targets.map((target) => target.snapshots.oldest()?.t ?? Infinity));
    const coveredFrom = Number.isFinite(oldest) ? oldest : this.now();
    const series: MetricSeries = { metric: query.metric, unit: METRIC_UNITS[query.metric], points };
    if (coveredFrom > query.start) series.coveredFrom = coveredFrom;
    return series;
  }

  private async scrapeAll(): Promise<void> {
    const t = this.now();
    let services: ScrapedService[];
    try {
      services = this.options.services();
      this.listError = undefined;
    } catch (err) {
      this.listError = { message: `could not list the services to scrape: ${errorMessage(err)}`, at: t };
      return;
    }
    const errors = new Map<string, ScrapeError>();
    await Promise.all(
      services.map(async ({ service, environment }) => {
        const failures = await this.scrapeService(service, environment, t);
        if (failures.length > 0) {
          errors.set(serviceKey(service, environment), { message: failures.join('; '), at: t });
        }
      }),
    );
    this.errors = errors;
    this.prune(t);
  }

  /** Scrapes a service's targets concurrently; returns what failed. */
  private async scrapeService(service: string, environment: EnvironmentName, t: number): Promise<string[]> {
    let urls: string[];
    try {
      urls = [...new Set(await this.options.targets(service, environment))];
    } catch (err) {
      return [`could not list metrics URLs: ${errorMessage(err)}`];
    }
    if (urls.length === 0) return ['no metrics URLs'];
    const key = serviceKey(service, environment);
    const failures = await Promise.all(
      urls.map(async (url) => {
        try {
          this.record(key, url, service, parsePrometheusText(await this.fetchPage(url)), t);
          return undefined;
        } catch (err) {
          // A page that came back wrong is described by its own error; only a failed request needs translating.
          const why = err instanceof PageError ? err.message : describeFetchFailure(err, this.timeoutMs);
          return `${displayUrl(url)}: ${why}`;
        }
      }),
    );
    return failures.filter((failure) => failure !== undefined);
  }

  private async fetchPage(url: string): Promise<string> {
    const res = await this.fetch(url, {
      headers: { accept: EXPOSITION_ACCEPT },
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    if (!res.ok) {
      await res.body?.cancel();
      throw new PageError(`HTTP ${res.status}`);
    }
    return readBounded(res);
  }

  private record(key: string, url: string, service: string, samples: PrometheusSample[], t: number): void {
    let targets = this.histories.get(key);
    if (!targets) {
      targets = new Map();
      this.histories.set(key, targets);
    }
    const { counters, cpu } = relevantSeries(samples, service);
    const history = targets.get(url);
    if (!history) {
      const snapshots = new Ring<Snapshot>(this.capacity);
      snapshots.push({ t, cpu });
      targets.set(url, { snapshots, counters });
      return;
    }
    // A kept history holds at least its latest snapshot: pruning deletes a history it empties.
    const since = history.snapshots.newest()?.t ?? t;
    history.snapshots.push({ t, cpu, increase: increaseSince(history.counters, counters, since) });
    history.counters = counters;
  }

  /** Drops snapshots older than the retention, and targets and services left with none. */
  private prune(now: number): void {
    const cutoff = now - this.retentionMs;
    for (const [key, targets] of this.histories) {
      for (const [url, history] of targets) {
        history.snapshots.dropWhile((snapshot) => snapshot.t < cutoff);
        if (history.snapshots.size === 0) targets.delete(url);
      }
      if (targets.size === 0) this.histories.delete(key);
    }
  }
}

function serviceKey(service: string, environment: EnvironmentName): string {
  return `${service}\u0000${environment}`;
}

/** The counters and gauge opsbot reads, keeping series of this service or with no `service` label. */
function relevantSeries(
  samples: PrometheusSample[],
  service: string,
): { counters: Map<string, Counter>; cpu?: number } {
  const counters = new Map<string, Counter>();
  const gauges: number[] = [];
  for (const sample of samples) {
    const { name, labels, value } = sample;
    if ((labels.service !== undefined && labels.service !== service) || !Number.isFinite(value)) continue;
    if (name === REQUESTS) {
      counters.set(seriesKey(sample), {
        value,
        role: { kind: 'requests', error: SERVER_ERROR_CODE.test(labels.code ?? '') },
      });
    } else if (name === DURATION_BUCKETS) {
      const le = parsePrometheusFloat(labels.le ?? '');
      if (le !== undefined && !Number.isNaN(le)) {
        counters.set(seriesKey(sample), { value, role: { kind: 'bucket', le } });
      }
    } else if (name === CPU) {
      gauges.push(value);
    }
  }
  return { counters, cpu: gauges.length > 0 ? mean(gauges) : undefined };
}

function seriesKey({ name, labels }: PrometheusSample): string {
  const pairs = Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1));
  return JSON.stringify([name, pairs]);
}

function increaseSince(before: Map<string, Counter>, after: Map<string, Counter>, since: number): Increase {
  // Counters never go down in a running process: one that did means it restarted, and all of them with it.
  const restarted = [...after].some(([key, counter]) => counter.value < (before.get(key)?.value ?? 0));
  const increase: Increase = { since, requests: 0, errors: 0, buckets: new Map() };
  for (const [key, { value, role }] of after) {
    const delta = restarted ? value : value - (before.get(key)?.value ?? 0);
    if (role.kind === 'requests') {
      increase.requests += delta;
      if (role.error) increase.errors += delta;
    } else {
      increase.buckets.set(role.le, (increase.buckets.get(role.le) ?? 0) + delta);
    }
  }
  return increase;
}

/** The value of a point from each target's snapshots in the point's window; undefined where there is no data. */
function valueAt(metric: MetricKind, windows: Snapshot[][], quantile: number): number | undefined {
  if (metric === 'cpu' || metric === 'cpu_replicas') {
    // Like Prometheus's instant vector: each target's latest gauge in the window, averaged (or summed) across
    // the targets that reported in it.
    const latest = windows
      .map((snapshots) => snapshots.findLast((snapshot) => snapshot.cpu !== undefined)?.cpu)
      .filter((cpu) => cpu !== undefined);
    if (latest.length === 0) return undefined;
    return metric === 'cpu' ? mean(latest) : sum(latest);
  }
  const rates = windows.map(ratesOf).filter((r) => r !== undefined);
  if (rates.length === 0) return undefined;
  const requests = sum(rates.map((r) => r.requests));
  switch (metric) {
    case 'throughput':
      return requests;
    case 'error_rate':
      return requests > 0 ? sum(rates.map((r) => r.errors)) / requests : undefined;
    case 'latency': {
      const buckets = new Map<number, number>();
      for (const r of rates)
        for (const [le, rate] of r.buckets) buckets.set(le, (buckets.get(le) ?? 0) + rate);
      return histogramQuantile(quantile, buckets);
    }
  }
}

/**
 * A target's per-second rates over the increases in its window, divided by the time they span. Rates are
 * taken per target before summing, like `sum(rate(...))`: a target that missed scrapes spreads its increase
 * over its own gap without diluting the others.
 */
function ratesOf(snapshots: Snapshot[]): Rates | undefined {
  let since = Infinity;
  let until = -Infinity;
  const totals: Rates = { requests: 0, errors: 0, buckets: new Map() };
  for (const { t, increase } of snapshots) {
    if (!increase) continue;
    since = Math.min(since, increase.since);
    until = Math.max(until, t);
    totals.requests += increase.requests;
    totals.errors += increase.errors;
    for (const [le, n] of increase.buckets) totals.buckets.set(le, (totals.buckets.get(le) ?? 0) + n);
  }
  if (!(until > since)) return undefined;
  const seconds = (until - since) / 1000;
  return {
    requests: totals.requests / seconds,
    errors: totals.errors / seconds,
    buckets: new Map([...totals.buckets].map(([le, n]) => [le, n / seconds])),
  };
}

/**
 * Prometheus's `histogram_quantile`: find the bucket holding the rank and interpolate linearly inside it,
 * with 0 as the lower bound of the first bucket and the highest finite bound when the rank lands in +Inf.
 * Undefined without a +Inf bucket, with a single bucket, or with no observations.
 */
function histogramQuantile(quantile: number, buckets: Map<number, number>): number | undefined {
  const sorted = [...buckets].sort(([a], [b]) => a - b);
  if (sorted.length < 2 || sorted.at(-1)?.[0] !== Infinity) return undefined;
  // Summed float rates can dip by a rounding error between buckets; cumulative counts must not.
  let running = 0;
  const cumulative = sorted.map(([, count]) => (running = Math.max(running, count)));
  const total = running;
  if (total <= 0) return undefined;
  const rank = quantile * total;
  const b = cumulative.findIndex((count) => count >= rank);
  if (b === sorted.length - 1) return sorted[b - 1]![0];
  const upper = sorted[b]![0];
  if (b === 0 && upper <= 0) return upper;
  const lower = b === 0 ? 0 : sorted[b - 1]![0];
  const below = b === 0 ? 0 : cumulative[b - 1]!;
  const inBucket = cumulative[b]! - below;
  return inBucket > 0 ? lower + ((upper - lower) * (rank - below)) / inBucket : lower;
}

/** Reads a response body, refusing one over the exposition limit before buffering it all. */
async function readBounded(res: Response): Promise<string> {
  const tooLarge = () => new PageError(`page over the ${MAX_EXPOSITION_BYTES / 1024 / 1024} MB limit`);
  if (Number(res.headers.get('content-length') ?? 0) > MAX_EXPOSITION_BYTES) {
    await res.body?.cancel();
    throw tooLarge();
  }
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_EXPOSITION_BYTES) {
      await reader.cancel();
      throw tooLarge();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** A URL for messages, without the credentials a URL may carry. */
function displayUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = '';
    parsed.password = '';
    return parsed.href;
  } catch {
    return url;
  }
}

function formatMs(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000} h`;
  if (ms % 60_000 === 0) return `${ms / 60_000} min`;
  return `${ms / 1000} s`;
}

/** A fixed-capacity queue that overwrites its oldest item when full, so a target's memory is bounded. */
class Ring<T> {
  private readonly items: (T | undefined)[];
  private head = 0;
  size = 0;

  constructor(private readonly capacity: number) {
    this.items = new Array<T | undefined>(capacity);
  }

  push(item: T): void {
    this.items[(this.head + this.size) % this.capacity] = item;
    if (this.size < this.capacity) this.size++;
    else this.head = (this.head + 1) % this.capacity;
  }

  oldest(): T | undefined {
    return this.size > 0 ? this.items[this.head] : undefined;
  }

  newest(): T | undefined {
    return this.size > 0 ? this.items[(this.head + this.size - 1) % this.capacity] : undefined;
  }

  dropWhile(test: (item: T) => boolean): void {
    while (this.size > 0 && test(this.items[this.head] as T)) {
      this.items[this.head] = undefined;
      this.head = (this.head + 1) % this.capacity;
      this.size--;
    }
  }

  *[Symbol.iterator](): IterableIterator<T> {
    for (let i = 0; i < this.size; i++) yield this.items[(this.head + i) % this.capacity] as T;
  }
}

/** A metrics page that answered, but not with metrics: an HTTP error status or a body over the size limit. */
class PageError extends Error {}
