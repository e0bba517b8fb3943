const { TestEnvironment } = require('jest-environment-node');

/**
 * Jest runs each test file in its own vm context, whose typed-array constructors differ from the host's.
 * onnxruntime-node's native binding and Node's fs hand back host typed arrays, and onnxruntime-common checks
 * tensor data with `instanceof`, so inside the default environment it fails with "A float32 tensor's data
 * must be type of function Float32Array()". Sharing the host's binary-data constructors makes both sides agree.
 */
const HOST_BINARY_DATA_GLOBALS = [
  'ArrayBuffer',
  'SharedArrayBuffer',
  'DataView',
  'Uint8Array',
  'Uint8ClampedArray',
  'Int8Array',
  'Uint16Array',
  'Int16Array',
  'Uint32Array',
  'Int32Array',
  'Float32Array',
  'Float64Array',
  'BigInt64Array',
  'BigUint64Array',
];

class OnnxEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    for (const name of HOST_BINARY_DATA_GLOBALS) this.global[name] = globalThis[name];
  }
}

module.exports = OnnxEnvironment;
