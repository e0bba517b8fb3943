import { ErrorCode, OpsbotError } from '../../../bot/core/errors';
import type { Forecaster } from './forecaster';
import { checkForecastInput, checkSeasonLength, InsufficientHistoryError } from './forecast-input';

export const HOLT_WINTERS_NAME = 'holt-winters';

/** The first seasons estimate the starting level, trend and seasonal shape: two are the fewest that show a trend. */
const INITIAL_SEASONS = 2;

/**
 * Damping of the trend: each step ahead adds φ times the previous step's trend, so a damped forecast levels
 * off instead of extrapolating a ramp forever. `false` keeps the trend (φ = 1), `true` fits φ among damped
 * values only, a number fixes φ; left out, the fit chooses between damped and undamped from the data.
 */
export type Damping = boolean | number;

export interface HoltWintersOptions {
  /** Steps per season: 96 for a daily cycle sampled every 15 minutes. */
  seasonLength: number;
  /** Level smoothing in [0, 1]; fitted when left out (as is each of beta, gamma). */
  alpha?: number;
  /** Trend smoothing in [0, 1]. */
  beta?: number;
  /** Seasonal smoothing in [0, 1]. */
  gamma?: number;
  damped?: Damping;
  /**
   * 'log' (the default) smooths log(y + c), c a small share of the history's mean: a season then scales
   * with the level (the peak grows more than the night when traffic grows), as load does, and the model
   * stays additive, so zeros at night cost nothing. 'none' smooths the values themselves.
   */
  transform?: 'log' | 'none';
  /**
   * When true (the default) an observation far outside the recent one-step errors (a burst) moves the
   * state only as far as a large ordinary error would, so a burst is not carried into the next hours, and
   * weighs in the fit as an absolute rather than a squared error. A lasting shift is still followed, a few
   * steps late, as the error scale grows to meet it.
   */
  robust?: boolean;
}

/** The smoothing parameters a forecast used, given or fitted. */
export interface SmoothingParameters {
  alpha: number;
  beta: number;
  gamma: number;
  /** Trend damping φ in (0, 1]; 1 is no damping. */
  phi: number;
}

/** Damped trends are searched down to this φ: below it the trend dies out within a few steps anyway. */
const MIN_PHI = 0.8;
/** The largest φ that still counts as damped when damping is required. */
const MAX_DAMPED_PHI = 0.98;

/**
 * The coarse grid the fit starts from: smoothing from slow (weeks of memory) to nearly memoryless. Its size
 * is the fit's cost: one pass over the history per point, 4 × 3 × 4 × 3 = 144 passes when all are fitted.
 */
const ALPHA_GRID = [0.05, 0.25, 0.5, 0.85];
const BETA_GRID = [0, 0.05, 0.2];
const GAMMA_GRID = [0.05, 0.25, 0.5, 0.9];
const PHI_GRID_ANY = [0.9, 0.98, 1];
const PHI_GRID_DAMPED = [0.85, 0.92, 0.98];
/** Pattern search after the grid: the first step, and the step at which it stops refining. */
const FIRST_REFINE_STEP = 0.1;
const LAST_REFINE_STEP = 0.005;

interface Bounds {
  min: number;
  max: number;
}

/** One parameter as the fit sees it: fixed by the caller, or searched over a grid and then refined. */
interface ParameterSearch {
  fixed?: number;
  grid: readonly number[];
  bounds: Bounds;
}

/**
 * log(y + c) with c this share of the history's mean: small, so a level shift or a day of growth is close
 * to a constant step in the log at night as at the peak (a tenth of the mean, tried first, left a known
 * level shift 21% off at night against 5%); not zero, so a zero at night stays finite.
 */
const LOG_OFFSET_SHARE = 0.01;
/** Errors beyond this many error scales are clipped to it (Huber's k). */
const ROBUST_CLIP = 2.5;
/** Weight of the latest (clipped) squared error in the running error scale. */
const ROBUST_SCALE_WEIGHT = 0.1;
/** The error scale never falls below this share of the series' typical size (plus one, for a series near zero). */
const MIN_ERROR_SCALE_SHARE = 1e-6;

/** The smoothing state after the last observation, which the forecast extrapolates. */
interface SmoothingState {
  level: number;
  trend: number;
  /** The seasonal estimate of each phase, indexed by time mod seasonLength. */
  seasonal: Float64Array;
  /** The running scale of one-step errors, which bounds how far one observation moves the state. */
  errorScale: number;
  /** The least error scale of this series: a noise-free series would otherwise clip every change to nothing. */
  minErrorScale: number;
}

/** A history in the space it is smoothed in, and the way back. */
interface Transformed {
  series: Float64Array;
  back: (value: number) => number;
}

/**
 * Additive Holt–Winters (triple exponential smoothing) with an optionally damped trend:
 *
 *   level  ℓt = α (yt − s(t−m)) + (1 − α)(ℓ(t−1) + φ b(t−1))
 *   trend  bt = β (ℓt − ℓ(t−1)) + (1 − β) φ b(t−1)
 *   season st = γ (yt − ℓt) + (1 − γ) s(t−m)
 *   ŷ(t+h) = ℓt + (φ + … + φ^h) bt + s(t+h−m⌈h/m⌉)
 *
 * Additive rather than multiplicative because load reaches zero at night for small services, where a
 * multiplicative season divides by zero. The level, trend and seasonal shape start from a straight line
 * through the means of the first two seasons, so a series that is exactly seasonal plus linear is tracked
 * with no error from the first step. Parameters not given are fitted to each history by minimising the
 * one-step-ahead squared error: a coarse grid, then a pattern search around the best grid point.
 */
export class HoltWintersForecaster implements Forecaster {
  readonly name = HOLT_WINTERS_NAME;
  readonly seasonLength: number;
  private readonly searches: Record<keyof SmoothingParameters, ParameterSearch>;
  private readonly transform: 'log' | 'none';
  /** The clip in error scales, Infinity when not robust. */
  private readonly clip: number;

  constructor(options: HoltWintersOptions) {
    checkSeasonLength(this.name, options.seasonLength);
    this.seasonLength = options.seasonLength;
    const unit: Bounds = { min: 0, max: 1 };
    this.searches = {
      alpha: { fixed: unitParameter('alpha', options.alpha), grid: ALPHA_GRID, bounds: unit },
      beta: { fixed: unitParameter('beta', options.beta), grid: BETA_GRID, bounds: unit },
      gamma: { fixed: unitParameter('gamma', options.gamma), grid: GAMMA_GRID, bounds: unit },
      phi: phiSearch(options.damped),
    };
    this.transform = options.transform ?? 'log';
    this.clip = options.robust === false ? Infinity : ROBUST_CLIP;
  }

  /** Observations a forecast needs: two whole seasons, to start the level, trend and seasonal shape from. */
  get minimumHistory(): number {
    return INITIAL_SEASONS * this.seasonLength;
  }

  async forecast(history: readonly number[], horizon: number): Promise<number[]> {
    checkForecastInput(this.name, history, horizon);
    const { series, back } = this.transformed(history);
    const start = initialState(series, this.seasonLength);
    const parameters = this.fit(series, start, this.scoredSteps(horizon));
    const state = copyState(start);
    if (smooth(series, parameters, state, this.clip, Infinity, lossHorizon(1, parameters.phi)) === Infinity) {
      // Only given (not fitted) parameters can get here: the fit keeps a set whose error is finite.
      throw new OpsbotError(
        ErrorCode.InvalidRequest,
        `${this.name}: the smoothing diverged on this history; leave alpha, beta and gamma out to fit them`,
      );
    }
    return extrapolate(state, series.length, parameters.phi, horizon).map((value) =>
      Math.max(0, back(value)),
    );
  }

  /**
   * The parameters a forecast of `horizon` steps from `history` uses: those given, the others fitted. To
   * explain a forecast.
   */
  smoothingParameters(history: readonly number[], horizon: number): SmoothingParameters {
    checkForecastInput(this.name, history, horizon);
    const { series } = this.transformed(history);
    return this.fit(series, initialState(series, this.seasonLength), this.scoredSteps(horizon));
  }

  /** How far ahead the fit scores forecasts: the horizon itself, up to a season (see `LossHorizon`). */
  private scoredSteps(horizon: number): number {
    return Math.min(Math.max(1, horizon), this.seasonLength);
  }

  private transformed(history: readonly number[]): Transformed {
    if (history.length < this.minimumHistory) {
      throw new InsufficientHistoryError(
        this.name,
        this.minimumHistory,
        history.length,
        `${INITIAL_SEASONS} seasons of ${this.seasonLength} steps`,
      );
    }
    if (this.transform === 'none') return { series: Float64Array.from(history), back: (value) => value };
    const negative = history.findIndex((value) => value < 0);
    if (negative >= 0) {
      throw new OpsbotError(
        ErrorCode.InvalidRequest,
        `${this.name}: observation ${negative} is ${history[negative]}; load is never negative ` +
          `(the log transform needs it so; use transform 'none' for a signed series)`,
      );
    }
    const mean = history.reduce((sum, value) => sum + value, 0) / history.length;
    // An all-zero history has no scale to take a share of; any offset then maps zeros to zeros.
    const offset = mean > 0 ? LOG_OFFSET_SHARE * mean : 1;
    return {
      series: Float64Array.from(history, (value) => Math.log(value + offset)),
      back: (value) => Math.exp(value) - offset,
    };
  }

  /**
   * The parameters given, with the others chosen to minimise the (robust) squared error of forecasts made
   * `steps` ahead on `series`.
   */
  private fit(series: Float64Array, start: SmoothingState, steps: number): SmoothingParameters {
    const names = Object.keys(this.searches) as (keyof SmoothingParameters)[];
    const free = names.filter((name) => this.searches[name].fixed === undefined);
    const base = Object.fromEntries(
      names.map((name) => [name, this.searches[name].fixed ?? (this.searches[name].grid[0] as number)]),
    ) as unknown as SmoothingParameters;
    if (free.length === 0) return base;

    let best = { ...base };
    let bestError = Infinity;
    // Every candidate restarts from the same initial state; each pass gives up once it is worse than the best.
    const scratch = copyState(start);
    let scoring = lossHorizon(steps, base.phi);
    const score = (candidate: SmoothingParameters): number => {
      resetState(scratch, start);
      if (candidate.phi !== scoring.phi) scoring = lossHorizon(steps, candidate.phi, scoring);
      return smooth(series, candidate, scratch, this.clip, bestError, scoring);
    };
    const tryCandidate = (candidate: SmoothingParameters): boolean => {
      const error = score(candidate);
      if (error < bestError) {
        bestError = error;
        best = candidate;
        return true;
      }
      return false;
    };

    for (const candidate of gridCandidates(base, free, this.searches)) tryCandidate(candidate);

    for (let step = FIRST_REFINE_STEP; step >= LAST_REFINE_STEP; step /= 2) {
      let moved = true;
      while (moved) {
        moved = false;
        for (const name of free) {
          const { bounds } = this.searches[name];
          for (const direction of [1, -1]) {
            const value = clamp(best[name] + direction * step, bounds);
            if (value !== best[name] && tryCandidate({ ...best, [name]: value })) moved = true;
          }
        }
      }
    }
    return best;
  }
}

function unitParameter(name: string, value: number | undefined): number | undefined {
  if (value !== undefined && !(value >= 0 && value <= 1)) {
    throw new OpsbotError(ErrorCode.ConfigInvalid, `holt-winters: ${name} must be in [0, 1], got ${value}`);
  }
  return value;
}

function phiSearch(damped: Damping | undefined): ParameterSearch {
  if (typeof damped === 'number') {
    if (!(damped > 0 && damped <= 1)) {
      throw new OpsbotError(
        ErrorCode.ConfigInvalid,
        `holt-winters: damped as a number is the damping φ, in (0, 1]; got ${damped}`,
      );
    }
    return { fixed: damped, grid: [], bounds: { min: damped, max: damped } };
  }
  if (damped === false) return { fixed: 1, grid: [], bounds: { min: 1, max: 1 } };
  if (damped === true) return { grid: PHI_GRID_DAMPED, bounds: { min: MIN_PHI, max: MAX_DAMPED_PHI } };
  return { grid: PHI_GRID_ANY, bounds: { min: MIN_PHI, max: 1 } };
}

/** Every combination of the free parameters' grid values, the fixed ones as given. */
function* gridCandidates(
  base: SmoothingParameters,
  free: readonly (keyof SmoothingParameters)[],
  searches: Record<keyof SmoothingParameters, ParameterSearch>,
): Generator<SmoothingParameters> {
  const [first, ...rest] = free;
  if (first === undefined) {
    yield base;
    return;
  }
  for (const value of searches[first].grid)
    yield* gridCandidates({ ...base, [first]: value }, rest, searches);
}

function clamp(value: number, { min, max }: Bounds): number {
  return Math.min(max, Math.max(min, value));
}

/**
 * The straight line through the means of the first two seasons gives the level just before the first
 * observation and the trend; the seasonal shape is each phase's average deviation from that line, centred
 * so it sums to zero (the level carries the mean, the season only the shape).
 */
function initialState(series: Float64Array, m: number): SmoothingState {
  let first = 0;
  let second = 0;
  for (let i = 0; i < m; i++) {
    first += series[i] as number;
    second += series[m + i] as number;
  }
  first /= m;
  second /= m;
  const trend = (second - first) / m;
  // The first season's mean is the line's value at its middle, (m − 1) / 2 steps after its start.
  const lineAt = (t: number) => first + trend * (t - (m - 1) / 2);
  const seasonal = new Float64Array(m);
  let total = 0;
  for (let i = 0; i < m; i++) {
    let deviation = 0;
    for (let season = 0; season < INITIAL_SEASONS; season++) {
      const t = season * m + i;
      deviation += (series[t] as number) - lineAt(t);
    }
    seasonal[i] = deviation / INITIAL_SEASONS;
    total += seasonal[i] as number;
  }
  for (let i = 0; i < m; i++) seasonal[i] = (seasonal[i] as number) - total / m;
  // The first error scale: how far the first seasons stray from the line and shape just fitted to them.
  let squaredResiduals = 0;
  let size = 0;
  for (let t = 0; t < INITIAL_SEASONS * m; t++) {
    const residual = (series[t] as number) - lineAt(t) - (seasonal[t % m] as number);
    squaredResiduals += residual * residual;
    size += Math.abs(series[t] as number);
  }
  const minErrorScale = MIN_ERROR_SCALE_SHARE * (1 + size / (INITIAL_SEASONS * m));
  const errorScale = Math.max(minErrorScale, Math.sqrt(squaredResiduals / (INITIAL_SEASONS * m)));
  return { level: lineAt(-1), trend, seasonal, errorScale, minErrorScale };
}

function copyState(state: SmoothingState): SmoothingState {
  return { ...state, seasonal: Float64Array.from(state.seasonal) };
}

function resetState(state: SmoothingState, from: SmoothingState): void {
  state.level = from.level;
  state.trend = from.trend;
  state.errorScale = from.errorScale;
  state.seasonal.set(from.seasonal);
}

/**
 * How a candidate's fit is scored: errors of forecasts made `horizon` steps ahead (1 is the classic
 * one-step-ahead fit), with a ring of the last `horizon` levels and trends to make them from.
 */
interface LossHorizon {
  horizon: number;
  phi: number;
  /** φ + φ² + … + φ^horizon, the trend's weight that far ahead. */
  trendWeight: number;
  levels: Float64Array;
  trends: Float64Array;
}

function lossHorizon(horizon: number, phi: number, rings?: LossHorizon): LossHorizon {
  let trendWeight = 0;
  for (let h = 1, power = phi; h <= horizon; h++, power *= phi) trendWeight += power;
  return {
    horizon,
    phi,
    trendWeight,
    levels: rings?.levels ?? new Float64Array(horizon),
    trends: rings?.trends ?? new Float64Array(horizon),
  };
}

/**
 * Runs the smoothing over the whole series, updating `state` in place, and returns the fit's loss: the sum
 * of squared errors of the forecasts made `scoring.horizon` steps before each observation. An observation
 * whose one-step error is beyond `clip` error scales moves the state only as far as the clip, and its error
 * counts in the loss as in Huber's (growing linearly, not quadratically). Gives up (returning Infinity)
 * once the loss passes `giveUpAbove`. The hot loop of the fit: plain numbers and typed arrays, no allocation.
 */
function smooth(
  series: Float64Array,
  { alpha, beta, gamma, phi }: SmoothingParameters,
  state: SmoothingState,
  clip: number,
  giveUpAbove: number,
  scoring: LossHorizon,
): number {
  const { seasonal, minErrorScale } = state;
  const m = seasonal.length;
  const { horizon, trendWeight, levels, trends } = scoring;
  let { level, trend, errorScale } = state;
  let loss = 0;
  for (let t = 0, phase = 0, slot = 0; t < series.length; t++) {
    const observed = series[t] as number;
    const season = seasonal[phase] as number;
    const dampedTrend = phi * trend;
    const expected = level + dampedTrend;
    const error = observed - expected - season;
    const bound = clip * errorScale;
    const clipped = error > bound ? bound : error < -bound ? -bound : error;
    if (t >= horizon) {
      // The forecast made `horizon` steps ago: that level and trend, and this phase's season, which no
      // observation since has touched while horizon ≤ m.
      const aheadError =
        horizon === 1
          ? error
          : observed - (levels[slot] as number) - trendWeight * (trends[slot] as number) - season;
      const size = Math.abs(aheadError);
      loss += size <= bound ? aheadError * aheadError : 2 * bound * size - bound * bound;
    }
    errorScale = Math.max(
      minErrorScale,
      Math.sqrt(
        (1 - ROBUST_SCALE_WEIGHT) * errorScale * errorScale + ROBUST_SCALE_WEIGHT * clipped * clipped,
      ),
    );
    // The observation as far as the state believes it: the forecast plus the clipped error.
    const believed = expected + season + clipped;
    const nextLevel = alpha * (believed - season) + (1 - alpha) * expected;
    trend = beta * (nextLevel - level) + (1 - beta) * dampedTrend;
    level = nextLevel;
    seasonal[phase] = gamma * (believed - level) + (1 - gamma) * season;
    levels[slot] = level;
    trends[slot] = trend;
    if (++slot === horizon) slot = 0;
    if (++phase === m) {
      phase = 0;
      // Checked once a season: often enough to stop a hopeless candidate early, rare enough to cost nothing.
      if (!(loss <= giveUpAbove)) return Infinity;
    }
  }
  state.level = level;
  state.trend = trend;
  state.errorScale = errorScale;
  return loss <= giveUpAbove ? loss : Infinity;
}

/** The forecast from the state after observation `observed − 1`, in the space the series was smoothed in. */
function extrapolate(
  { level, trend, seasonal }: SmoothingState,
  observed: number,
  phi: number,
  horizon: number,
): number[] {
  const m = seasonal.length;
  const forecast = new Array<number>(horizon);
  let trendSum = 0;
  let phiPower = 1;
  for (let h = 1; h <= horizon; h++) {
    phiPower *= phi;
    trendSum += phiPower;
    forecast[h - 1] = level + trendSum * trend + (seasonal[(observed + h - 1) % m] as number);
  }
  return forecast;
}
