/**
 * npm run eval:pii -- [--file <labelled.jsonl>] [--json] [--misses]
 *
 * Scores opsbot's PII and secret detection (detectPii at its default threshold) and the npm package
 * redact-pii (its SyncRedactor with the built-in patterns) on the same labelled set in the same run, by the
 * scoring rule of bench/pii-eval/README.md: precision, recall and F1 per type side by side, micro-averaged
 * overall figures, the share of hard-negative lines with a finding, how many findings were dropped because
 * their type is none of the seven, and the issue's targets. --misses lists opsbot's errors by line id and
 * type (never the values: the set is synthetic, but a habit of printing matches is not one to keep).
 */
import path from 'node:path';
import { detectPii } from '../engines/quality/pii';
import { parseArgs } from '../bot/cli/script-args';
import {
  EVAL_TYPES,
  isEvalType,
  LABELLED_SET_FILE,
  readLabelledSet,
  type TypedSpan,
} from './pii-eval/labelled-set';
import { RedactPiiSpans } from './pii-eval/redact-pii-findings';
import { scoreSet, type Figures, type SetScores } from './pii-eval/scoring';

const SCRIPT = 'eval:pii';

const TARGET_F1 = 0.95;
const TARGET_SECRET_RECALL = 0.99;
const TARGET_HARD_NEGATIVE_RATE = 0.01;

interface SystemResult {
  name: string;
  scores: SetScores;
  dropped: Record<string, number>;
}

interface Target {
  name: string;
  value: string;
  /** Null when the set has nothing to judge it on (no secrets, no hard negatives). */
  met: boolean | null;
}

function main(): void {
  const args = parseArgs(SCRIPT, { file: 'string', json: 'flag', misses: 'flag' });
  const file = args.file ?? LABELLED_SET_FILE;
  const lines = readLabelledSet(SCRIPT, file);

  const opsbotDropped: Record<string, number> = {};
  const opsbotFindings = lines.map((line) => {
    const spans: TypedSpan[] = [];
    for (const f of detectPii(line.text)) {
      if (isEvalType(f.type)) spans.push({ type: f.type, start: f.start, end: f.end });
      else opsbotDropped[f.type] = (opsbotDropped[f.type] ?? 0) + 1;
    }
    return spans;
  });
  const redactPii = new RedactPiiSpans();
  const theirDropped: Record<string, number> = {};
  const theirFindings = lines.map((line) => {
    const { findings, dropped } = redactPii.find(line.text);
    for (const [pattern, n] of Object.entries(dropped))
      theirDropped[pattern] = (theirDropped[pattern] ?? 0) + n;
    return findings;
  });
  const ours: SystemResult = {
    name: 'opsbot',
    scores: scoreSet(lines, opsbotFindings),
    dropped: opsbotDropped,
  };
  const theirs: SystemResult = {
    name: 'redact-pii',
    scores: scoreSet(lines, theirFindings),
    dropped: theirDropped,
  };

  const hardRate = (s: SetScores) =>
    s.hardNegatives === 0 ? 0 : s.hardNegativesWithFinding / s.hardNegatives;
  const secret = ours.scores.byType.secret;
  const targets: Target[] = [
    {
      name: `overall F1 ≥ ${TARGET_F1}`,
      value: fmt(ours.scores.overall.f1),
      met: ours.scores.overall.f1 >= TARGET_F1,
    },
    {
      name: `secret recall ≥ ${TARGET_SECRET_RECALL}`,
      value: `${fmt(secret.recall)} (${secret.fn} missed of ${secret.tp + secret.fn})`,
      met: secret.recall === undefined ? null : secret.recall >= TARGET_SECRET_RECALL,
    },
    {
      name: `hard-negative lines with a finding ≤ ${pct(TARGET_HARD_NEGATIVE_RATE)}`,
      value: `${pct(hardRate(ours.scores))} (${ours.scores.hardNegativesWithFinding} of ${ours.scores.hardNegatives})`,
      met: ours.scores.hardNegatives === 0 ? null : hardRate(ours.scores) <= TARGET_HARD_NEGATIVE_RATE,
    },
    {
      name: 'ahead of redact-pii (overall F1)',
      value: `${fmt(ours.scores.overall.f1)} vs ${fmt(theirs.scores.overall.f1)}`,
      met: ours.scores.overall.f1 > theirs.scores.overall.f1,
    },
  ];
  if (targets.some((t) => t.met === false)) process.exitCode = 1;

  const entities = lines.reduce((n, l) => n + l.entities.length, 0);
  const hardNegatives = ours.scores.hardNegatives;
  if (args.json) {
    const system = (r: SystemResult) => ({
      name: r.name,
      byType: r.scores.byType,
      overall: r.scores.overall,
      hardNegativesWithFinding: r.scores.hardNegativesWithFinding,
      hardNegativeRate: hardRate(r.scores),
      dropped: r.dropped,
    });
    console.log(
      JSON.stringify(
        {
          file,
          lines: lines.length,
          entities,
          hardNegatives,
          systems: [system(ours), system(theirs)],
          targets,
          ...(args.misses ? { opsbotErrors: errorsWithoutValues(ours.scores) } : {}),
        },
        // A precision of 0/0 (nothing of the type found) is null rather than a missing key.
        (_key, value: unknown) => (value === undefined ? null : value),
        2,
      ),
    );
    return;
  }

  console.log(
    `opsbot eval:pii — ${lines.length} lines from ${path.relative(process.cwd(), file)} (${entities} entities, ${hardNegatives} hard negatives)`,
  );
  console.log('scoring: bench/pii-eval/README.md (same type, overlap ≥ half of the labelled span)\n');
  const rows: string[][] = [
    ['', '', 'opsbot', '', '', 'redact-pii', '', ''],
    ['type', 'entities', 'P', 'R', 'F1', 'P', 'R', 'F1'],
  ];
  const row = (label: string, a: Figures, b: Figures) => [
    label,
    String(a.tp + a.fn),
    fmt(a.precision),
    fmt(a.recall),
    fmt(a.f1),
    fmt(b.precision),
    fmt(b.recall),
    fmt(b.f1),
  ];
  for (const type of EVAL_TYPES) rows.push(row(type, ours.scores.byType[type], theirs.scores.byType[type]));
  rows.push(row('overall (micro)', ours.scores.overall, theirs.scores.overall));
  const widths = (rows[1] as string[]).map((_, c) => Math.max(...rows.map((r) => (r[c] as string).length)));
  for (const r of rows)
    console.log(
      r
        .map((cell, c) => (c === 0 ? cell.padEnd(widths[c] as number) : cell.padStart(widths[c] as number)))
        .join('  ')
        .trimEnd(),
    );
  console.log('P = TP/(TP+FP) ("—" when nothing of the type was found), R = TP/(TP+FN)\n');

  for (const r of [ours, theirs]) {
    const o = r.scores.overall;
    console.log(
      `${r.name.padEnd(11)} TP ${o.tp}  FP ${o.fp}  FN ${o.fn}  hard-negative lines with a finding: ${r.scores.hardNegativesWithFinding} of ${r.scores.hardNegatives} (${pct(hardRate(r.scores))})`,
    );
  }
  for (const r of [ours, theirs])
    console.log(`${r.name} findings dropped (not one of the seven types): ${droppedLine(r.dropped)}`);

  console.log('\ntargets (opsbot)');
  const nameWidth = Math.max(...targets.map((t) => t.name.length));
  for (const t of targets)
    console.log(
      `  ${t.name.padEnd(nameWidth)}  ${t.value} → ${t.met === null ? 'n/a' : t.met ? 'met' : 'MISSED'}`,
    );

  if (args.misses) {
    const errors = errorsWithoutValues(ours.scores);
    console.log(`\nopsbot errors: ${errors.length} lines`);
    for (const e of errors) {
      const parts = [...e.missed.map((type) => `FN ${type}`), ...e.spurious.map((type) => `FP ${type}`)];
      console.log(`  ${e.id}  ${parts.join(', ')}`);
    }
  }
}

/** Line ids with the types of their misses and false positives; spans and values are left out. */
function errorsWithoutValues(scores: SetScores): { id: string; missed: string[]; spurious: string[] }[] {
  return scores.errors.map((e) => ({
    id: e.id,
    missed: e.missed.map((s) => s.type),
    spurious: e.spurious.map((s) => s.type),
  }));
}

function droppedLine(dropped: Record<string, number>): string {
  const entries = Object.entries(dropped).sort((a, b) => b[1] - a[1]);
  const total = entries.reduce((n, [, k]) => n + k, 0);
  return entries.length === 0 ? '0' : `${total} (${entries.map(([name, n]) => `${name} ${n}`).join(', ')})`;
}

const fmt = (x: number | undefined) => (x === undefined ? '—' : x.toFixed(3));
const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

try {
  main();
} catch (err) {
  console.error(`${SCRIPT}: ${(err as Error).message}`);
  process.exit(1);
}
