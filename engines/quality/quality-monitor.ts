import type { ChartBlock } from '../../bot/core/message';
import type { EngineSink } from '../eventbus/event-bus';
import type { OpsEvent } from '../eventbus/envelope';
import { AnomalyDetector, type Anomaly } from './data/anomaly-detector';
import { appliesTo, validateRecord, type CheckKind, type CompiledRules } from './data/validation-rules';

/** Violations and anomalies kept per event type for the report: the latest, not a history. */
const KEPT_FINDINGS = 20;
/** Buckets of event counts kept per type for the chart: a day of minutes. */
const KEPT_BUCKETS = 1440;
/** Numeric fields watched per event type, at most, so a payload full of numbers cannot grow memory. */
const MAX_FIELDS_PER_TYPE = 16;
/** How deep into a payload numeric fields are looked for ("amount.value" is two). */
const MAX_FIELD_DEPTH = 2;

export interface QualityMonitorOptions {
  /** Validation rules for routed events; without them events are only counted and watched for anomalies. */
  rules?: CompiledRules;
  anomalies: { threshold: number; season: number; bucketSeconds: number };
  now?: () => number;
}

/** One violation as the report keeps it: which event, never a value from it. */
export interface ObservedViolation {
  eventId: string;
  at: string;
  check: CheckKind;
  field: string;
  message: string;
}

export interface ObservedAnomaly extends Anomaly {
  /** "order.created count" or "order.created amountCents (mean)". */
  series: string;
}

/** The monitor's view of one event type, as the data_quality skill and the REST API show it. */
export interface EventTypeQuality {
  type: string;
  events: number;
  checked: number;
  invalid: number;
  /** valid / checked, one decimal; 100 when no rule applies. */
  validPercent: number;
  byCheck: { check: CheckKind; field: string; count: number }[];
  recentViolations: ObservedViolation[];
  anomalies: ObservedAnomaly[];
}

interface Bucket {
  start: number;
  events: number;
  invalid: number;
  sums: Map<string, { sum: number; n: number }>;
}

class TypeState {
  events = 0;
  checked = 0;
  invalid = 0;
  readonly byCheck = new Map<string, { check: CheckKind; field: string; count: number }>();
  readonly violations: ObservedViolation[] = [];
  readonly anomalies: ObservedAnomaly[] = [];
  readonly buckets: Bucket[] = [];
  readonly detectors = new Map<string, AnomalyDetector>();
  readonly fields = new Set<string>();

  constructor(readonly type: string) {}
}

/**
 * The quality engine on the event bus: a routing rule with the target `engine: quality` sends it events,
 * which it validates against the rule set and watches for anomalies. Anomalies are judged per closed bucket
 * (`bucketSeconds`): the number of events of a type and the mean of each numeric field, each a series with its
 * own detector, so "orders stopped" and "amounts jumped" are both seen. State is in memory and bounded; it
 * starts empty with the process.
 */
export class QualityMonitor implements EngineSink {
  private readonly types = new Map<string, TypeState>();
  private readonly bucketMs: number;
  private readonly now: () => number;

  constructor(private readonly options: QualityMonitorOptions) {
    this.bucketMs = options.anomalies.bucketSeconds * 1000;
    this.now = options.now ?? Date.now;
  }

  handle(event: OpsEvent): Promise<void> {
    this.observe(event);
    return Promise.resolve();
  }

  observe(event: OpsEvent): void {
    const state = this.stateOf(event.type);
    const at = Date.parse(event.time);
    const t = Number.isFinite(at) ? at : this.now();
    const bucket = this.bucketAt(state, t);
    state.events++;
    bucket.events++;
    const { rules } = this.options;
    if (rules && appliesTo(rules, event.type)) {
      state.checked++;
      const violations = validateRecord(rules, event.type, event.data);
      if (violations.length > 0) {
        state.invalid++;
        bucket.invalid++;
        for (const v of violations) {
          const key = `${v.check} ${v.field}`;
          const entry = state.byCheck.get(key) ?? { check: v.check, field: v.field, count: 0 };
          entry.count++;
          state.byCheck.set(key, entry);
          keepLatest(state.violations, {
            eventId: event.id,
            at: event.time,
            check: v.check,
            field: v.field,
            message: v.message,
          });
        }
      }
    }
    this.addNumbers(state, bucket, event.data, '', 0);
  }

  /** Every event type seen, busiest first; `match` filters by a word in the type ("orders" finds order.*). */
  report(match?: string): EventTypeQuality[] {
    const word = match?.toLowerCase().replace(/s$/, '');
    return [...this.types.values()]
      .filter((state) => word === undefined || state.type.toLowerCase().includes(word))
      .sort((a, b) => b.events - a.events || a.type.localeCompare(b.type))
      .map((state) => ({
        type: state.type,
        events: state.events,
        checked: state.checked,
        invalid: state.invalid,
        validPercent:
          state.checked === 0
            ? 100
            : Math.round(((state.checked - state.invalid) / state.checked) * 1000) / 10,
        byCheck: [...state.byCheck.values()].sort((a, b) => b.count - a.count),
        recentViolations: [...state.violations],
        anomalies: [...state.anomalies],
      }));
  }

  /** Events and invalid events per bucket of one type, for a chat chart; undefined before its first event. */
  chart(type: string): ChartBlock | undefined {
    const state = this.types.get(type);
    if (!state || state.buckets.length === 0) return undefined;
    const points = state.buckets.map((b) => ({ t: b.start, v: b.invalid }));
    const values = points.map((p) => p.v);
    const unit = `invalid / ${this.options.anomalies.bucketSeconds} s`;
    return {
      type: 'chart',
      title: `invalid ${type} events per ${this.options.anomalies.bucketSeconds} s`,
      points,
      summary: {
        min: `${Math.min(...values)} ${unit}`,
        max: `${Math.max(...values)} ${unit}`,
        latest: `${values[values.length - 1]} ${unit}`,
      },
    };
  }

  private stateOf(type: string): TypeState {
    let state = this.types.get(type);
    if (!state) {
      state = new TypeState(type);
      this.types.set(type, state);
    }
    return state;
  }

  /** The bucket `t` falls in, closing (and judging) the buckets before it when time moved on. */
  private bucketAt(state: TypeState, t: number): Bucket {
    const start = Math.floor(t / this.bucketMs) * this.bucketMs;
    const last = state.buckets[state.buckets.length - 1];
    if (last && start <= last.start) {
      // A late event counts in the bucket it belongs to if that is still kept, else in the latest.
      return state.buckets.find((b) => b.start === start) ?? last;
    }
    if (last) {
      this.judge(state, last);
      // Quiet buckets in between are zero events: an outage is a drop, not a gap.
      for (let gap = last.start + this.bucketMs; gap < start; gap += this.bucketMs) {
        const empty: Bucket = { start: gap, events: 0, invalid: 0, sums: new Map() };
        this.push(state, empty);
        this.judge(state, empty);
      }
    }
    const bucket: Bucket = { start, events: 0, invalid: 0, sums: new Map() };
    this.push(state, bucket);
    return bucket;
  }

  private push(state: TypeState, bucket: Bucket): void {
    state.buckets.push(bucket);
    if (state.buckets.length > KEPT_BUCKETS) state.buckets.shift();
  }

  private judge(state: TypeState, bucket: Bucket): void {
    this.feed(state, `${state.type} count`, bucket.start, bucket.events);
    for (const [field, { sum, n }] of bucket.sums)
      if (n > 0) this.feed(state, `${state.type} ${field} (mean)`, bucket.start, sum / n);
  }

  private feed(state: TypeState, series: string, t: number, value: number): void {
    let detector = state.detectors.get(series);
    if (!detector) {
      const { threshold, season } = this.options.anomalies;
      detector = new AnomalyDetector({ threshold, season });
      state.detectors.set(series, detector);
    }
    const anomaly = detector.observe(t, value);
    if (anomaly) keepLatest(state.anomalies, { series, ...anomaly });
  }

  private addNumbers(state: TypeState, bucket: Bucket, value: unknown, prefix: string, depth: number): void {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return;
    for (const [key, item] of Object.entries(value)) {
      const field = prefix ? `${prefix}.${key}` : key;
      if (typeof item === 'number' && Number.isFinite(item)) {
        if (!state.fields.has(field)) {
          if (state.fields.size >= MAX_FIELDS_PER_TYPE) continue;
          state.fields.add(field);
        }
        const sum = bucket.sums.get(field) ?? { sum: 0, n: 0 };
        sum.sum += item;
        sum.n++;
        bucket.sums.set(field, sum);
      } else if (depth + 1 < MAX_FIELD_DEPTH) this.addNumbers(state, bucket, item, field, depth + 1);
    }
  }
}

function keepLatest<T>(list: T[], item: T): void {
  list.push(item);
  if (list.length > KEPT_FINDINGS) list.shift();
}
