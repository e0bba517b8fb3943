/**
 * One thing wrong with a runbook file. An error keeps the runbook from being run; a warning is reported and
 * the runbook still loads.
 */
export interface LintProblem {
  /** The file as given to the parser ("runbooks/service-down.md"). */
  file: string;
  /** 1-based. */
  line: number;
  /** The fenced block it is about, when it is about one. */
  block?: { kind: 'step' | 'undo'; id: string };
  message: string;
  severity: 'error' | 'warning';
}

/** `runbooks/x.md:12: step restart: unknown action 'restrat' (known: …)`, warnings marked as such. */
export function formatProblem(problem: LintProblem): string {
  const severity = problem.severity === 'warning' ? 'warning: ' : '';
  const block = problem.block ? `${problem.block.kind} ${problem.block.id}: ` : '';
  return `${problem.file}:${problem.line}: ${severity}${block}${problem.message}`;
}

/** File order, then line order: how `runbooks lint` lists them. */
export function compareProblems(a: LintProblem, b: LintProblem): number {
  return a.file.localeCompare(b.file) || a.line - b.line;
}
