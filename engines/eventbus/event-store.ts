import type { OpsEvent } from './envelope';
import { typeMatcher, typePatternProblem } from './routing/event-type-pattern';

export interface EventQuery {
  /** An exact type, or a glob as routing rules write them: "order.*", "ops.**". */
  type?: string;
  source?: string;
  correlationid?: string;
  subject?: string;
  /** Events that mention this: in the subject, as the correlation id, or as a value anywhere in the data ("1234"). */
  mentions?: string;
  since?: Date;
  until?: Date;
  /** At most this many, newest first. */
  limit?: number;
}

export const DEFAULT_QUERY_LIMIT = 20;
export const MAX_QUERY_LIMIT = 1000;

/** Recent events, queryable: what "find events for order 1234" and GET /api/v1/events read. */
export interface EventStore {
  append(events: readonly OpsEvent[]): Promise<void>;
  /** Newest first. */
  query(query: EventQuery): Promise<OpsEvent[]>;
  get(id: string): Promise<OpsEvent | undefined>;
  close(): Promise<void>;
}

/** The query as one predicate, built once per query rather than re-deciding per event. */
export function eventMatcher(query: EventQuery): (event: OpsEvent) => boolean {
  const tests: ((e: OpsEvent) => boolean)[] = [];
  if (query.type !== undefined) {
    const { type } = query;
    // Not a valid pattern: compared as it is, never turned into a regular expression.
    const matchesType = typePatternProblem(type) ? (t: string) => t === type : typeMatcher([type]);
    tests.push((e) => matchesType(e.type));
  }
  if (query.source !== undefined) tests.push((e) => e.source === query.source);
  if (query.correlationid !== undefined) tests.push((e) => e.correlationid === query.correlationid);
  if (query.subject !== undefined) tests.push((e) => e.subject === query.subject);
  if (query.since !== undefined) {
    const since = query.since.getTime();
    tests.push((e) => Date.parse(e.time) >= since);
  }
  if (query.until !== undefined) {
    const until = query.until.getTime();
    tests.push((e) => Date.parse(e.time) <= until);
  }
  if (query.mentions !== undefined) {
    const needle = query.mentions;
    tests.push(
      (e) =>
        e.correlationid === needle ||
        (e.subject !== undefined && (e.subject === needle || e.subject.split(/[/:#]/).includes(needle))) ||
        mentionsValue(e.data, needle, 0),
    );
  }
  return (e) => tests.every((t) => t(e));
}

/** Data values are compared whole ("1234" finds orderId 1234, not 91234), a few levels deep. */
function mentionsValue(value: unknown, needle: string, depth: number): boolean {
  if (typeof value === 'string' || typeof value === 'number') return String(value) === needle;
  if (depth > 4 || value === null || typeof value !== 'object') return false;
  return Object.values(value as Record<string, unknown>).some((v) => mentionsValue(v, needle, depth + 1));
}

export function queryLimit(query: EventQuery): number {
  return Math.min(MAX_QUERY_LIMIT, Math.max(1, query.limit ?? DEFAULT_QUERY_LIMIT));
}
