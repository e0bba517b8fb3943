export {
  PredictorError,
  metadataPathFor,
  readModelMetadata,
  type ClassificationMetadata,
  type MetadataFor,
  type ModelMetadata,
  type ModelTask,
  type PredictorErrorDetails,
  type RegressionMetadata,
} from './model-metadata';
export {
  OnnxModel,
  type AnyOnnxModel,
  type BatchClassificationResult,
  type BatchPrediction,
  type BatchRegressionResult,
  type ClassificationResult,
  type FeatureInput,
  type Prediction,
  type RegressionResult,
} from './onnx-model';
export { ModelRegistry, type ModelListing, type ModelRegistryOptions } from './model-registry';
