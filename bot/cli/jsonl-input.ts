import { readFileSync } from 'node:fs';
import { UsageError } from './exit';

export interface JsonlFieldOptions {
  /** Refuse a value that is empty or only whitespace: a search for "" has no answer worth printing. */
  nonEmpty?: boolean;
}

/** One parsed line of a JSONL file and its 1-based line number. */
export interface JsonlLine {
  line: number;
  value: unknown;
}

/**
 * Every line of a JSONL file, parsed, with its line number; blank lines are skipped. The whole file is read and
 * checked before anything is returned, so a bad line stops a command before it prints half its output.
 */
export function readJsonlLines(file: string): JsonlLine[] {
  let content: string;
  try {
    content = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  const lines: JsonlLine[] = [];
  content.split('\n').forEach((text, i) => {
    if (text.trim() === '') return;
    try {
      lines.push({ line: i + 1, value: JSON.parse(text) });
    } catch {
      throw new UsageError(`${file} line ${i + 1}: not valid JSON`);
    }
  });
  return lines;
}

/** The string field `field` of every line of a JSONL file, in order, checked like readJsonlLines. */
export function readJsonlField(file: string, field: string, options: JsonlFieldOptions = {}): string[] {
  return readJsonlLines(file).map(({ line, value: record }) => {
    const value = (record as Record<string, unknown> | null)?.[field];
    if (typeof value !== 'string')
      throw new UsageError(`${file} line ${line}: needs a "${field}" string field`);
    if (options.nonEmpty && value.trim() === '')
      throw new UsageError(`${file} line ${line}: "${field}" is empty`);
    return value;
  });
}
