import type { EnvironmentName } from '../../bot/config/schema';
import { CPU_REPLICAS, type MetricPoint, type MetricsSource } from '../../bot/metrics/metrics-source';

/** Equally spaced load values, oldest first; `start` is the epoch ms of the first. */
export interface RegularSeries {
  start: number;
  stepMs: number;
  values: number[];
}

/** Where a scaling policy's load comes from, as the regular series forecasters need. */
export interface LoadSeries {
  /** How the load reads in chat: "req/s", "replicas' worth of CPU", "pending events". */
  readonly unit: string;
  read(fromMs: number, toMs: number, stepSeconds: number): Promise<RegularSeries>;
}

/**
 * Points of any spacing onto a regular grid from `fromMs` to `toMs`: the mean of each step's points, steps
 * without any filled by a straight line between their neighbours (a missed scrape is not zero load), steps
 * after the last point carry it. Steps before the first point are left out: a series starts where data does.
 */
export function regularise(
  points: readonly MetricPoint[],
  fromMs: number,
  toMs: number,
  stepMs: number,
): RegularSeries {
  const steps = Math.max(0, Math.floor((toMs - fromMs) / stepMs) + 1);
  const sums = new Array<number>(steps).fill(0);
  const counts = new Array<number>(steps).fill(0);
  for (const p of points) {
    const i = Math.round((p.t - fromMs) / stepMs);
    if (i < 0 || i >= steps || !Number.isFinite(p.v)) continue;
    sums[i] = (sums[i] as number) + p.v;
    counts[i] = (counts[i] as number) + 1;
  }
  const first = counts.findIndex((c) => c > 0);
  if (first < 0) return { start: fromMs, stepMs, values: [] };
  const values: number[] = [];
  let previous = first;
  for (let i = first; i < steps; i++) {
    if ((counts[i] as number) > 0) {
      const value = (sums[i] as number) / (counts[i] as number);
      // Fill the gap since the previous step that had data along a straight line.
      const from = values[values.length - 1];
      for (let g = previous + 1; g < i && from !== undefined; g++)
        values.push(from + ((value - from) * (g - previous)) / (i - previous));
      values.push(value);
      previous = i;
    }
  }
  const last = values[values.length - 1] as number;
  while (values.length < steps - first) values.push(last);
  return { start: fromMs + first * stepMs, stepMs, values };
}

/**
 * A catalog service's throughput or CPU from the metrics source. CPU is read summed over the replicas
 * (`cpu_replicas`, in replicas' worth), the load a replica count is planned against: each point counts the
 * replicas that ran then, so history from before a scale reads right.
 */
export class MetricLoadSeries implements LoadSeries {
  readonly unit: string;

  constructor(
    private readonly metrics: MetricsSource,
    private readonly service: string,
    private readonly environment: EnvironmentName,
    private readonly metric: 'throughput' | 'cpu',
  ) {
    this.unit = metric === 'throughput' ? 'req/s' : "replicas' worth of CPU";
  }

  async read(fromMs: number, toMs: number, stepSeconds: number): Promise<RegularSeries> {
    const series = await this.metrics.query({
      service: this.service,
      environment: this.environment,
      metric: this.metric === 'cpu' ? CPU_REPLICAS : 'throughput',
      start: fromMs,
      end: toMs,
      stepSeconds,
    });
    return regularise(series.points, fromMs, toMs, stepSeconds * 1000);
  }
}

/** How many lag samples are kept: a day at the default 15 s interval. */
const LAG_SAMPLES_KEPT = 5760;

/**
 * An event bus group's lag, which no metrics source keeps: the scaler samples it every interval and the
 * samples are the history (in memory, the last LAG_SAMPLES_KEPT, lost on restart).
 */
export class SampledLoadSeries implements LoadSeries {
  readonly unit = 'pending events';
  private readonly samples: MetricPoint[] = [];

  constructor(private readonly sampleNow: () => Promise<number>) {}

  async sample(now: number): Promise<void> {
    this.samples.push({ t: now, v: await this.sampleNow() });
    if (this.samples.length > LAG_SAMPLES_KEPT)
      this.samples.splice(0, this.samples.length - LAG_SAMPLES_KEPT);
  }

  read(fromMs: number, toMs: number, stepSeconds: number): Promise<RegularSeries> {
    return Promise.resolve(regularise(this.samples, fromMs, toMs, stepSeconds * 1000));
  }
}
