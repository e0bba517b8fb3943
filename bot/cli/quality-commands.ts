import path from 'node:path';
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import {
  agrees,
  appliesTo,
  detectAnomalies,
  isFieldPath,
  loadRuleSetsFile,
  QualityReport,
  reconcile,
  validateRecord,
  valueAt,
  type Reconciliation,
  type SeriesPoint,
} from '../../engines/quality/data';
import { UsageError } from './exit';
import { readJsonlLines, type JsonlLine } from './jsonl-input';

const VALUE_CHARS = 60;

function print(lines: string | string[]): void {
  process.stdout.write(`${Array.isArray(lines) ? lines.join('\n') : lines}\n`);
}

/** `demo/quality/orders.jsonl` → `orders`: how reports and summaries name a file's data. */
function datasetName(file: string): string {
  return path.basename(file).replace(/\.[^.]*$/, '');
}

function fieldPath(value: string): string {
  if (!isFieldPath(value)) throw new InvalidArgumentError('must be a field path such as customer.email');
  return value;
}

function fieldPaths(value: string): string[] {
  const paths = value.split(',').map((p) => p.trim());
  if (!paths.every(isFieldPath))
    throw new InvalidArgumentError('must be field paths separated by commas, such as quantity,sku');
  return paths;
}

function season(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('must be a whole number, 0 or more');
  return n;
}

function threshold(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('must be a number above 0');
  return n;
}

/** A value as a mismatch line shows it: JSON, cut short. */
function shown(value: unknown): string {
  if (value === undefined) return '(absent)';
  const text = JSON.stringify(value);
  return text.length <= VALUE_CHARS ? text : `${text.slice(0, VALUE_CHARS - 1)}…`;
}

function reconciliationLines(r: Reconciliation, lineOf: Record<'left' | 'right', JsonlLine[]>): string[] {
  return [
    ...(r.missingInRight.length > 0 ? [`missing in ${r.rightName}: ${r.missingInRight.join(', ')}`] : []),
    ...(r.missingInLeft.length > 0 ? [`missing in ${r.leftName}: ${r.missingInLeft.join(', ')}`] : []),
    ...r.duplicatesInLeft.map((d) => `duplicated in ${r.leftName}: ${d.key} (${d.count} records)`),
    ...r.duplicatesInRight.map((d) => `duplicated in ${r.rightName}: ${d.key} (${d.count} records)`),
    ...r.recordsWithoutKey.map(
      ({ side, index }) =>
        `${side === 'left' ? r.leftName : r.rightName} line ${lineOf[side][index]?.line}: no ${r.key}`,
    ),
    ...r.mismatches.map(
      (m) => `${m.key} ${m.field}: ${r.leftName} ${shown(m.left)}, ${r.rightName} ${shown(m.right)}`,
    ),
  ];
}

/** The furthest a JavaScript date reaches either side of 1970, in milliseconds. */
const MAX_TIME_MS = 8.64e15;

/** Epoch milliseconds, or an ISO 8601 string; undefined for anything else. */
function timeOf(value: unknown): number | undefined {
  if (typeof value === 'number') return Math.abs(value) <= MAX_TIME_MS ? value : undefined;
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}/.test(value)) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

function seriesOf(file: string, field: string, timeField: string): SeriesPoint[] {
  const points: SeriesPoint[] = [];
  for (const { line, value } of readJsonlLines(file)) {
    const v = valueAt(value, field);
    if (typeof v !== 'number' || !Number.isFinite(v))
      throw new UsageError(`${file} line ${line}: needs a number in "${field}"`);
    const t = timeOf(valueAt(value, timeField));
    if (t === undefined)
      throw new UsageError(`${file} line ${line}: needs a time in "${timeField}" (epoch ms or ISO 8601)`);
    if (points.length > 0 && t < (points[points.length - 1] as SeriesPoint).t)
      throw new UsageError(
        `${file} line ${line}: earlier than the line before; points must be in time order`,
      );
    points.push({ t, v });
  }
  return points;
}

/**
 * `opsbot quality …`: data quality on files: validation rules over events, reconciliation of two keyed datasets,
 * anomalies in a numeric series. Each exits 0 when nothing was found, 1 when something was, 2 for bad input.
 */
export function registerQualityCommands(program: Command): void {
  const quality = program
    .command('quality')
    .description('data quality: validate events against rules, reconcile datasets, find anomalies');
  const json = ['--json', 'print the quality report as JSON'] as const;

  quality
    .command('validate')
    .description('check every event of a JSONL file against a rule set')
    .requiredOption('--rules <file>', 'the rule set, YAML or JSON')
    .requiredOption('--file <events.jsonl>', 'one event a line')
    .option('--type-field <path>', 'where an event has its type', fieldPath, 'type')
    .option(
      '--data-field <path>',
      'where an event has its payload; the whole event when absent',
      fieldPath,
      'data',
    )
    .option(...json)
    .action(
      (options: { rules: string; file: string; typeField: string; dataField: string; json?: boolean }) => {
        const rules = loadRuleSetsFile(options.rules);
        const report = new QualityReport(datasetName(options.file), 'event');
        const lines: string[] = [];
        for (const { line, value } of readJsonlLines(options.file)) {
          const type = valueAt(value, options.typeField);
          if (typeof type !== 'string' || type === '')
            throw new UsageError(`${options.file} line ${line}: needs a "${options.typeField}" string field`);
          const payload = valueAt(value, options.dataField) ?? value;
          const checked = appliesTo(rules, type);
          const violations = checked ? validateRecord(rules, type, payload) : [];
          report.addValidation(violations, { line, checked });
          lines.push(
            ...violations.map((v) => `line ${line} ${type}: ${v.message} (rules[${v.ruleIndex}] ${v.check})`),
          );
        }
        print(options.json ? JSON.stringify(report.toJSON()) : [...lines, report.summaryText()]);
        if (!report.clean()) process.exitCode = 1;
      },
    );

  quality
    .command('reconcile')
    .description('compare two JSONL datasets by key: missing, duplicated and mismatched records')
    .requiredOption('--left <a.jsonl>', 'one dataset')
    .requiredOption('--right <b.jsonl>', 'the dataset it should agree with')
    .requiredOption('--key <path>', 'the field both are keyed by', fieldPath)
    .option(
      '--fields <paths>',
      'the fields to compare, comma-separated (default: every field both have)',
      fieldPaths,
    )
    .option(...json)
    .action((options: { left: string; right: string; key: string; fields?: string[]; json?: boolean }) => {
      const lineOf = { left: readJsonlLines(options.left), right: readJsonlLines(options.right) };
      const result = reconcile(
        lineOf.left.map((l) => l.value),
        lineOf.right.map((l) => l.value),
        {
          key: options.key,
          fields: options.fields,
          leftName: datasetName(options.left),
          rightName: datasetName(options.right),
        },
      );
      const report = new QualityReport(`${result.leftName} vs ${result.rightName}`);
      report.setReconciliation(result);
      print(
        options.json
          ? JSON.stringify(report.toJSON())
          : [...reconciliationLines(result, lineOf), report.summaryText()],
      );
      if (!agrees(result)) process.exitCode = 1;
    });

  quality
    .command('anomalies')
    .description('find spikes and drops in a numeric series, one point a line, oldest first')
    .requiredOption('--file <series.jsonl>', 'one point a line')
    .requiredOption('--field <path>', 'the number to watch', fieldPath)
    .option('--time-field <path>', 'the time of a point: epoch ms or ISO 8601', fieldPath, 't')
    .option(
      '--season <points>',
      'points per cycle, e.g. 24 for hourly points with a daily cycle (0: none)',
      season,
      0,
    )
    .option('--threshold <z>', 'robust z-score beyond which a point is an anomaly', threshold, 3.5)
    .option(...json)
    .action(
      (options: {
        file: string;
        field: string;
        timeField: string;
        season: number;
        threshold: number;
        json?: boolean;
      }) => {
        const points = seriesOf(options.file, options.field, options.timeField);
        const anomalies = detectAnomalies(points, { season: options.season, threshold: options.threshold });
        const report = new QualityReport(datasetName(options.file));
        report.addAnomalies(options.field, points, anomalies);
        print(
          options.json
            ? JSON.stringify(report.toJSON())
            : [...anomalies.map((a) => a.explanation), report.summaryText()],
        );
        if (anomalies.length > 0) process.exitCode = 1;
      },
    );
}
