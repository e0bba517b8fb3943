export { describeRule } from './describe-rule';
export { compileRules, RuleError, type RoutingDeps } from './rule-compiler';
export type { Condition, RoutingRule, RuleMatch, Scalar, TargetSpec, Transform } from './routing-rule';
export type { RoutedEvent, RoutingTable, Target } from './routing-table';
export { REDACTED } from './transforms';
