import { onnx } from 'onnx-proto';
import { tensorValue } from '../../../engines/predictors/onnx-graph';
import type { SoftmaxModel } from './softmax-regression';

export const INTENT_MODEL_INPUT = 'embedding';
export const INTENT_MODEL_OUTPUT = 'probabilities';

/**
 * The classifier as an ONNX graph: probabilities = Softmax(embedding · W + b), batch axis dynamic. Opset 13,
 * the default domain only, so any onnxruntime since 1.8 runs it.
 */
export function exportSoftmaxModel(model: SoftmaxModel, producerVersion: string): Uint8Array {
  const { FLOAT } = onnx.TensorProto.DataType;
  const k = model.classes.length;
  const proto: onnx.IModelProto = {
    irVersion: 7,
    opsetImport: [{ domain: '', version: 13 }],
    producerName: 'opsbot train:nlu',
    producerVersion,
    graph: {
      name: 'intent-classifier',
      input: [tensorValue(INTENT_MODEL_INPUT, FLOAT, ['batch', model.dimensions])],
      output: [tensorValue(INTENT_MODEL_OUTPUT, FLOAT, ['batch', k])],
      initializer: [
        { name: 'W', dataType: FLOAT, dims: [model.dimensions, k], floatData: Array.from(model.weights) },
        { name: 'b', dataType: FLOAT, dims: [k], floatData: Array.from(model.bias) },
      ],
      node: [
        { opType: 'MatMul', input: [INTENT_MODEL_INPUT, 'W'], output: ['logits_unbiased'] },
        { opType: 'Add', input: ['logits_unbiased', 'b'], output: ['logits'] },
        {
          opType: 'Softmax',
          input: ['logits'],
          output: [INTENT_MODEL_OUTPUT],
          attribute: [{ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 1 }],
        },
      ],
    },
  };
  return onnx.ModelProto.encode(proto).finish();
}
