import type { RiskThresholds } from '../../orchestrator/prediction/loaded-failure-model';
import path from 'node:path';
import type { FailureModelIdentity } from '../../orchestrator/prediction/failure-model';

/**
 * The maintenance controller's model of whether a service fails within the next hour: the saga failure
 * model's logistic regression and graph (engines/orchestrator/prediction/failure-model.ts) over
 * SERVICE_FAILURE_FEATURES, trained by `npm run train:failures`.
 */
export const SERVICE_FAILURE_MODEL: FailureModelIdentity = {
  name: 'service-failure',
  /** Bumped when the features, the simulation's meaning of "failure" or the training change. */
  version: '1.0.0',
  producer: 'opsbot train:failures',
};

/** Where the model ships, relative to the package root; its card is the .json beside it. */
export const SERVICE_FAILURE_MODEL_FILE = path.join('models', 'service-failure.onnx');

/**
 * High risk is "more likely than not"; medium is several times the base rate of a service-hour (about 8 %
 * in the simulated history), where a look at the service is worth its time.
 */
export const DEFAULT_FAILURE_RISK_THRESHOLDS: RiskThresholds = { highRisk: 0.5, mediumRisk: 0.2 };
