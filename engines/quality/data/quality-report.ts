import type { ChartBlock } from '../../../bot/core/message';
import type { Anomaly, SeriesPoint } from './anomaly-detector';
import { numberText } from './number-text';
import { agrees, type Reconciliation } from './reconcile';
import type { CheckKind, Violation } from './validation-rules';

/** A violation with the record it was found in: the record's line in its file, or its 1-based position. */
export interface LocatedViolation extends Violation {
  line: number;
}

/**
 * The JSON form of a report; each section is there only when the report has that kind of result.
 *
 * ```
 * {
 *   "dataset": "orders",
 *   "validation": {
 *     "records": 1204,            every record given
 *     "checked": 1190,            records that at least one rule applies to
 *     "valid": 1181,              checked records without a violation
 *     "validPercent": 99.2,       valid / checked, one decimal; 100 when nothing was checked
 *     "violations": 9,
 *     "byCheck": [{ "check": "range", "field": "amountCents", "count": 6 }, …],   most first
 *     "details": [{ "line": 17, "ruleIndex": 0, "check": "range", "field": "amountCents",
 *                   "message": "amountCents 0 is below the minimum 1" }, …]
 *   },
 *   "anomalies": [{ "series": "amountCents", "points": 240, "anomalies": [Anomaly, …] }],
 *   "reconciliation": Reconciliation & { "agrees": false }
 * }
 * ```
 */
export interface QualityReportJson {
  dataset: string;
  validation?: {
    records: number;
    checked: number;
    valid: number;
    validPercent: number;
    violations: number;
    byCheck: { check: CheckKind; field: string; count: number }[];
    details: LocatedViolation[];
  };
  anomalies?: { series: string; points: number; anomalies: Anomaly[] }[];
  reconciliation?: Reconciliation & { agrees: boolean };
}

/** How many groups of violations, anomalies or mismatched fields a chat line names before "…". */
const NAMED_IN_SUMMARY = 3;
/** Invalid-record charts have at most this many buckets: a sparkline in chat, not a dashboard. */
const MAX_BUCKETS = 60;
const WEEK = { ms: 604_800_000, name: 'week' };
const BUCKETS = [
  { ms: 60_000, name: 'minute' },
  { ms: 300_000, name: '5 minutes' },
  { ms: 900_000, name: '15 minutes' },
  { ms: 3_600_000, name: 'hour' },
  { ms: 21_600_000, name: '6 hours' },
  { ms: 86_400_000, name: 'day' },
  WEEK,
];

interface Series {
  name: string;
  points: readonly SeriesPoint[];
  anomalies: Anomaly[];
}

/**
 * A data-quality report on one dataset, fed as the checks run: the validation of each record, the anomalies of
 * numeric series, a reconciliation. It reads as JSON, as a few lines for chat, and as a chart. The chat lines
 * carry counts and field names, never a value from a record beyond the numbers an anomaly is about.
 */
export class QualityReport {
  private records = 0;
  private checked = 0;
  private invalid = 0;
  private readonly details: LocatedViolation[] = [];
  /** Times of the invalid records that have one, for the chart. */
  private readonly invalidTimes: number[] = [];
  private readonly checkedTimes: number[] = [];
  private readonly series: Series[] = [];
  private reconciliation: Reconciliation | undefined;

  /** `noun` names what the records are in the chat line: "orders: 1,204 events, …". */
  constructor(
    readonly dataset: string,
    private readonly noun = 'record',
  ) {}

  /**
   * One record's validation. `checked` is false for a record no rule applies to; `time` (epoch ms) places it on
   * the invalid-records chart.
   */
  addValidation(
    violations: readonly Violation[],
    record: { line?: number; time?: number; checked?: boolean } = {},
  ): void {
    this.records++;
    if (record.checked === false) return;
    this.checked++;
    const line = record.line ?? this.records;
    this.details.push(...violations.map((v) => ({ line, ...v })));
    if (record.time !== undefined) this.checkedTimes.push(record.time);
    if (violations.length === 0) return;
    this.invalid++;
    if (record.time !== undefined) this.invalidTimes.push(record.time);
  }

  addAnomalies(series: string, points: readonly SeriesPoint[], anomalies: readonly Anomaly[]): void {
    this.series.push({ name: series, points, anomalies: [...anomalies] });
  }

  setReconciliation(result: Reconciliation): void {
    this.reconciliation = result;
  }

  /** Whether nothing was found: no violation, no anomaly, and both sides of a reconciliation agree. */
  clean(): boolean {
    return (
      this.details.length === 0 &&
      this.series.every((s) => s.anomalies.length === 0) &&
      (this.reconciliation === undefined || agrees(this.reconciliation))
    );
  }

  toJSON(): QualityReportJson {
    const json: QualityReportJson = { dataset: this.dataset };
    if (this.records > 0)
      json.validation = {
        records: this.records,
        checked: this.checked,
        valid: this.checked - this.invalid,
        validPercent: this.validPercent(),
        violations: this.details.length,
        byCheck: this.byCheck(),
        details: this.details,
      };
    if (this.series.length > 0)
      json.anomalies = this.series.map((s) => ({
        series: s.name,
        points: s.points.length,
        anomalies: s.anomalies,
      }));
    if (this.reconciliation)
      json.reconciliation = { ...this.reconciliation, agrees: agrees(this.reconciliation) };
    return json;
  }

  /** A few lines for chat, one per kind of result. */
  summaryText(): string {
    const lines: string[] = [];
    if (this.records > 0) lines.push(this.validationLine());
    for (const s of this.series) lines.push(anomalyLine(this.dataset, s));
    if (this.reconciliation) lines.push(reconciliationLine(this.reconciliation));
    return lines.length > 0 ? lines.join('\n') : `${this.dataset}: nothing was checked`;
  }

  /**
   * The series with the most anomalies, as it ran; or else invalid records per time bucket, when records had
   * times; or else nothing to draw.
   */
  chart(): ChartBlock | undefined {
    const [series] = [...this.series].sort((a, b) => b.anomalies.length - a.anomalies.length);
    if (series !== undefined && series.points.length > 0) {
      const [min, max] = extent(series.points.map((p) => p.v));
      const count = series.anomalies.length;
      return {
        type: 'chart',
        title: `${series.name} of ${this.dataset}: ${plural(count, 'anomaly', 'anomalies')}`,
        points: series.points.map(({ t, v }) => ({ t, v })),
        summary: {
          min: numberText(min),
          max: numberText(max),
          latest: numberText((series.points[series.points.length - 1] as SeriesPoint).v),
        },
      };
    }
    return this.invalidChart();
  }

  private validPercent(): number {
    if (this.checked === 0) return 100;
    const percent = Math.round((1000 * (this.checked - this.invalid)) / this.checked) / 10;
    // Rounding must not call a set with an invalid record 100% valid.
    return percent === 100 && this.invalid > 0 ? 99.9 : percent;
  }

  private byCheck(): { check: CheckKind; field: string; count: number }[] {
    const counts = new Map<string, { check: CheckKind; field: string; count: number }>();
    for (const { check, field } of this.details) {
      const id = `${check}\u0000${field}`;
      const group = counts.get(id) ?? { check, field, count: 0 };
      group.count++;
      counts.set(id, group);
    }
    return [...counts.values()].sort(
      (a, b) => b.count - a.count || a.check.localeCompare(b.check) || a.field.localeCompare(b.field),
    );
  }

  /** "orders: 1,204 events (1,190 checked), 99.2% valid; 9 violations (6 range amountCents, 3 format …)" */
  private validationLine(): string {
    const checked = this.checked === this.records ? '' : ` (${count(this.checked)} checked)`;
    const head = `${this.dataset}: ${plural(this.records, this.noun)}${checked}, ${this.validPercent()}% valid`;
    if (this.details.length === 0) return `${head}; no violations`;
    const groups = this.byCheck();
    const named = groups
      .slice(0, NAMED_IN_SUMMARY)
      .map((g) => `${count(g.count)} ${g.check}${g.field === '' ? '' : ` ${g.field}`}`);
    if (groups.length > NAMED_IN_SUMMARY) named.push('…');
    return `${head}; ${plural(this.details.length, 'violation')} (${named.join(', ')})`;
  }

  private invalidChart(): ChartBlock | undefined {
    if (this.checkedTimes.length === 0) return undefined;
    const [from, to] = extent(this.checkedTimes);
    const bucket = BUCKETS.find((b) => (to - from) / b.ms < MAX_BUCKETS) ?? WEEK;
    const start = Math.floor(from / bucket.ms) * bucket.ms;
    const counts = new Array<number>(Math.floor((to - start) / bucket.ms) + 1).fill(0);
    for (const t of this.invalidTimes) counts[Math.floor((t - start) / bucket.ms)]!++;
    const [min, max] = extent(counts);
    return {
      type: 'chart',
      title: `invalid ${this.noun}s of ${this.dataset} per ${bucket.name}`,
      points: counts.map((v, i) => ({ t: start + i * bucket.ms, v })),
      summary: {
        min: count(min),
        max: count(max),
        latest: count(counts[counts.length - 1] as number),
      },
    };
  }
}

/** "2 anomalies in amountCents of orders (1 spike, 1 drop); the largest: 412 at … is 6.2 robust σ above …" */
function anomalyLine(dataset: string, series: Series): string {
  const where = `in ${series.name} of ${dataset}`;
  const found = series.anomalies;
  if (found.length === 0) return `no anomalies ${where} (${plural(series.points.length, 'point')})`;
  const spikes = found.filter((a) => a.direction === 'spike').length;
  const kinds = [
    ...(spikes > 0 ? [plural(spikes, 'spike')] : []),
    ...(found.length - spikes > 0 ? [plural(found.length - spikes, 'drop')] : []),
  ];
  const largest = found.reduce((a, b) => (Math.abs(b.score) > Math.abs(a.score) ? b : a));
  const which = found.length === 1 ? '' : 'the largest: ';
  return `${plural(found.length, 'anomaly', 'anomalies')} ${where} (${kinds.join(', ')}); ${which}${largest.explanation}`;
}

/** "customers vs inventory by orderId: 96 matched; 2 missing in inventory, …; 3 mismatched fields (2 quantity, 1 sku)" */
function reconciliationLine(r: Reconciliation): string {
  const head = `${r.leftName} vs ${r.rightName} by ${r.key}: ${count(r.matched)} matched`;
  if (agrees(r)) return `${head}; they agree`;
  const parts = [
    ...(r.missingInRight.length > 0 ? [`${count(r.missingInRight.length)} missing in ${r.rightName}`] : []),
    ...(r.missingInLeft.length > 0 ? [`${count(r.missingInLeft.length)} missing in ${r.leftName}`] : []),
    ...(r.duplicatesInLeft.length > 0
      ? [`${plural(r.duplicatesInLeft.length, 'duplicated key')} in ${r.leftName}`]
      : []),
    ...(r.duplicatesInRight.length > 0
      ? [`${plural(r.duplicatesInRight.length, 'duplicated key')} in ${r.rightName}`]
      : []),
    ...(r.recordsWithoutKey.length > 0
      ? [`${plural(r.recordsWithoutKey.length, 'record')} without a key`]
      : []),
  ];
  if (r.mismatches.length > 0) {
    const byField = new Map<string, number>();
    for (const m of r.mismatches) byField.set(m.field, (byField.get(m.field) ?? 0) + 1);
    const fields = [...byField].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
    const named = fields.slice(0, NAMED_IN_SUMMARY).map(([field, n]) => `${count(n)} ${field}`);
    if (fields.length > NAMED_IN_SUMMARY) named.push('…');
    parts.push(`${plural(r.mismatches.length, 'mismatched field')} (${named.join(', ')})`);
  }
  return `${head}; ${parts.join(', ')}`;
}

/** Smallest and largest, in a loop: spreading 100,000 values into Math.min overflows the stack. */
function extent(values: readonly number[]): [number, number] {
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return [min, max];
}

function count(n: number): string {
  return n.toLocaleString('en-US');
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${count(n)} ${n === 1 ? one : many}`;
}
