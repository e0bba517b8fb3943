import { readFileSync } from 'node:fs';
import path from 'node:path';
import { usageError } from '../../bot/cli/script-args';
import { packageRoot } from '../../bot/core/package-root';
import { PII_TYPES, type PiiType } from '../../engines/quality/pii/finding';

/** The seven types the labelled set is scored on (bench/pii-eval/README.md); `person_name` is out of scope. */
export type EvalType = Exclude<PiiType, 'person_name'>;
export const EVAL_TYPES: readonly EvalType[] = PII_TYPES.filter(
  (type): type is EvalType => type !== 'person_name',
);

/** A typed span in UTF-16 code units, `end` exclusive: a labelled entity or a detector's finding. */
export interface TypedSpan {
  type: EvalType;
  start: number;
  end: number;
}

export interface LabelledLine {
  id: string;
  source: string;
  text: string;
  entities: TypedSpan[];
  hardNegative: boolean;
}

export const LABELLED_SET_FILE = path.join(packageRoot(), 'bench', 'pii-eval', 'labelled.jsonl');

export function isEvalType(value: unknown): value is EvalType {
  return typeof value === 'string' && (EVAL_TYPES as readonly string[]).includes(value);
}

/**
 * Reads a labelled set, one {"id", "source", "text", "entities", "hardNegative"} per line. A malformed line
 * (bad JSON, an unknown type, a span outside the text, entities on a hard negative) is a usage error naming
 * file:line, so an edit to the set never silently changes what is scored.
 */
export function readLabelledSet(script: string, file: string): LabelledLine[] {
  let content: string;
  try {
    content = readFileSync(file, 'utf8');
  } catch (err) {
    usageError(
      script,
      `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  const lines: LabelledLine[] = [];
  content.split(/\r?\n/).forEach((raw, i) => {
    if (raw.trim() === '') return;
    const where = `${file}:${i + 1}`;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (err) {
      usageError(script, `${where}: not JSON (${(err as Error).message})`);
    }
    const line = value as Partial<Record<keyof LabelledLine, unknown>>;
    if (typeof value !== 'object' || value === null || typeof line.id !== 'string' || line.id === '')
      usageError(script, `${where}: needs a non-empty "id" string`);
    if (typeof line.text !== 'string') usageError(script, `${where}: needs a "text" string`);
    if (!Array.isArray(line.entities)) usageError(script, `${where}: needs an "entities" array`);
    const text = line.text;
    const entities = line.entities.map((e: unknown, k): TypedSpan => {
      const span = e as Partial<Record<keyof TypedSpan, unknown>>;
      if (
        typeof e !== 'object' ||
        e === null ||
        !isEvalType(span.type) ||
        !Number.isInteger(span.start) ||
        !Number.isInteger(span.end) ||
        (span.start as number) < 0 ||
        (span.end as number) <= (span.start as number) ||
        (span.end as number) > text.length
      ) {
        usageError(
          script,
          `${where}: entity ${k} needs a type among ${EVAL_TYPES.join(', ')} and 0 <= start < end <= text length`,
        );
      }
      return { type: span.type, start: span.start as number, end: span.end as number };
    });
    const hardNegative = line.hardNegative === true;
    if (hardNegative && entities.length > 0) usageError(script, `${where}: a hard negative has no entities`);
    lines.push({
      id: line.id,
      source: typeof line.source === 'string' ? line.source : '',
      text,
      entities,
      hardNegative,
    });
  });
  if (lines.length === 0) usageError(script, `${file} has no lines`);
  return lines;
}
