import type { onnx } from 'onnx-proto';

/** A graph input or output: a tensor of `elemType` whose axes are sizes or named (dynamic) dimensions. */
export function tensorValue(
  name: string,
  elemType: onnx.TensorProto.DataType,
  shape: (string | number)[],
): onnx.IValueInfoProto {
  const dim = shape.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d }));
  return { name, type: { tensorType: { elemType, shape: { dim } } } };
}
