import type { EnvironmentName } from '../config/schema';
import type { Block, ChartBlock, Reply } from '../core/message';
import { formatMetric, metricName } from '../metrics/metric-format';
import {
  DEFAULT_LATENCY_QUANTILE,
  METRIC_KINDS,
  METRIC_UNITS,
  type MetricKind,
  type MetricQuery,
  type MetricsSource,
  type MetricSeries,
} from '../metrics/metrics-source';
import { formatSeconds } from './format-seconds';
import { environmentSlot, serviceSlot } from './service-slots';
import type { Skill } from './skill';

/** The window asked about when the user names none. */
const DEFAULT_WINDOW_SECONDS = 15 * 60;
const DAY_MS = 86_400_000;
/** Points per chart: enough to see a shape, few enough for a chat message. */
const CHART_POINTS = 60;
/** No step is finer than this: scrapes and Prometheus's usual interval are seconds apart. */
const MIN_STEP_SECONDS = 5;

const PERCENTILE = /\bp(\d{2}(?:\.\d+)?)\b/i;
const MEDIAN = /\bmedian\b/i;
const METRIC_WORDS: [MetricKind, RegExp][] = [
  ['latency', /\b(?:latency|latencies|slow|response times?|p\d{2}|median|duration)\b/i],
  ['error_rate', /\b(?:errors?|error rate|5xx|failures?|failing)\b/i],
  ['throughput', /\b(?:throughput|rps|qps|traffic|requests?|req\/s|load)\b/i],
  ['cpu', /\b(?:cpu|utili[sz]ation|saturation)\b/i],
];

/** Latency percentiles, error rate, throughput and CPU of a service over a window, each with a chart. */
export function createMetricsSkill(deps: { source: MetricsSource; now?: () => number }): Skill {
  const now = deps.now ?? Date.now;
  return {
    intent: 'metrics',
    permission: 'metrics.read',
    summary: 'Show latency, error rate, throughput and CPU of a service',
    examples: ['p95 latency of checkout over the last hour', 'error rate of payments since 14:00'],
    slots: [
      serviceSlot('Which service?'),
      environmentSlot(),
      { entity: 'duration', required: false, prompt: 'Over how long?' },
      { entity: 'time_range', required: false, prompt: 'Since when?' },
    ],
    mutating: false,
    installed: true,
    async handle({ slots, turn }) {
      const service = String(slots.service);
      const environment = String(slots.environment) as EnvironmentName;
      const window = windowOf(slots.duration, slots.time_range, now());
      const asked = askedMetrics(turn.text);
      const stepSeconds = Math.max(
        MIN_STEP_SECONDS,
        Math.round((window.end - window.start) / 1000 / CHART_POINTS),
      );
      let series: { query: MetricQuery; series: MetricSeries }[];
      try {
        series = await Promise.all(
          asked.map(async ({ metric, quantile }) => {
            const query: MetricQuery = { service, environment, metric, quantile, ...window, stepSeconds };
            return { query, series: await deps.source.query(query) };
          }),
        );
      } catch (err) {
        const text = `I could not read metrics for ${service} from ${deps.source.description}: ${(err as Error).message}.`;
        return { text, blocks: [{ type: 'section', text }] };
      }
      return describeSeries(service, environment, window.label, series, deps.source.description);
    },
  };
}

/** The metrics the text asks about; all four (latency as p95) when it names none. */
export function askedMetrics(text: string): { metric: MetricKind; quantile?: number }[] {
  const named = METRIC_WORDS.filter(([, words]) => words.test(text)).map(([metric]) => metric);
  const percentile = PERCENTILE.exec(text);
  const quantile = percentile
    ? Number(percentile[1]) / 100
    : MEDIAN.test(text)
      ? 0.5
      : DEFAULT_LATENCY_QUANTILE;
  return (named.length > 0 ? named : [...METRIC_KINDS]).map((metric) =>
    metric === 'latency' ? { metric, quantile } : { metric },
  );
}

/**
 * The window: a duration ("last hour") ends now; a time ("since 14:00") runs from then to now, or to the end
 * it gives ("from 01:00 to 01:30"). The NLU reads times forward, so a time of day it placed later today
 * ("since 14:00" said at 09:00) means yesterday's, since metrics look back. A time further ahead (a weekday,
 * a date) cannot be read back reliably here and gets the default window.
 */
export function windowOf(
  duration: unknown,
  timeRange: unknown,
  nowMs: number,
): { start: number; end: number; label: string } {
  if (typeof timeRange === 'string') {
    const [from, to] = timeRange.split('/');
    let start = Date.parse(from ?? '');
    let end = to ? Date.parse(to) : nowMs;
    if (start > nowMs && start - nowMs <= DAY_MS) {
      start -= DAY_MS;
      // Only a given end moves with the start: "now" stays now.
      if (to) end -= DAY_MS;
    }
    end = Math.min(Number.isFinite(end) ? end : nowMs, nowMs);
    if (Number.isFinite(start) && end > start) {
      const label = to ? `${utcMinute(start)} to ${utcMinute(end)} UTC` : `since ${utcMinute(start)} UTC`;
      return { start, end, label };
    }
  }
  const seconds = typeof duration === 'number' && duration > 0 ? duration : DEFAULT_WINDOW_SECONDS;
  return { start: nowMs - seconds * 1000, end: nowMs, label: `last ${formatSeconds(seconds)}` };
}

/** "2024-05-15 14:00". */
function utcMinute(ms: number): string {
  return new Date(ms).toISOString().slice(0, 16).replace('T', ' ');
}

function describeSeries(
  service: string,
  environment: EnvironmentName,
  windowLabel: string,
  results: { query: MetricQuery; series: MetricSeries }[],
  sourceDescription: string,
): Reply {
  const lines: string[] = [];
  const charts: ChartBlock[] = [];
  const fields: { label: string; value: string }[] = [];
  let shortest: number | undefined;
  for (const { query, series } of results) {
    const name = metricName(query.metric, query.quantile);
    const unit = METRIC_UNITS[query.metric];
    if (series.points.length === 0) {
      lines.push(`${name}: no data`);
      fields.push({ label: name, value: 'no data' });
      continue;
    }
    const values = series.points.map((p) => p.v);
    const latest = formatMetric(unit, values[values.length - 1] as number);
    const min = formatMetric(unit, Math.min(...values));
    const max = formatMetric(unit, Math.max(...values));
    const avg = formatMetric(unit, values.reduce((a, b) => a + b, 0) / values.length);
    lines.push(`${name}: now ${latest} (min ${min}, avg ${avg}, max ${max})`);
    fields.push({ label: name, value: `${latest} now · avg ${avg} · max ${max}` });
    charts.push({
      type: 'chart',
      title: `${name} of ${service}, ${windowLabel}`,
      points: series.points,
      summary: { min, max, latest },
    });
    if (series.coveredFrom !== undefined) shortest = Math.max(shortest ?? 0, series.coveredFrom);
  }
  const coverage =
    shortest === undefined
      ? ''
      : ` I only have data since ${new Date(shortest).toISOString().slice(11, 19)} UTC (${sourceDescription}).`;
  const headline = `${service} (${environment}), ${windowLabel}:`;
  const text = `${headline} ${lines.join('; ')}.${coverage}`;
  const blocks: Block[] = [{ type: 'section', text: headline }, { type: 'fields', fields }, ...charts];
  if (coverage) blocks.push({ type: 'section', text: coverage.trim() });
  return { text, blocks };
}
