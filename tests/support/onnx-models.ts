import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { onnx } from 'onnx-proto';
import { tensorValue } from '../../engines/predictors/onnx-graph';

/**
 * Predictor models small enough to reason about by hand, built with onnx-proto the way a training job exports
 * them: batch axis dynamic, opset 13, ai.onnx.ml for the classical operators. A test knows every weight, so
 * it can compute the expected prediction itself.
 */

const { FLOAT, INT64 } = onnx.TensorProto.DataType;
const { INT, INTS, FLOATS, STRING, STRINGS } = onnx.AttributeProto.AttributeType;
const OPSETS: onnx.IOperatorSetIdProto[] = [
  { domain: '', version: 13 },
  { domain: 'ai.onnx.ml', version: 3 },
];

export interface SoftmaxRegressionSpec {
  input: string;
  output: string;
  /** features × classes: weights[f][c]. */
  weights: number[][];
  bias: number[];
}

/** probabilities = Softmax(x · W + b): multinomial logistic regression. */
export function softmaxRegressionModel(spec: SoftmaxRegressionSpec): Uint8Array {
  const features = spec.weights.length;
  const classes = spec.bias.length;
  return encode({
    input: [tensorValue(spec.input, FLOAT, ['batch', features])],
    output: [tensorValue(spec.output, FLOAT, ['batch', classes])],
    initializer: [
      { name: 'W', dataType: FLOAT, dims: [features, classes], floatData: spec.weights.flat() },
      { name: 'b', dataType: FLOAT, dims: [classes], floatData: spec.bias },
    ],
    node: [
      { opType: 'MatMul', input: [spec.input, 'W'], output: ['xw'] },
      { opType: 'Add', input: ['xw', 'b'], output: ['logits'] },
      {
        opType: 'Softmax',
        input: ['logits'],
        output: [spec.output],
        attribute: [{ name: 'axis', type: INT, i: 1 }],
      },
    ],
  });
}

export interface BinaryTreeSpec {
  input: string;
  features: number;
  /** Rows whose first feature is <= threshold land in the left leaf, the others in the right one. */
  threshold: number;
  /** [P(class 0), P(class 1)] of each leaf. */
  left: [number, number];
  right: [number, number];
}

/**
 * A one-split TreeEnsembleClassifier with outputs `label` and `probabilities`. With weights for both classes
 * in every leaf, onnxruntime-node 1.21's binary path answers `label` 1 for rows of both leaves, even where
 * class 0 is the more probable: the output the predictor runtime must not trust.
 */
export function binaryTreeClassifierModel(spec: BinaryTreeSpec): Uint8Array {
  return encode({
    input: [tensorValue(spec.input, FLOAT, ['batch', spec.features])],
    output: [tensorValue('label', INT64, ['batch']), tensorValue('probabilities', FLOAT, ['batch', 2])],
    node: [
      {
        opType: 'TreeEnsembleClassifier',
        domain: 'ai.onnx.ml',
        input: [spec.input],
        output: ['label', 'probabilities'],
        attribute: [
          ints('classlabels_int64s', [0, 1]),
          ints('nodes_treeids', [0, 0, 0]),
          ints('nodes_nodeids', [0, 1, 2]),
          ints('nodes_featureids', [0, 0, 0]),
          floats('nodes_values', [spec.threshold, 0, 0]),
          strings('nodes_modes', ['BRANCH_LEQ', 'LEAF', 'LEAF']),
          ints('nodes_truenodeids', [1, 0, 0]),
          ints('nodes_falsenodeids', [2, 0, 0]),
          ints('class_treeids', [0, 0, 0, 0]),
          ints('class_nodeids', [1, 1, 2, 2]),
          ints('class_ids', [0, 1, 0, 1]),
          floats('class_weights', [...spec.left, ...spec.right]),
          { name: 'post_transform', type: STRING, s: Buffer.from('NONE') },
        ],
      },
    ],
  });
}

export interface LinearRegressionSpec {
  input: string;
  output: string;
  coefficients: number[];
  intercept: number;
}

/** value = x · coefficients + intercept, as ai.onnx.ml LinearRegressor ([batch, 1] output). */
export function linearRegressionModel(spec: LinearRegressionSpec): Uint8Array {
  return encode({
    input: [tensorValue(spec.input, FLOAT, ['batch', spec.coefficients.length])],
    output: [tensorValue(spec.output, FLOAT, ['batch', 1])],
    node: [
      {
        opType: 'LinearRegressor',
        domain: 'ai.onnx.ml',
        input: [spec.input],
        output: [spec.output],
        attribute: [floats('coefficients', spec.coefficients), floats('intercepts', [spec.intercept])],
      },
    ],
  });
}

/** Writes `<dir>/<name>.json`, then `<dir>/<name>.onnx`; returns the model's path. */
export async function writeModelFiles(
  dir: string,
  name: string,
  model: Uint8Array,
  metadata: object,
): Promise<string> {
  const file = path.join(dir, `${name}.onnx`);
  await writeFile(path.join(dir, `${name}.json`), JSON.stringify(metadata, null, 2));
  await writeFile(file, model);
  return file;
}

function encode(graph: Omit<onnx.IGraphProto, 'name'>): Uint8Array {
  return onnx.ModelProto.encode({
    irVersion: 8,
    opsetImport: OPSETS,
    producerName: 'opsbot tests',
    graph: { name: 'predictor', ...graph },
  }).finish();
}

function ints(name: string, values: number[]): onnx.IAttributeProto {
  return { name, type: INTS, ints: values };
}

function floats(name: string, values: number[]): onnx.IAttributeProto {
  return { name, type: FLOATS, floats: values };
}

function strings(name: string, values: string[]): onnx.IAttributeProto {
  return { name, type: STRINGS, strings: values.map((v) => Buffer.from(v)) };
}
