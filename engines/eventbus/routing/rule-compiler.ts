import { ErrorCode, OpsbotError } from '../../../bot/core/errors';
import { compileMatch } from './conditions';
import { parseRoutingRule, RULE_ID, type RoutingRule, type TargetSpec } from './routing-rule';
import { routingTable, type CompiledRule, type RoutingTable, type Target } from './routing-table';
import { compileTransforms, type TransformDeps } from './transforms';

export interface RoutingDeps extends TransformDeps {
  /** The engines installed in this build; when given, an `engine` target must name one of them. */
  engines?: readonly string[];
}

/** Refused routing rules; `issues` holds every reason, each starting with the rule it concerns. */
export class RuleError extends OpsbotError {
  constructor(readonly issues: string[]) {
    super(ErrorCode.RuleInvalid, issues.join('; '));
    this.name = 'RuleError';
  }
}

/**
 * Validates every rule and compiles them into a routing table, or throws a RuleError naming every problem of
 * every rule: the rules are applied all together or not at all.
 */
export function compileRules(specs: readonly unknown[], deps: RoutingDeps = {}): RoutingTable {
  const issues: string[] = [];
  const rules: RoutingRule[] = [];
  const firstIndexOf = new Map<string, number>();
  specs.forEach((spec, index) => {
    const id = idOf(spec);
    const earlier = id === undefined ? undefined : firstIndexOf.get(id);
    if (id !== undefined && earlier === undefined) firstIndexOf.set(id, index);
    const problems = earlier === undefined ? [] : [`id: "${id}" is already the id of rules[${earlier}]`];
    const parsed = parseRoutingRule(spec);
    if ('invalid' in parsed) problems.push(...parsed.invalid);
    else {
      problems.push(...dependencyProblems(parsed, deps));
      rules.push(parsed);
    }
    // A rule is named by its id, unless it has no usable one or shares it with an earlier rule.
    const label = id === undefined || earlier !== undefined ? `rules[${index}]` : `rule ${id}`;
    issues.push(...problems.map((problem) => `${label}: ${problem}`));
  });
  if (issues.length > 0) throw new RuleError(issues);
  const compiled = rules.filter((rule) => rule.enabled).map((rule) => compileRule(rule, deps));
  return routingTable(rules, compiled);
}

function idOf(spec: unknown): string | undefined {
  const id = typeof spec === 'object' && spec !== null ? (spec as { id?: unknown }).id : undefined;
  return typeof id === 'string' && RULE_ID.test(id) ? id : undefined;
}

/** Checks that depend on this build rather than on the rule alone. */
function dependencyProblems(rule: RoutingRule, deps: RoutingDeps): string[] {
  const { engines } = deps;
  if (engines === undefined) return [];
  const installed = engines.length > 0 ? `installed: ${engines.join(', ')}` : 'no engine is installed';
  const problems: string[] = [];
  rule.targets.forEach((target, i) => {
    if ('engine' in target && !engines.includes(target.engine))
      problems.push(`targets[${i}]: unknown engine "${target.engine}" (${installed})`);
  });
  return problems;
}

function compileRule(rule: RoutingRule, deps: RoutingDeps): CompiledRule {
  return {
    id: rule.id,
    matches: compileMatch(rule.match),
    transform: compileTransforms(rule.transforms ?? [], deps),
    targets: rule.targets.map(toTarget),
  };
}

function toTarget(spec: TargetSpec): Target {
  if ('topic' in spec) return { kind: 'topic', topic: spec.topic };
  if ('engine' in spec) return { kind: 'engine', engine: spec.engine };
  return { kind: 'webhook', ...spec.webhook };
}
