import { chooseForecaster, type BacktestScore } from '../../engines/scaler/forecast/backtest';
import { InsufficientHistoryError } from '../../engines/scaler/forecast/forecast-input';
import type { Forecaster } from '../../engines/scaler/forecast/forecaster';
import {
  planReplicas,
  type ForecastPoint,
  type LoadPoint,
  type ScalingPolicy,
} from '../../engines/scaler/replica-planner';
import type { AutoscalerInput, SimulatedAutoscaler } from './autoscaler';
import { ForecastErrorBand } from '../../engines/scaler/forecast-error-band';

export interface PredictiveOptions {
  policy: ScalingPolicy;
  /** The forecasters to choose among by backtest, preferred first (it wins ties). */
  candidates: readonly Forecaster[];
  /** The forecast's step: observations are averaged into buckets this long, as a metrics store would. */
  bucketSeconds: number;
  /** Most buckets of history a forecaster is fitted on (the oldest are dropped). */
  historyBuckets: number;
  /** The backtest runs again this often, and whenever a skipped candidate has enough history to be scored. */
  reselectSeconds: number;
  /** The backtest's folds tile this much of the end of the history. */
  backtestSeconds: number;
  /** Quantile of actual ÷ forecast that widens the forecast into its upper band. */
  bandQuantile: number;
  /** Share of the band's samples, those forecast nearest a point's level, that its quantile is taken over. */
  bandNeighbourShare: number;
  /** How far back the band looks. */
  bandSeconds: number;
  /** Samples the band needs before it is used (until then the planner sees no upper band). */
  bandMinSamples: number;
  /** The band is re-estimated this often: it moves slowly, and re-sorting its samples every bucket is not free. */
  bandRefreshSeconds: number;
}

/** One backtest's outcome, for the report. */
export interface ForecasterSelection {
  /** Epoch seconds. */
  at: number;
  chosen: string;
  scores: BacktestScore[];
}

/**
 * The predictive scaler as the simulation runs it: the history seen so far, averaged into buckets; at each
 * bucket's end the forecaster chosen by backtest is refitted on it and forecasts the buckets the planner's
 * look-ahead reaches; every sync, `planReplicas` decides from that forecast (widened into an upper band by
 * the forecaster's recent misses) and the load just seen. Until the history is long enough for any
 * forecaster it plans from observed load alone.
 */
export class PredictiveAutoscaler implements SimulatedAutoscaler {
  readonly name = 'predictive';
  readonly selections: ForecasterSelection[] = [];
  private readonly history: number[] = [];
  private readonly band: ForecastErrorBand;
  private readonly horizonBuckets: number;
  private observed: LoadPoint[] = [];
  private forecast: ForecastPoint[] = [];
  private bucket = { index: Number.NaN, sum: 0, samples: 0 };
  private chosen: Forecaster | undefined;
  private nextSelectionAt = -Infinity;
  /** History length at which a candidate the last backtest skipped can be scored. */
  private nextSelectionLength = Infinity;
  private lastScaleUpAt: number | undefined;
  private lastScaleDownAt: number | undefined;
  private upper: ((forecast: number) => number) | undefined;
  private bandRefreshAt = -Infinity;

  constructor(private readonly options: PredictiveOptions) {
    const { policy } = options;
    // The forecast must reach past the next refit (a bucket away) by the planner's whole look-ahead.
    this.horizonBuckets =
      1 + Math.ceil((policy.startupSeconds + policy.intervalSeconds) / options.bucketSeconds);
    this.band = new ForecastErrorBand(
      Math.max(1, Math.round(options.bandSeconds / policy.intervalSeconds)),
      options.bandQuantile,
      options.bandNeighbourShare,
    );
  }

  /** The planner's answer for that load alone: there is no history or forecast yet. */
  startingReplicas(load: number): number {
    return planReplicas(this.options.policy, {
      now: 0,
      replicas: 0,
      observed: [{ t: 0, v: load }],
      forecast: [],
    }).desired;
  }

  async desiredReplicas(input: AutoscalerInput): Promise<number> {
    const { policy } = this.options;
    const sampleStart = input.now - input.stepSeconds;
    const forecastThen = inForce(this.forecast, sampleStart);
    if (forecastThen !== undefined) this.band.record(input.observed, forecastThen.v);
    this.observed.push({ t: input.now, v: input.observed });
    const oldest = input.now - policy.scaleDownCooldownSeconds;
    if ((this.observed[0] as LoadPoint).t < oldest)
      this.observed = this.observed.filter((p) => p.t >= oldest);
    await this.addToBucket(sampleStart, input.observed, input.now);

    const plan = planReplicas(policy, {
      now: input.now,
      replicas: input.replicas,
      observed: this.observed,
      forecast: this.forecast,
      lastScaleUpAt: this.lastScaleUpAt,
      lastScaleDownAt: this.lastScaleDownAt,
    });
    if (plan.direction === 'up') this.lastScaleUpAt = input.now;
    if (plan.direction === 'down') this.lastScaleDownAt = input.now;
    return plan.desired;
  }

  /** Adds a sample to its bucket; once the bucket has ended, files it and refreshes the forecast. */
  private async addToBucket(sampleStart: number, value: number, now: number): Promise<void> {
    const { bucketSeconds, historyBuckets } = this.options;
    const index = Math.floor(sampleStart / bucketSeconds);
    if (index !== this.bucket.index) this.bucket = { index, sum: 0, samples: 0 };
    this.bucket.sum += value;
    this.bucket.samples += 1;
    const nextBucketStart = (index + 1) * bucketSeconds;
    if (now < nextBucketStart) return;
    this.history.push(this.bucket.sum / this.bucket.samples);
    if (this.history.length > historyBuckets) this.history.splice(0, this.history.length - historyBuckets);
    await this.refreshForecast(nextBucketStart, now);
  }

  private async refreshForecast(from: number, now: number): Promise<void> {
    const { candidates, bucketSeconds, reselectSeconds, backtestSeconds } = this.options;
    if (now >= this.nextSelectionAt || this.history.length >= this.nextSelectionLength) {
      const folds = Math.max(1, Math.round(backtestSeconds / (this.horizonBuckets * bucketSeconds)));
      try {
        const { chosen, scores } = await chooseForecaster(candidates, this.history, {
          horizon: this.horizonBuckets,
          folds,
        });
        this.chosen = chosen;
        this.selections.push({ at: now, chosen: chosen.name, scores });
        this.nextSelectionAt = now + reselectSeconds;
        this.nextSelectionLength = Math.min(...scores.map((score) => score.neededHistory ?? Infinity));
      } catch (err) {
        if (!(err instanceof InsufficientHistoryError)) throw err;
        this.nextSelectionLength = err.needed;
      }
    }
    if (this.chosen === undefined) return;
    const values = await this.chosen.forecast(this.history, this.horizonBuckets);
    if (this.upper === undefined || now >= this.bandRefreshAt) {
      this.upper = this.band.snapshot(this.options.bandMinSamples);
      if (this.upper !== undefined) this.bandRefreshAt = now + this.options.bandRefreshSeconds;
    }
    const upper = this.upper;
    // A trend extrapolated through a quiet night can dip below zero; load cannot.
    this.forecast = values.map((value, k) => {
      const v = Math.max(0, value);
      return { t: from + k * bucketSeconds, v, ...(upper === undefined ? {} : { upper: upper(v) }) };
    });
  }
}

/** The forecast point in force at `t`: the last one starting at or before it. */
function inForce(forecast: readonly ForecastPoint[], t: number): ForecastPoint | undefined {
  let found: ForecastPoint | undefined;
  for (const point of forecast) {
    if (point.t > t) break;
    found = point;
  }
  return found;
}
