import { numberText } from './number-text';

/** One point of a numeric series: epoch milliseconds and a value, as a ChartBlock holds them. */
export interface SeriesPoint {
  t: number;
  v: number;
}

export interface AnomalyOptions {
  /** Points per season: 24 for hourly points with a daily cycle, 168 for a weekly one; 0 (the default): none. */
  season?: number;
  /** How many robust σ from the baseline a point must be to be an anomaly: 3.5 unless given. */
  threshold?: number;
  /** EWMA smoothing of the level: the baseline without a season, or for a phase with too little history. 0.3 */
  alpha?: number;
  /** Points taken in before any is judged: three seasons with a season, 30 without, unless given. */
  warmup?: number;
  /** The seasonal baseline is the median of this phase's values over the last `seasons` seasons: 4. */
  seasons?: number;
}

export interface Anomaly {
  t: number;
  value: number;
  baseline: number;
  /** Robust z: (value − baseline) / (1.4826 × MAD of recent residuals); positive above the baseline. */
  score: number;
  direction: 'spike' | 'drop';
  /** "412 at 2026-11-20T14:00:00Z is 6.2 robust σ above its seasonal baseline 118 (median of …)" */
  explanation: string;
}

const DEFAULTS = { season: 0, threshold: 3.5, alpha: 0.3, seasons: 4 };
const WARMUP_WITHOUT_SEASON = 30;
/**
 * The spread is the MAD of at most this many residuals. Fewer make it noisy enough to double the false alarms
 * (48: about 20 in 10,000 points of normal noise at 3.5σ, where 5 are expected); more follow a change slowly.
 */
const SPREAD_RESIDUALS = 100;
/**
 * With a season, the residuals kept to choose from: the spread is measured on the third of them whose baselines
 * are nearest this point's. Noise often grows with the level (requests per second do), and one spread for the
 * whole cycle raises an alarm at every busy hour: 250 in 10,000 points of 5% noise on a 40–185 cycle, 16 so.
 */
const SEASONAL_RESIDUAL_WINDOW = 300;
/** Values at a phase the seasonal median needs, at most: with fewer, one odd value would be the baseline. */
const MIN_SEASONAL_VALUES = 3;
/**
 * Fewer residuals than this give a spread so noisy that the first points judged raise false alarms. With a season
 * it takes three times as many kept, the spread being measured on a third of them: hourly points with a daily
 * cycle are judged from their seventh day.
 */
const MIN_RESIDUALS = 30;
/** MAD × 1.4826 estimates σ for normal noise; mean absolute deviation × 1.2533 does too. */
const MAD_TO_SIGMA = 1.4826;
const MEAN_DEVIATION_TO_SIGMA = 1.2533;
/** A series that never moved still needs a spread to measure a change by: a thousandth of its size. */
const SPREAD_FLOOR = 1e-3;
/** The words for a step between points, to say "at this hour of the cycle". */
const STEP_WORDS = new Map([
  [1000, 'second'],
  [60_000, 'minute'],
  [3_600_000, 'hour'],
  [86_400_000, 'day'],
  [604_800_000, 'week'],
]);

type Baseline = { value: number; seasonalFrom: number } | { value: number; seasonalFrom?: undefined };

/**
 * A streaming anomaly detector for one numeric series. Each point is compared with a baseline — with a season,
 * the median of the values at the same phase over the last few seasons; without one (or before a phase has
 * history), an EWMA of the level — and scored in robust σ: the residual over 1.4826 × the MAD of recent
 * residuals (with a season, those of points whose baselines were nearest this one's). The MAD is taken about
 * zero, the baseline being the centre, so a run of outliers widens the spread rather than collapsing it.
 *
 * An anomalous point is kept out of the baseline: the level does not move for it, and the residual window and
 * the phase history see it winsorised, clipped to the threshold. A spike or a short outage leaves the baseline
 * as it was; a lasting change widens the spread and nudges each phase's history a clipped step a season, until
 * it stops being unusual and is taken in whole. The seasonal median needs three values (fewer when `seasons`
 * is below three), so one odd value during the warm-up does not become a phase's baseline.
 *
 * The phase of a point comes from its time and the step between the first two points, so a missing point does
 * not shift every later one out of phase; a series must start with two points one regular step apart.
 */
export class AnomalyDetector {
  private readonly season: number;
  private readonly threshold: number;
  private readonly alpha: number;
  private readonly warmup: number;
  private readonly seasons: number;
  private readonly minSeasonalValues: number;
  private seen = 0;
  private level: number | undefined;
  private firstT: number | undefined;
  private lastT: number | undefined;
  private step: number | undefined;
  private readonly residuals: ResidualWindow;
  private readonly phases = new Map<number, number[]>();

  constructor(options: AnomalyOptions = {}) {
    const { season, threshold, alpha, seasons } = { ...DEFAULTS, ...options };
    if (!Number.isInteger(season) || season < 0)
      throw new RangeError('season must be a whole number, 0 or more');
    if (!(threshold > 0)) throw new RangeError('threshold must be above 0');
    if (!(alpha > 0 && alpha <= 1)) throw new RangeError('alpha must be above 0 and at most 1');
    if (!Number.isInteger(seasons) || seasons < 1)
      throw new RangeError('seasons must be a whole number, 1 or more');
    const minSeasonalValues = Math.min(MIN_SEASONAL_VALUES, seasons);
    const warmup = options.warmup ?? (season > 0 ? minSeasonalValues * season : WARMUP_WITHOUT_SEASON);
    if (!Number.isInteger(warmup) || warmup < 0)
      throw new RangeError('warmup must be a whole number, 0 or more');
    this.season = season;
    this.threshold = threshold;
    this.alpha = alpha;
    this.seasons = seasons;
    this.warmup = warmup;
    this.minSeasonalValues = minSeasonalValues;
    this.residuals = new ResidualWindow(season > 0 ? SEASONAL_RESIDUAL_WINDOW : SPREAD_RESIDUALS);
  }

  /** Takes in the next point (times never going back) and returns it as an anomaly when it is one. */
  observe(t: number, value: number): Anomaly | undefined {
    if (!Number.isFinite(t) || !Number.isFinite(value))
      throw new RangeError('t and value must be finite numbers');
    if (this.lastT !== undefined && t < this.lastT) throw new RangeError('points must come in time order');
    if (this.firstT === undefined) this.firstT = t;
    else if (this.step === undefined && t > this.firstT) this.step = t - this.firstT;
    this.lastT = t;
    const phase = this.phaseOf(t);
    const baseline = this.baseline(phase);
    if (baseline === undefined) {
      this.remember(phase, value, value);
      return undefined;
    }
    const residual = value - baseline.value;
    const spread = this.seen >= this.warmup ? this.spread(baseline.value) : undefined;
    const score = spread === undefined ? 0 : residual / spread;
    const anomalous = Math.abs(score) > this.threshold;
    const remembered = anomalous ? Math.sign(residual) * this.threshold * (spread as number) : residual;
    // Residuals against the level are wide on a seasonal series: they would inflate its spread for a season.
    if (this.season === 0 || baseline.seasonalFrom !== undefined) {
      this.residuals.add(baseline.value, remembered);
    }
    this.remember(phase, anomalous ? baseline.value : value, baseline.value + remembered);
    if (!anomalous) return undefined;
    return {
      t,
      value,
      baseline: baseline.value,
      score,
      direction: residual > 0 ? 'spike' : 'drop',
      explanation: this.explain(t, value, baseline, score),
    };
  }

  private phaseOf(t: number): number {
    if (this.season === 0 || this.step === undefined) return 0;
    const index = Math.round((t - (this.firstT as number)) / this.step);
    return index % this.season;
  }

  private baseline(phase: number): Baseline | undefined {
    const history = this.season > 0 ? this.phases.get(phase) : undefined;
    if (history !== undefined && history.length >= this.minSeasonalValues)
      return { value: median([...history].sort((a, b) => a - b)), seasonalFrom: history.length };
    return this.level === undefined ? undefined : { value: this.level };
  }

  private spread(baseline: number): number | undefined {
    const kept = this.residuals.size;
    const count = this.season === 0 ? kept : Math.min(Math.floor(kept / 3), SPREAD_RESIDUALS);
    if (count < MIN_RESIDUALS) return undefined;
    const deviations = this.residuals.nearest(baseline, count).map(Math.abs).sort();
    const mad = MAD_TO_SIGMA * median(deviations);
    if (mad > 0) return mad;
    const meanDeviation = deviations.reduce((sum, d) => sum + d, 0) / deviations.length;
    return Math.max(MEAN_DEVIATION_TO_SIGMA * meanDeviation, SPREAD_FLOOR * Math.max(Math.abs(baseline), 1));
  }

  private remember(phase: number, forLevel: number, forPhase: number): void {
    this.seen++;
    this.level = this.level === undefined ? forLevel : this.alpha * forLevel + (1 - this.alpha) * this.level;
    if (this.season === 0) return;
    const history = this.phases.get(phase) ?? [];
    history.push(forPhase);
    if (history.length > this.seasons) history.shift();
    this.phases.set(phase, history);
  }

  private explain(t: number, value: number, baseline: Baseline, score: number): string {
    const side = score > 0 ? 'above' : 'below';
    const head = `${numberText(value)} at ${isoTime(t)} is ${Math.abs(score).toFixed(1)} robust σ ${side} its`;
    if (baseline.seasonalFrom === undefined)
      return `${head} baseline ${numberText(baseline.value)} (the smoothed level of the values before it)`;
    const unit = (this.step !== undefined && STEP_WORDS.get(this.step)) || 'point';
    const source =
      baseline.seasonalFrom === 1
        ? `the value at this ${unit} of the cycle one season earlier`
        : `median of the last ${baseline.seasonalFrom} values at this ${unit} of the cycle`;
    return `${head} seasonal baseline ${numberText(baseline.value)} (${source})`;
  }
}

interface Residual {
  baseline: number;
  residual: number;
}

/**
 * The last `capacity` residuals, kept in arrival order to drop the oldest and in baseline order to find the
 * residuals nearest a baseline without sorting the window for every point.
 */
class ResidualWindow {
  private readonly arrivals: Residual[] = [];
  private readonly byBaseline: Residual[] = [];

  constructor(private readonly capacity: number) {}

  get size(): number {
    return this.arrivals.length;
  }

  add(baseline: number, residual: number): void {
    const entry = { baseline, residual };
    this.arrivals.push(entry);
    this.byBaseline.splice(this.firstAtOrAbove(baseline), 0, entry);
    if (this.arrivals.length <= this.capacity) return;
    const oldest = this.arrivals.shift() as Residual;
    this.byBaseline.splice(this.byBaseline.indexOf(oldest, this.firstAtOrAbove(oldest.baseline)), 1);
  }

  /** The residuals of the `count` entries whose baselines are nearest `baseline`, as a Float64Array. */
  nearest(baseline: number, count: number): Float64Array {
    const entries = this.byBaseline;
    const out = new Float64Array(Math.min(count, entries.length));
    let below = this.firstAtOrAbove(baseline) - 1;
    let above = below + 1;
    for (let i = 0; i < out.length; i++) {
      const takeBelow =
        above >= entries.length ||
        (below >= 0 &&
          baseline - (entries[below] as Residual).baseline <=
            (entries[above] as Residual).baseline - baseline);
      out[i] = (entries[takeBelow ? below-- : above++] as Residual).residual;
    }
    return out;
  }

  private firstAtOrAbove(baseline: number): number {
    let lo = 0;
    let hi = this.byBaseline.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((this.byBaseline[mid] as Residual).baseline < baseline) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

/** Every anomaly of a whole series, its points oldest first. */
export function detectAnomalies(points: readonly SeriesPoint[], options: AnomalyOptions = {}): Anomaly[] {
  const detector = new AnomalyDetector(options);
  return points.flatMap((p) => detector.observe(p.t, p.v) ?? []);
}

/** The median of values already sorted ascending. */
function median(sorted: ArrayLike<number>): number {
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** `2026-11-20T14:00:00Z`: milliseconds only when there are some. */
function isoTime(t: number): string {
  return new Date(t).toISOString().replace('.000Z', 'Z');
}
