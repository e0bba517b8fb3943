import { readFileSync } from 'node:fs';
import { UsageError } from './exit';

export interface JsonlFieldOptions {
  /** Refuse a value that is empty or only whitespace: a search for "" has no answer worth printing. */
  nonEmpty?: boolean;
}

/**
 * The string field `field` of every line of a JSONL file, in order; blank lines are skipped. Every line is
 * checked before anything is returned, so a bad line stops a command before it prints half its output.
 */
export function readJsonlField(file: string, field: string, options: JsonlFieldOptions = {}): string[] {
  let content: string;
  try {
    content = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  const values: string[] = [];
  content.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    let record: unknown;
    try {
      record = JSON.parse(line);
    } catch {
      throw new UsageError(`${file} line ${i + 1}: not valid JSON`);
    }
    const value = (record as Record<string, unknown> | null)?.[field];
    if (typeof value !== 'string')
      throw new UsageError(`${file} line ${i + 1}: needs a "${field}" string field`);
    if (options.nonEmpty && value.trim() === '')
      throw new UsageError(`${file} line ${i + 1}: "${field}" is empty`);
    values.push(value);
  });
  return values;
}
