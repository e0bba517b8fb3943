/**
 * Multinomial logistic regression on sentence embeddings: the intent classifier's head. Small enough to train
 * in TypeScript in seconds, exact to export to ONNX (MatMul, Add, Softmax), and deterministic: full-batch
 * Adam from zero weights, so the same data and options always give the same model.
 */
export interface SoftmaxModel {
  dimensions: number;
  classes: readonly string[];
  /** dimensions × classes, row-major: weights[d * classes.length + c]. */
  weights: Float32Array;
  bias: Float32Array;
}

export interface TrainingOptions {
  epochs: number;
  learningRate: number;
  /** L2 penalty on the weights (not the bias): keeps a 512-dimension model from memorising 1,000 lines. */
  l2: number;
}

export const DEFAULT_TRAINING: TrainingOptions = { epochs: 400, learningRate: 0.05, l2: 1e-4 };

const ADAM_BETA1 = 0.9;
const ADAM_BETA2 = 0.999;
const ADAM_EPSILON = 1e-8;

export function trainSoftmaxRegression(
  rows: readonly Float32Array[],
  labels: readonly number[],
  classes: readonly string[],
  options: TrainingOptions = DEFAULT_TRAINING,
): SoftmaxModel {
  if (rows.length === 0 || rows.length !== labels.length) {
    throw new Error('training needs as many labels as rows, and at least one of each');
  }
  const dimensions = (rows[0] as Float32Array).length;
  const k = classes.length;
  // Float64 while training: thousands of small Adam steps lose precision in float32.
  const weights = new Float64Array(dimensions * k);
  const bias = new Float64Array(k);
  const moments = { mw: new Float64Array(weights.length), vw: new Float64Array(weights.length) };
  const biasMoments = { m: new Float64Array(k), v: new Float64Array(k) };
  const gradW = new Float64Array(weights.length);
  const gradB = new Float64Array(k);
  const probabilities = new Float64Array(k);

  for (let epoch = 1; epoch <= options.epochs; epoch++) {
    gradW.fill(0);
    gradB.fill(0);
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i] as Float32Array;
      softmaxInto(probabilities, row, weights, bias, dimensions, k);
      const label = labels[i] as number;
      probabilities[label] = (probabilities[label] as number) - 1; // d(cross-entropy)/d(logit) = p - onehot
      for (let d = 0; d < dimensions; d++) {
        const x = row[d] as number;
        if (x === 0) continue;
        const base = d * k;
        for (let c = 0; c < k; c++)
          gradW[base + c] = (gradW[base + c] as number) + x * (probabilities[c] as number);
      }
      for (let c = 0; c < k; c++) gradB[c] = (gradB[c] as number) + (probabilities[c] as number);
    }
    const n = rows.length;
    const correction1 = 1 - ADAM_BETA1 ** epoch;
    const correction2 = 1 - ADAM_BETA2 ** epoch;
    for (let j = 0; j < weights.length; j++) {
      const g = (gradW[j] as number) / n + options.l2 * (weights[j] as number);
      weights[j] =
        (weights[j] as number) - adamStep(moments.mw, moments.vw, j, g, options, correction1, correction2);
    }
    for (let c = 0; c < k; c++) {
      const g = (gradB[c] as number) / n;
      bias[c] =
        (bias[c] as number) - adamStep(biasMoments.m, biasMoments.v, c, g, options, correction1, correction2);
    }
  }
  return {
    dimensions,
    classes: [...classes],
    weights: Float32Array.from(weights),
    bias: Float32Array.from(bias),
  };
}

/** Class probabilities for one embedding, computed exactly as the exported ONNX graph does. */
export function predictProbabilities(model: SoftmaxModel, row: Float32Array): Float32Array {
  const out = new Float64Array(model.classes.length);
  softmaxInto(out, row, model.weights, model.bias, model.dimensions, model.classes.length);
  return Float32Array.from(out);
}

function softmaxInto(
  out: Float64Array,
  row: Float32Array,
  weights: ArrayLike<number>,
  bias: ArrayLike<number>,
  dimensions: number,
  k: number,
): void {
  for (let c = 0; c < k; c++) out[c] = bias[c] as number;
  for (let d = 0; d < dimensions; d++) {
    const x = row[d] as number;
    if (x === 0) continue;
    const base = d * k;
    for (let c = 0; c < k; c++) out[c] = (out[c] as number) + x * (weights[base + c] as number);
  }
  let max = -Infinity;
  for (let c = 0; c < k; c++) max = Math.max(max, out[c] as number);
  let sum = 0;
  for (let c = 0; c < k; c++) {
    out[c] = Math.exp((out[c] as number) - max);
    sum += out[c] as number;
  }
  for (let c = 0; c < k; c++) out[c] = (out[c] as number) / sum;
}

function adamStep(
  m: Float64Array,
  v: Float64Array,
  j: number,
  gradient: number,
  options: TrainingOptions,
  correction1: number,
  correction2: number,
): number {
  m[j] = ADAM_BETA1 * (m[j] as number) + (1 - ADAM_BETA1) * gradient;
  v[j] = ADAM_BETA2 * (v[j] as number) + (1 - ADAM_BETA2) * gradient * gradient;
  return (
    (options.learningRate * ((m[j] as number) / correction1)) /
    (Math.sqrt((v[j] as number) / correction2) + ADAM_EPSILON)
  );
}
