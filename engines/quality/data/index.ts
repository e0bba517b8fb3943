/** The data-quality library (issue 9): validation rules over event payloads, anomalies, reconciliation, reports. */
export {
  compileRuleSets,
  loadRuleSetsFile,
  validateRecord,
  appliesTo,
  RuleSetError,
  CHECK_KINDS,
  COMPARE_OPS,
  type CheckKind,
  type CompareOp,
  type CompiledRules,
  type CompiledRule,
  type Violation,
} from './validation-rules';
export {
  AnomalyDetector,
  detectAnomalies,
  type Anomaly,
  type AnomalyOptions,
  type SeriesPoint,
} from './anomaly-detector';
export {
  reconcile,
  agrees,
  type Reconciliation,
  type ReconcileOptions,
  type FieldMismatch,
  type Side,
} from './reconcile';
export { QualityReport, type QualityReportJson, type LocatedViolation } from './quality-report';
export { valueAt, isFieldPath } from './field-path';
