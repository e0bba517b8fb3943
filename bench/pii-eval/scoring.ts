/** The scoring rule of bench/pii-eval/README.md ("Scoring rule for `npm run eval:pii`"), per line and per type. */
import { EVAL_TYPES, type EvalType, type LabelledLine, type TypedSpan } from './labelled-set';

export interface Counts {
  tp: number;
  fp: number;
  fn: number;
}

export interface Figures extends Counts {
  /** TP/(TP+FP); undefined when nothing of the type was found (0/0). */
  precision: number | undefined;
  recall: number | undefined;
  f1: number;
}

/** One line's errors: labelled entities no finding matched, findings that matched nothing. */
export interface LineErrors {
  id: string;
  missed: TypedSpan[];
  spurious: TypedSpan[];
}

export interface SetScores {
  byType: Record<EvalType, Figures>;
  /** Micro-averaged over the seven types. */
  overall: Figures;
  hardNegatives: number;
  /** Hard-negative lines with at least one finding of any of the seven types. */
  hardNegativesWithFinding: number;
  /** Lines with at least one error, in set order. */
  errors: LineErrors[];
}

function overlap(a: TypedSpan, b: TypedSpan): number {
  return Math.min(a.end, b.end) - Math.max(a.start, b.start);
}

/** Same type, and the overlap covers at least half of the labelled span. */
export function meetsCriterion(finding: TypedSpan, entity: TypedSpan): boolean {
  return finding.type === entity.type && overlap(finding, entity) >= 0.5 * (entity.end - entity.start);
}

/**
 * Scores one line. Labelled entities are taken in order of start; each takes the unused finding meeting the
 * criterion with the largest overlap (the earlier finding on a tie). An unused finding is a FP unless it meets
 * the criterion for an entity some other finding matched (a duplicate or a split of the same value).
 */
export function scoreLine(
  entities: readonly TypedSpan[],
  findings: readonly TypedSpan[],
): { counts: Record<EvalType, Counts>; missed: TypedSpan[]; spurious: TypedSpan[] } {
  const counts = emptyCounts();
  const used = new Set<number>();
  const matched: TypedSpan[] = [];
  const missed: TypedSpan[] = [];
  for (const entity of [...entities].sort((a, b) => a.start - b.start)) {
    let best = -1;
    let bestOverlap = -Infinity;
    findings.forEach((finding, i) => {
      if (used.has(i) || !meetsCriterion(finding, entity)) return;
      const o = overlap(finding, entity);
      if (o > bestOverlap) [best, bestOverlap] = [i, o];
    });
    if (best >= 0) {
      used.add(best);
      matched.push(entity);
      counts[entity.type].tp++;
    } else {
      missed.push(entity);
      counts[entity.type].fn++;
    }
  }
  const spurious: TypedSpan[] = [];
  findings.forEach((finding, i) => {
    if (used.has(i) || matched.some((entity) => meetsCriterion(finding, entity))) return;
    spurious.push(finding);
    counts[finding.type].fp++;
  });
  return { counts, missed, spurious };
}

/** Scores a detector's findings (one list per line, in set order) against the labelled set. */
export function scoreSet(lines: readonly LabelledLine[], findings: readonly TypedSpan[][]): SetScores {
  const totals = emptyCounts();
  const errors: LineErrors[] = [];
  let hardNegatives = 0;
  let hardNegativesWithFinding = 0;
  lines.forEach((line, i) => {
    const found = findings[i] ?? [];
    const { counts, missed, spurious } = scoreLine(line.entities, found);
    for (const type of EVAL_TYPES) {
      totals[type].tp += counts[type].tp;
      totals[type].fp += counts[type].fp;
      totals[type].fn += counts[type].fn;
    }
    if (line.hardNegative) {
      hardNegatives++;
      if (found.length > 0) hardNegativesWithFinding++;
    }
    if (missed.length > 0 || spurious.length > 0) errors.push({ id: line.id, missed, spurious });
  });
  const overall: Counts = { tp: 0, fp: 0, fn: 0 };
  for (const type of EVAL_TYPES) {
    overall.tp += totals[type].tp;
    overall.fp += totals[type].fp;
    overall.fn += totals[type].fn;
  }
  const byType = Object.fromEntries(EVAL_TYPES.map((type) => [type, figures(totals[type])])) as Record<
    EvalType,
    Figures
  >;
  return { byType, overall: figures(overall), hardNegatives, hardNegativesWithFinding, errors };
}

export function figures(c: Counts): Figures {
  const precision = c.tp + c.fp === 0 ? undefined : c.tp / (c.tp + c.fp);
  const recall = c.tp + c.fn === 0 ? undefined : c.tp / (c.tp + c.fn);
  const f1 = precision && recall ? (2 * precision * recall) / (precision + recall) : 0;
  return { ...c, precision, recall, f1 };
}

function emptyCounts(): Record<EvalType, Counts> {
  return Object.fromEntries(EVAL_TYPES.map((type) => [type, { tp: 0, fp: 0, fn: 0 }])) as Record<
    EvalType,
    Counts
  >;
}
