import { createHash } from 'node:crypto';
import { onnx } from 'onnx-proto';
import { ErrorCode } from '../../../bot/core/errors';
import { seededRandom } from '../../../bot/core/seeded-random';
import { PredictorError, type ClassificationMetadata } from '../../predictors/model-metadata';
import { tensorValue } from '../../predictors/onnx-graph';

/** Bumped when the saga model's features, the training or the graph change meaning. */
export const FAILURE_MODEL_VERSION = '1.0.0';

/**
 * Which failure model a graph and its card describe. The graph and the training are the same for every
 * failure model; what differs is what a row is (a run, a service at an instant) and so the features.
 */
export interface FailureModelIdentity {
  name: string;
  /** Bumped when the features, the training or the graph change meaning. */
  version: string;
  /** The script that trains it, recorded as the graph's producer: "opsbot train:saga". */
  producer: string;
}

/** The orchestrator's model of whether a saga or runbook run fails (models/saga-failure.onnx). */
export const SAGA_FAILURE_MODEL: FailureModelIdentity = {
  name: 'saga-failure',
  version: FAILURE_MODEL_VERSION,
  producer: 'opsbot train:saga',
};
const FAILURE_MODEL_INPUT = 'features';
const FAILURE_MODEL_OUTPUT = 'probabilities';
/** Column order of the probabilities output. */
const FAILURE_MODEL_LABELS = ['ok', 'fail'] as const;

/** One finished run as training sees it: its features (in the model's order) and whether it failed. */
export interface TrainingRow {
  features: readonly number[];
  failed: boolean;
}

/**
 * Logistic regression on standardised features: P(fail) = σ(intercept + Σ coefficients[i] · (x[i] − mean[i]) /
 * scale[i]). Coefficients are per standard deviation, so their sizes compare and coefficient × standardised
 * value says how much a feature pushed one run's score (in log-odds).
 */
export interface FailureModel {
  features: readonly string[];
  mean: number[];
  scale: number[];
  coefficients: number[];
  intercept: number;
}

export interface LogisticTraining {
  /** L2 penalty on the coefficients (not the intercept), in units of the summed log-loss. */
  l2: number;
  maxIterations: number;
  /** Stops once no parameter moves more than this in an iteration. */
  tolerance: number;
}

export const DEFAULT_LOGISTIC_TRAINING: LogisticTraining = { l2: 1, maxIterations: 50, tolerance: 1e-7 };

/** A feature with less spread than this is constant in the data: it is left unscaled (and gets no weight). */
const MIN_SCALE = 1e-9;

/**
 * Fits the model by iteratively reweighted least squares (Newton's method on the penalised log-likelihood):
 * deterministic, no learning rate to tune, and a dozen iterations for a few features whatever the row count.
 */
export function trainFailureModel(
  rows: readonly TrainingRow[],
  features: readonly string[],
  training: LogisticTraining = DEFAULT_LOGISTIC_TRAINING,
): FailureModel {
  const width = features.length;
  if (rows.length === 0) throw new PredictorError(ErrorCode.InvalidRequest, 'no rows to train on');
  const bad = rows.find((row) => row.features.length !== width || !row.features.every(Number.isFinite));
  if (bad) {
    throw new PredictorError(
      ErrorCode.InvalidRequest,
      `every training row needs ${width} finite features (${features.join(', ')}): got [${bad.features.join(', ')}]`,
    );
  }
  const { mean, scale } = standardisation(rows, width);
  // Column 0 is the intercept's constant 1; then the standardised features.
  const dims = width + 1;
  const x = rows.map((row) => [
    1,
    ...row.features.map((v, i) => (v - (mean[i] as number)) / (scale[i] as number)),
  ]);
  const y = rows.map((row) => (row.failed ? 1 : 0));
  const beta = new Array<number>(dims).fill(0);
  for (let iteration = 0; iteration < training.maxIterations; iteration++) {
    const gradient = new Array<number>(dims).fill(0);
    const hessian = Array.from({ length: dims }, () => new Array<number>(dims).fill(0));
    x.forEach((xi, r) => {
      const p = sigmoid(dot(beta, xi));
      const weight = Math.max(p * (1 - p), 1e-12);
      const residual = (y[r] as number) - p;
      for (let a = 0; a < dims; a++) {
        gradient[a] = (gradient[a] as number) + residual * (xi[a] as number);
        const row = hessian[a] as number[];
        for (let b = 0; b <= a; b++)
          row[b] = (row[b] as number) + weight * (xi[a] as number) * (xi[b] as number);
      }
    });
    for (let a = 0; a < dims; a++) {
      for (let b = 0; b < a; b++) (hessian[b] as number[])[a] = (hessian[a] as number[])[b] as number;
      if (a > 0) {
        gradient[a] = (gradient[a] as number) - training.l2 * (beta[a] as number);
        (hessian[a] as number[])[a] = ((hessian[a] as number[])[a] as number) + training.l2;
      }
    }
    const step = solveSymmetric(hessian, gradient);
    let largest = 0;
    step.forEach((delta, i) => {
      beta[i] = (beta[i] as number) + delta;
      largest = Math.max(largest, Math.abs(delta));
    });
    if (largest < training.tolerance) break;
  }
  return { features: [...features], mean, scale, coefficients: beta.slice(1), intercept: beta[0] as number };
}

/** P(fail) for one row of features in the model's order. */
export function failureProbability(model: FailureModel, row: ArrayLike<number>): number {
  let logit = model.intercept;
  for (let i = 0; i < model.coefficients.length; i++) {
    logit += (model.coefficients[i] as number) * standardised(model, row, i);
  }
  return sigmoid(logit);
}

/** How much each feature moved this row's log-odds of failing, relative to the average run of the training data. */
export function featureContributions(model: FailureModel, row: ArrayLike<number>): number[] {
  return model.coefficients.map((coefficient, i) => coefficient * standardised(model, row, i));
}

function standardised(model: FailureModel, row: ArrayLike<number>, i: number): number {
  return ((row[i] as number) - (model.mean[i] as number)) / (model.scale[i] as number);
}

const { FLOAT } = onnx.TensorProto.DataType;
const INITIALIZERS = { mean: 'mean', scale: 'scale', weights: 'W', bias: 'b' } as const;

/**
 * The model as ONNX (opset 13, default domain only): features [batch, F] → (x − mean) / scale → MatMul W →
 * Add b → Sigmoid → probabilities [batch, 2]. W's columns are (−coefficients, coefficients) and b is
 * (−intercept, intercept), so the sigmoid of each column is P(ok) = σ(−z) and P(fail) = σ(z), which sum to 1.
 */
export function exportFailureModel(
  model: FailureModel,
  identity: FailureModelIdentity = SAGA_FAILURE_MODEL,
): Uint8Array {
  const width = model.features.length;
  const columns = model.coefficients.flatMap((c) => [-c, c]);
  const proto: onnx.IModelProto = {
    irVersion: 7,
    opsetImport: [{ domain: '', version: 13 }],
    producerName: identity.producer,
    producerVersion: identity.version,
    graph: {
      name: identity.name,
      input: [tensorValue(FAILURE_MODEL_INPUT, FLOAT, ['batch', width])],
      output: [tensorValue(FAILURE_MODEL_OUTPUT, FLOAT, ['batch', FAILURE_MODEL_LABELS.length])],
      initializer: [
        { name: INITIALIZERS.mean, dataType: FLOAT, dims: [width], floatData: model.mean },
        { name: INITIALIZERS.scale, dataType: FLOAT, dims: [width], floatData: model.scale },
        { name: INITIALIZERS.weights, dataType: FLOAT, dims: [width, 2], floatData: columns },
        {
          name: INITIALIZERS.bias,
          dataType: FLOAT,
          dims: [2],
          floatData: [-model.intercept, model.intercept],
        },
      ],
      node: [
        { opType: 'Sub', input: [FAILURE_MODEL_INPUT, INITIALIZERS.mean], output: ['centred'] },
        { opType: 'Div', input: ['centred', INITIALIZERS.scale], output: ['standardised'] },
        { opType: 'MatMul', input: ['standardised', INITIALIZERS.weights], output: ['logits_unbiased'] },
        { opType: 'Add', input: ['logits_unbiased', INITIALIZERS.bias], output: ['logits'] },
        { opType: 'Sigmoid', input: ['logits'], output: [FAILURE_MODEL_OUTPUT] },
      ],
    },
  };
  return onnx.ModelProto.encode(proto).finish();
}

/**
 * The model's parameters back from an exported graph, so the assessor explains the very model it runs.
 * `features` names the columns (the metadata's list); `file` only names the source in errors.
 */
export function importFailureModel(
  bytes: Uint8Array,
  features: readonly string[],
  file: string,
): FailureModel {
  let initializers: onnx.ITensorProto[];
  try {
    initializers = onnx.ModelProto.decode(bytes).graph?.initializer ?? [];
  } catch (err) {
    throw new PredictorError(
      ErrorCode.ConfigInvalid,
      `${file} is not an ONNX model: ${(err as Error).message}`,
      {
        file,
      },
    );
  }
  const values = (name: string, length: number): number[] => {
    const tensor = initializers.find((t) => t.name === name);
    const data = tensor ? floatsOf(tensor) : [];
    if (data.length !== length) {
      throw new PredictorError(
        ErrorCode.ConfigInvalid,
        `${file} is not a failure model for ${features.length} features: initializer "${name}" should hold ${length} floats, has ${data.length}`,
        { file },
      );
    }
    return data;
  };
  const width = features.length;
  const columns = values(INITIALIZERS.weights, width * 2);
  return {
    features: [...features],
    mean: values(INITIALIZERS.mean, width),
    scale: values(INITIALIZERS.scale, width),
    coefficients: features.map((_, i) => columns[2 * i + 1] as number),
    intercept: values(INITIALIZERS.bias, 2)[1] as number,
  };
}

function floatsOf(tensor: onnx.ITensorProto): number[] {
  if (tensor.floatData && tensor.floatData.length > 0) return [...tensor.floatData];
  const raw = tensor.rawData;
  if (!raw || raw.length % 4 !== 0) return [];
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  return Array.from({ length: raw.length / 4 }, (_, i) => view.getFloat32(i * 4, true));
}

export interface FailureModelCard {
  metrics: Record<string, number>;
  trainedAt: string;
  dataHash: string;
  description: string;
}

/** The metadata the predictor runtime reads beside the .onnx file; it doubles as the model card. */
export function failureModelMetadata(
  model: FailureModel,
  card: FailureModelCard,
  identity: FailureModelIdentity = SAGA_FAILURE_MODEL,
): ClassificationMetadata {
  return {
    name: identity.name,
    version: identity.version,
    task: 'classification',
    input: { name: FAILURE_MODEL_INPUT, features: [...model.features] },
    outputs: { probabilities: FAILURE_MODEL_OUTPUT },
    labels: [...FAILURE_MODEL_LABELS],
    ...card,
  };
}

/**
 * Area under the ROC curve: the chance that a failed run scores above a run that succeeded, ties counting
 * half (the Mann–Whitney statistic from average ranks). NaN when either class is missing.
 */
export function rocAuc(scores: readonly number[], failed: readonly boolean[]): number {
  if (scores.length !== failed.length) throw new RangeError('rocAuc needs one label per score');
  const order = scores.map((_, i) => i).sort((a, b) => (scores[a] as number) - (scores[b] as number));
  let positives = 0;
  let positiveRankSum = 0;
  for (let start = 0; start < order.length;) {
    let end = start;
    while (end + 1 < order.length && scores[order[end + 1] as number] === scores[order[start] as number])
      end++;
    // Ranks start at 1; tied scores share the mean of the ranks they span.
    const rank = (start + end) / 2 + 1;
    for (let k = start; k <= end; k++) {
      if (failed[order[k] as number]) {
        positives += 1;
        positiveRankSum += rank;
      }
    }
    start = end + 1;
  }
  const negatives = scores.length - positives;
  if (positives === 0 || negatives === 0) return NaN;
  return (positiveRankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/** Precision and recall of "fails" when a score at or above `threshold` predicts failure; NaN for an empty ratio. */
export function precisionRecall(
  scores: readonly number[],
  failed: readonly boolean[],
  threshold: number,
): { precision: number; recall: number } {
  let truePositives = 0;
  let predicted = 0;
  let actual = 0;
  scores.forEach((score, i) => {
    const flagged = score >= threshold;
    if (flagged) predicted += 1;
    if (failed[i]) actual += 1;
    if (flagged && failed[i]) truePositives += 1;
  });
  return { precision: truePositives / predicted, recall: truePositives / actual };
}

/** How a model scores held-out rows; precision and recall are of "fails" at the threshold it was asked about. */
export interface FailureModelEvaluation {
  count: number;
  auc: number;
  /** The failed share of the rows: the base rate precision compares with. */
  failureRate: number;
  precision: number;
  recall: number;
}

export function evaluateFailureModel(
  model: FailureModel,
  rows: readonly TrainingRow[],
  threshold: number,
): FailureModelEvaluation {
  const scores = rows.map((row) => failureProbability(model, row.features));
  const failed = rows.map((row) => row.failed);
  return {
    count: rows.length,
    auc: rocAuc(scores, failed),
    failureRate: failed.filter(Boolean).length / rows.length,
    ...precisionRecall(scores, failed, threshold),
  };
}

/** A seeded shuffle, then the last `share` of it: the same seed holds out the same items. */
export function holdOut<T>(items: readonly T[], share: number, seed: number): { train: T[]; test: T[] } {
  const random = seededRandom(seed);
  const shuffled = [...items];
  for (let i = shuffled.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [shuffled[i], shuffled[j]] = [shuffled[j] as T, shuffled[i] as T];
  }
  const cut = Math.round(shuffled.length * (1 - share));
  return { train: shuffled.slice(0, cut), test: shuffled.slice(cut) };
}

/** The largest coefficients by size, signed, as a training script prints them: "restarts_1h +1.20, …". */
export function strongestSignals(model: FailureModel, count = 5): string {
  return model.coefficients
    .map((coefficient, i) => ({ coefficient, feature: model.features[i] }))
    .sort((a, b) => Math.abs(b.coefficient) - Math.abs(a.coefficient))
    .slice(0, count)
    .map(({ coefficient, feature }) => `${feature} ${coefficient >= 0 ? '+' : ''}${coefficient.toFixed(2)}`)
    .join(', ');
}

/** With a model version's features and training, the rows and the seed determine the weights. */
export function trainingDataHash(
  version: string,
  features: readonly string[],
  seed: number,
  rows: readonly TrainingRow[],
  training: LogisticTraining = DEFAULT_LOGISTIC_TRAINING,
): string {
  const hash = createHash('sha256').update(version).update(JSON.stringify({ features, training, seed }));
  for (const row of rows) hash.update(`${row.features.join(',')}:${row.failed ? 1 : 0}\n`);
  return hash.digest('hex');
}

function standardisation(rows: readonly TrainingRow[], width: number): { mean: number[]; scale: number[] } {
  const mean = new Array<number>(width).fill(0);
  for (const row of rows) row.features.forEach((v, i) => (mean[i] = (mean[i] as number) + v / rows.length));
  const variance = new Array<number>(width).fill(0);
  for (const row of rows) {
    row.features.forEach(
      (v, i) => (variance[i] = (variance[i] as number) + (v - (mean[i] as number)) ** 2 / rows.length),
    );
  }
  return { mean, scale: variance.map((v) => (Math.sqrt(v) > MIN_SCALE ? Math.sqrt(v) : 1)) };
}

function sigmoid(z: number): number {
  return 1 / (1 + Math.exp(-z));
}

function dot(a: readonly number[], b: readonly number[]): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += (a[i] as number) * (b[i] as number);
  return sum;
}

/**
 * Solves H · s = g for a symmetric positive definite H by Cholesky decomposition. The L2 term keeps H
 * positive definite; the intercept's diagonal is a sum of positive weights.
 */
function solveSymmetric(h: readonly number[][], g: readonly number[]): number[] {
  const n = g.length;
  const l = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = (h[i] as number[])[j] as number;
      for (let k = 0; k < j; k++)
        sum -= ((l[i] as number[])[k] as number) * ((l[j] as number[])[k] as number);
      if (i === j) (l[i] as number[])[i] = Math.sqrt(Math.max(sum, 1e-12));
      else (l[i] as number[])[j] = sum / ((l[j] as number[])[j] as number);
    }
  }
  const z = new Array<number>(n).fill(0);
  for (let i = 0; i < n; i++) {
    let sum = g[i] as number;
    for (let k = 0; k < i; k++) sum -= ((l[i] as number[])[k] as number) * (z[k] as number);
    z[i] = sum / ((l[i] as number[])[i] as number);
  }
  const s = new Array<number>(n).fill(0);
  for (let i = n - 1; i >= 0; i--) {
    let sum = z[i] as number;
    for (let k = i + 1; k < n; k++) sum -= ((l[k] as number[])[i] as number) * (s[k] as number);
    s[i] = sum / ((l[i] as number[])[i] as number);
  }
  return s;
}
