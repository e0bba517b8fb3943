import { onnx } from 'onnx-proto';
import { ErrorCode } from '../../../bot/core/errors';
import { PredictorError, type RegressionMetadata } from '../../predictors/model-metadata';
import { tensorValue } from '../../predictors/onnx-graph';

/**
 * The load-forecast model: a linear model on level-normalised values, direct rather than recursive. To
 * predict the value h steps after the last observation it reads the values around the same time one and
 * two seasons before the target, how the last hour compares with the same hour a season ago, and h; each
 * value is divided by the recent level (the mean of the last season) and so is the prediction. Dividing by
 * the level makes the model scale-free: one set of weights serves a service at 2 requests/s and one at
 * 20,000, and a service whose traffic doubles, without retraining.
 *
 * Direct because a recursive one-step model, trained on one-step error, learns that the next step is mostly
 * the last one (load is smooth step to step, bursts last a few steps) and then carries that momentum
 * through the whole horizon, flattening the daily shape; a direct model is trained on the horizons it
 * serves. All steps of a season are one batch through the runtime; beyond a season the forecast of the
 * season before stands in for observations, a season at a time.
 */

export const LOAD_FORECAST_MODEL_NAME = 'load-forecast';
/** Major: the features or the graph changed meaning (an older model is refused). Minor: training changed. */
export const LOAD_FORECAST_MODEL_VERSION = '1.0.0';
const LOAD_FORECAST_INPUT = 'features';
const LOAD_FORECAST_OUTPUT = 'value_over_level';

/** Steps averaged into "recent": a short window, so noise in the last value does not swing the forecast. */
const RECENT_STEPS = 4;

/**
 * The model's inputs, in order, for the target t = last observation + h and season length m: "recent" is
 * the mean of the last RECENT_STEPS observations, "recent[-m]" the same window a season earlier, the
 * momentum term their difference fading as 1/h (a deviation that is news now matters less hours ahead);
 * "growth" is how the last eighth of a season compares with the same stretch one season earlier
 * ("growth2": two), so the season-ago values can be scaled to today's traffic, which a linear model of the
 * plain values cannot do.
 */
export const LOAD_FORECAST_FEATURES: readonly string[] = [
  'y[t-m]/level',
  'y[t-m-1]/level',
  'y[t-m+1]/level',
  'y[t-2m]/level',
  'y[last]/level',
  'recent/level',
  'recent[-m]/level',
  '(recent-recent[-m])/level/h',
  'h/m',
  'y[t-m]/level*growth',
  'y[t-2m]/level*growth2',
];

/** The growth features compare this share of a season (three hours of a day) with the same a season earlier. */
const GROWTH_WINDOW_SHARE = 1 / 8;
/** Growth ratios are clipped to [1/4, 4]: beyond that the "season before" is an outage or a launch, not a guide. */
const MAX_GROWTH = 4;

/** How far back the model reads, in seasons: a forecast needs this many seasons of history. */
export const LOAD_FORECAST_SEASONS = 2;

/** The observations a forecast needs: two seasons (and a recent window a season back, for tiny seasons). */
export function minimumHistory(seasonLength: number): number {
  return (
    LOAD_FORECAST_SEASONS * seasonLength +
    Math.max(RECENT_STEPS, Math.round(seasonLength * GROWTH_WINDOW_SHARE))
  );
}

/** value / level = intercept + Σ coefficients[i] · feature[i]. */
export interface AutoregressiveModel {
  coefficients: number[];
  intercept: number;
}

/**
 * The recent level: the mean size of the season up to `observed`. It is zero only for a series that has
 * been zero all season; then the mean over everything the features read stands in, and when that is zero
 * too there is nothing to scale and the forecast is zero.
 */
function levelAt(series: ArrayLike<number>, observed: number, seasonLength: number): number {
  const meanAbs = (from: number) => {
    let sum = 0;
    for (let i = from; i < observed; i++) sum += Math.abs(series[i] as number);
    return sum / (observed - from);
  };
  const recent = meanAbs(observed - seasonLength);
  return recent > 0 ? recent : meanAbs(observed - minimumHistory(seasonLength));
}

function meanOf(series: ArrayLike<number>, from: number, to: number): number {
  let sum = 0;
  for (let i = from; i < to; i++) sum += series[i] as number;
  return sum / (to - from);
}

/**
 * Writes the features for the value `h` steps (1 ≤ h ≤ m) after the first `observed` values of `series`
 * into `rows` at row `at`, divided by `level`.
 */
function writeFeatures(
  series: ArrayLike<number>,
  observed: number,
  h: number,
  seasonLength: number,
  level: number,
  rows: Float32Array | Float64Array,
  at: number,
): void {
  const m = seasonLength;
  const last = observed - 1;
  const target = last + h;
  const y = (i: number) => (series[i] as number) / level;
  const recent = meanOf(series, observed - RECENT_STEPS, observed) / level;
  const recentSeasonAgo = meanOf(series, observed - m - RECENT_STEPS, observed - m) / level;
  // How the last part of a season compares with the same part one and two seasons earlier.
  const window = Math.max(RECENT_STEPS, Math.round(m * GROWTH_WINDOW_SHARE));
  const lastPart = meanOf(series, observed - window, observed);
  const ratio = (earlier: number) => {
    const before = meanOf(series, observed - earlier - window, observed - earlier);
    return before > 0 ? Math.min(MAX_GROWTH, Math.max(1 / MAX_GROWTH, lastPart / before)) : 1;
  };
  const values = [
    y(target - m),
    y(target - m - 1),
    // A season ahead, the step after the target a season ago is not observed yet: the last value stands in.
    y(Math.min(target - m + 1, last)),
    y(target - 2 * m),
    y(last),
    recent,
    recentSeasonAgo,
    (recent - recentSeasonAgo) / h,
    h / m,
    y(target - m) * ratio(m),
    y(target - 2 * m) * ratio(2 * m),
  ];
  rows.set(values, at * values.length);
}

/** Predicts value/level for `count` rows of features: the ONNX model, or the weights directly in training. */
export type NormalisedPredictor = (rows: Float32Array, count: number) => Promise<ArrayLike<number>>;

/**
 * The `horizon` steps after `history`: a season's steps at a time, each season one batch, the forecast of
 * one season standing in for observations in the next; clamped at zero, as load cannot be negative. The
 * caller has checked the history is long enough.
 */
export async function forecastDirect(
  history: readonly number[],
  horizon: number,
  seasonLength: number,
  predict: NormalisedPredictor,
): Promise<number[]> {
  const series = history.slice(-minimumHistory(seasonLength));
  const width = LOAD_FORECAST_FEATURES.length;
  const forecast: number[] = [];
  while (forecast.length < horizon) {
    const steps = Math.min(seasonLength, horizon - forecast.length);
    const level = levelAt(series, series.length, seasonLength);
    let values: number[];
    if (level > 0) {
      const rows = new Float32Array(steps * width);
      for (let h = 1; h <= steps; h++)
        writeFeatures(series, series.length, h, seasonLength, level, rows, h - 1);
      const predicted = await predict(rows, steps);
      values = Array.from({ length: steps }, (_, i) => Math.max(0, (predicted[i] as number) * level));
    } else {
      values = new Array<number>(steps).fill(0);
    }
    series.push(...values);
    forecast.push(...values);
  }
  return forecast;
}

/** The model's prediction computed here, in double precision: for training and evaluation before export. */
export function predictNormalised(model: AutoregressiveModel, row: ArrayLike<number>, at = 0): number {
  const width = model.coefficients.length;
  let value = model.intercept;
  for (let i = 0; i < width; i++)
    value += (model.coefficients[i] as number) * (row[at * width + i] as number);
  return value;
}

export interface AutoregressiveTraining {
  /** Ridge penalty per training row: keeps nearly collinear lags (neighbouring steps) from cancelling out. */
  l2PerRow: number;
  /** Residuals beyond this many robust standard deviations weigh as Huber's loss weighs them (linearly). */
  huberK: number;
  /** Reweighting rounds of the Huber fit; the first is ordinary least squares. */
  rounds: number;
  /** Every this many steps of each series is a forecast origin (neighbouring origins teach the same). */
  originStride: number;
}

export const DEFAULT_AUTOREGRESSIVE_TRAINING: AutoregressiveTraining = {
  l2PerRow: 1e-3,
  huberK: 1.345,
  rounds: 6,
  originStride: 3,
};

/** The median absolute deviation of a normal distribution, in standard deviations. */
const MAD_PER_SD = 0.6745;

/**
 * Robust least squares of value/level on the features, from every few steps of every series that has two
 * seasons behind it, at the horizons `trainingHorizons` lists (ridge-penalised, intercept free):
 * iteratively reweighted, each round solved exactly from the normal equations, so deterministic. Robust
 * because bursts are unforeseeable: under squared error they dominate the fit and teach the model that
 * whatever the last hour did continues.
 */
export function trainAutoregressiveModel(
  series: readonly { values: readonly number[]; seasonLength: number }[],
  training: AutoregressiveTraining = DEFAULT_AUTOREGRESSIVE_TRAINING,
): { model: AutoregressiveModel; rows: number } {
  const width = LOAD_FORECAST_FEATURES.length;
  const examples: { values: readonly number[]; seasonLength: number; observed: number; h: number }[] = [];
  for (const { values, seasonLength } of series) {
    const horizons = trainingHorizons(seasonLength);
    for (
      let observed = minimumHistory(seasonLength);
      observed < values.length;
      observed += training.originStride
    ) {
      for (const h of horizons) {
        if (observed - 1 + h < values.length) examples.push({ values, seasonLength, observed, h });
      }
    }
  }
  const features = new Float64Array(examples.length * width);
  const targets = new Float64Array(examples.length);
  let rows = 0;
  for (const { values, seasonLength, observed, h } of examples) {
    const level = levelAt(values, observed, seasonLength);
    if (level === 0) continue;
    writeFeatures(values, observed, h, seasonLength, level, features, rows);
    targets[rows] = (values[observed - 1 + h] as number) / level;
    rows++;
  }
  if (rows === 0) {
    throw new PredictorError(
      ErrorCode.InvalidRequest,
      `no series is long enough to train on: each needs more than ${LOAD_FORECAST_SEASONS} seasons`,
    );
  }
  const weights = new Float64Array(rows).fill(1);
  const residuals = new Float64Array(rows);
  let model: AutoregressiveModel = { intercept: 0, coefficients: new Array<number>(width).fill(0) };
  for (let round = 0; round < training.rounds; round++) {
    model = weightedRidge(features, targets.subarray(0, rows), weights, training.l2PerRow);
    for (let r = 0; r < rows; r++)
      residuals[r] = (targets[r] as number) - predictNormalised(model, features, r);
    const bound = (training.huberK * median(residuals.map(Math.abs))) / MAD_PER_SD;
    for (let r = 0; r < rows; r++) {
      const size = Math.abs(residuals[r] as number);
      weights[r] = size <= bound ? 1 : bound / size;
    }
  }
  return { model, rows };
}

/**
 * The horizons trained on: 1, 2, 3, 4, 6, 8, 12, 16, … up to a season, denser where the scaler looks (the
 * next minutes) and sparser hours ahead, where neighbouring horizons teach the same thing.
 */
function trainingHorizons(seasonLength: number): number[] {
  const horizons: number[] = [];
  for (let power = 1; power <= seasonLength; power *= 2) {
    horizons.push(power);
    if (power >= 2 && power * 1.5 <= seasonLength) horizons.push(power * 1.5);
  }
  return horizons;
}

/** Weighted ridge regression with a free intercept, from the normal equations. */
function weightedRidge(
  features: Float64Array,
  targets: Float64Array,
  weights: Float64Array,
  l2PerRow: number,
): AutoregressiveModel {
  const width = LOAD_FORECAST_FEATURES.length;
  const dims = width + 1;
  const gram = Array.from({ length: dims }, () => new Array<number>(dims).fill(0));
  const moment = new Array<number>(dims).fill(0);
  // Column 0 is the intercept's constant 1.
  const x = new Array<number>(dims).fill(1);
  targets.forEach((y, r) => {
    const w = weights[r] as number;
    for (let i = 0; i < width; i++) x[i + 1] = features[r * width + i] as number;
    for (let a = 0; a < dims; a++) {
      const wxa = w * (x[a] as number);
      moment[a] = (moment[a] as number) + wxa * y;
      const gramRow = gram[a] as number[];
      for (let b = 0; b <= a; b++) gramRow[b] = (gramRow[b] as number) + wxa * (x[b] as number);
    }
  });
  for (let a = 0; a < dims; a++) {
    for (let b = 0; b < a; b++) (gram[b] as number[])[a] = (gram[a] as number[])[b] as number;
    // The intercept is not penalised.
    if (a > 0) (gram[a] as number[])[a] = ((gram[a] as number[])[a] as number) + l2PerRow * targets.length;
  }
  const beta = solveSymmetric(gram, moment);
  return { intercept: beta[0] as number, coefficients: beta.slice(1) };
}

function median(values: Float64Array): number {
  const sorted = values.slice().sort();
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/** Solves A · x = b for a symmetric positive definite A (Cholesky); the ridge term keeps A definite. */
function solveSymmetric(a: readonly number[][], b: readonly number[]): number[] {
  const n = b.length;
  const l = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  const at = (m: number[][], i: number, j: number) => (m[i] as number[])[j] as number;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = at(a as number[][], i, j);
      for (let k = 0; k < j; k++) sum -= at(l, i, k) * at(l, j, k);
      (l[i] as number[])[j] = i === j ? Math.sqrt(Math.max(sum, Number.MIN_VALUE)) : sum / at(l, j, j);
    }
  }
  const z = new Array<number>(n).fill(0);
  for (let i = 0; i < n; i++) {
    let sum = b[i] as number;
    for (let k = 0; k < i; k++) sum -= at(l, i, k) * (z[k] as number);
    z[i] = sum / at(l, i, i);
  }
  const x = new Array<number>(n).fill(0);
  for (let i = n - 1; i >= 0; i--) {
    let sum = z[i] as number;
    for (let k = i + 1; k < n; k++) sum -= at(l, k, i) * (x[k] as number);
    x[i] = sum / at(l, i, i);
  }
  return x;
}

const { FLOAT } = onnx.TensorProto.DataType;

/** features [batch, F] → MatMul W [F, 1] → Add b → value_over_level [batch, 1] (opset 13, default domain). */
export function exportAutoregressiveModel(model: AutoregressiveModel): Uint8Array {
  const width = LOAD_FORECAST_FEATURES.length;
  const proto: onnx.IModelProto = {
    irVersion: 7,
    opsetImport: [{ domain: '', version: 13 }],
    producerName: 'opsbot train:forecast',
    producerVersion: LOAD_FORECAST_MODEL_VERSION,
    graph: {
      name: LOAD_FORECAST_MODEL_NAME,
      input: [tensorValue(LOAD_FORECAST_INPUT, FLOAT, ['batch', width])],
      output: [tensorValue(LOAD_FORECAST_OUTPUT, FLOAT, ['batch', 1])],
      initializer: [
        { name: 'W', dataType: FLOAT, dims: [width, 1], floatData: model.coefficients },
        { name: 'b', dataType: FLOAT, dims: [1], floatData: [model.intercept] },
      ],
      node: [
        { opType: 'MatMul', input: [LOAD_FORECAST_INPUT, 'W'], output: ['weighted'] },
        { opType: 'Add', input: ['weighted', 'b'], output: [LOAD_FORECAST_OUTPUT] },
      ],
    },
  };
  return onnx.ModelProto.encode(proto).finish();
}

export interface LoadForecastCard {
  metrics: Record<string, number>;
  dataHash: string;
  description: string;
}

/** What the predictor runtime reads beside models/load-forecast.onnx; it doubles as the model card. */
export function loadForecastMetadata(card: LoadForecastCard): RegressionMetadata {
  return {
    name: LOAD_FORECAST_MODEL_NAME,
    version: LOAD_FORECAST_MODEL_VERSION,
    task: 'regression',
    input: { name: LOAD_FORECAST_INPUT, features: [...LOAD_FORECAST_FEATURES] },
    outputs: { value: LOAD_FORECAST_OUTPUT },
    ...card,
  };
}
