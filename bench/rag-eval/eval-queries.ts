import { readFileSync } from 'node:fs';
import { usageError } from '../../bot/cli/script-args';

/** One line of a retrieval query set: a question and the sources that answer it. */
export interface EvalQuery {
  query: string;
  expected: string[];
  /** file:line, for messages. */
  where: string;
}

/**
 * Reads a query set, one {"query": "...", "expected": ["source/path.md", ...]} per line. A bad line is a
 * usage error naming file:line, so a typo in a query set never silently shrinks it.
 */
export function readEvalQueries(script: string, file: string): EvalQuery[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    usageError(
      script,
      `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  const queries: EvalQuery[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === '') return;
    const where = `${file}:${i + 1}`;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (err) {
      usageError(script, `${where}: not JSON (${(err as Error).message})`);
    }
    const q = value as { query?: unknown; expected?: unknown };
    if (typeof value !== 'object' || value === null || typeof q.query !== 'string' || q.query.trim() === '') {
      usageError(script, `${where}: needs a non-empty "query" string`);
    }
    if (
      !Array.isArray(q.expected) ||
      q.expected.length === 0 ||
      !q.expected.every((e) => typeof e === 'string' && e !== '')
    ) {
      usageError(script, `${where}: needs "expected", a non-empty array of source paths`);
    }
    queries.push({ query: q.query, expected: q.expected as string[], where });
  });
  if (queries.length === 0) usageError(script, `${file} has no queries`);
  return queries;
}
