import type { OpsEvent } from '../envelope';
import { typeMatcher } from './event-type-pattern';
import { fieldReader } from './field-path';
import type { Condition, RuleMatch } from './routing-rule';

export type EventPredicate = (event: OpsEvent) => boolean;

/** The match as one predicate, cheapest test first; an empty match takes every event. */
export function compileMatch(match: RuleMatch = {}): EventPredicate {
  const tests: EventPredicate[] = [];
  if (match.type !== undefined) {
    const isType = typeMatcher(typeof match.type === 'string' ? [match.type] : match.type);
    tests.push((event) => isType(event.type));
  }
  if (match.source !== undefined) {
    const test = attributeTest(match.source);
    tests.push((event) => test(event.source));
  }
  if (match.subject !== undefined) {
    const test = attributeTest(match.subject);
    tests.push((event) => test(event.subject));
  }
  if (match.correlationid !== undefined) {
    const test = attributeTest(match.correlationid);
    tests.push((event) => test(event.correlationid));
  }
  for (const condition of match.data ?? []) {
    const test = compileCondition(condition);
    tests.push((event) => test(event.data));
  }
  return allOf(tests);
}

function allOf(tests: readonly EventPredicate[]): EventPredicate {
  if (tests.length === 0) return () => true;
  if (tests.length === 1) return tests[0] as EventPredicate;
  return (event) => {
    for (let i = 0; i < tests.length; i++) if (!(tests[i] as EventPredicate)(event)) return false;
    return true;
  };
}

function attributeTest(match: string | { prefix: string }): (value: string | undefined) => boolean {
  if (typeof match === 'string') return (value) => value === match;
  const { prefix } = match;
  return (value) => value !== undefined && value.startsWith(prefix);
}

/**
 * Comparisons are strict, as in the JSON the event was published as: "1200" is not greater than 1000, and a
 * missing field is not equal to anything. `exists` counts null as absent, since producers write either.
 */
function compileCondition(condition: Condition): (data: unknown) => boolean {
  const read = fieldReader(condition.field);
  if ('eq' in condition) {
    const wanted = condition.eq;
    return (data) => read(data) === wanted;
  }
  if ('ne' in condition) {
    const unwanted = condition.ne;
    return (data) => read(data) !== unwanted;
  }
  if ('in' in condition) {
    const wanted = new Set<unknown>(condition.in);
    return (data) => wanted.has(read(data));
  }
  if ('prefix' in condition) {
    const { prefix } = condition;
    return (data) => {
      const value = read(data);
      return typeof value === 'string' && value.startsWith(prefix);
    };
  }
  if ('exists' in condition) {
    const wanted = condition.exists;
    return (data) => {
      const value = read(data);
      return (value !== undefined && value !== null) === wanted;
    };
  }
  if ('gt' in condition) {
    const bound = condition.gt;
    return (data) => {
      const value = read(data);
      return typeof value === 'number' && value > bound;
    };
  }
  if ('gte' in condition) {
    const bound = condition.gte;
    return (data) => {
      const value = read(data);
      return typeof value === 'number' && value >= bound;
    };
  }
  if ('lt' in condition) {
    const bound = condition.lt;
    return (data) => {
      const value = read(data);
      return typeof value === 'number' && value < bound;
    };
  }
  const bound = condition.lte;
  return (data) => {
    const value = read(data);
    return typeof value === 'number' && value <= bound;
  };
}
