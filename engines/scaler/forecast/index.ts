export type { Forecaster } from './forecaster';
export { InsufficientHistoryError } from './forecast-input';
export {
  HOLT_WINTERS_NAME,
  HoltWintersForecaster,
  type Damping,
  type HoltWintersOptions,
  type SmoothingParameters,
} from './holt-winters';
export { SEASONAL_NAIVE_NAME, SeasonalNaiveForecaster } from './seasonal-naive';
export { LOAD_FORECAST_MODEL_FILE, ONNX_FORECASTER_NAME, OnnxForecaster } from './onnx-forecaster';
export {
  LOAD_FORECAST_FEATURES,
  LOAD_FORECAST_MODEL_NAME,
  LOAD_FORECAST_MODEL_VERSION,
  type AutoregressiveModel,
} from './autoregressive-model';
export { backtest, chooseForecaster, type BacktestOptions, type BacktestScore } from './backtest';
export { generateLoadTrace, type LoadTrace, type LoadTraceOptions } from './synthetic-load';
