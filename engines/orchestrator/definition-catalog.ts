import { existsSync } from 'node:fs';
import type { Logger } from '../../bot/core/logger';
import type { ActionRegistry } from './action';
import { lintRunbooks } from './runbooks/runbook-lint';
import { loadSagas } from './sagas/saga-loader';
import type { WorkflowDefinition } from './workflow';

/**
 * The runbooks and sagas the orchestrator can run, read from their folders. A file with an error is left out
 * (never run half-understood) and counted, so /readyz and `opsbot runbooks lint` point at it.
 */
export class DefinitionCatalog {
  private definitions: WorkflowDefinition[] = [];
  private problems = 0;

  constructor(
    private readonly options: {
      runbooksDir: string;
      sagasDir: string;
      relativeTo: string;
      actions: ActionRegistry;
      logger: Logger;
    },
  ) {
    this.reload();
  }

  /** Reads both folders again. */
  reload(): void {
    const { runbooksDir, sagasDir, relativeTo, actions, logger } = this.options;
    const runbooks = existsSync(runbooksDir)
      ? lintRunbooks(runbooksDir, actions, relativeTo)
      : { definitions: [], problems: [] };
    const sagas = existsSync(sagasDir)
      ? loadSagas(sagasDir, relativeTo, actions)
      : { definitions: [], problems: [] };
    const errors = [...runbooks.problems, ...sagas.problems].filter((p) => p.severity === 'error');
    for (const problem of errors) {
      logger.warn({ file: problem.file, line: problem.line }, `definition left out: ${problem.message}`);
    }
    this.problems = errors.length;
    this.definitions = [...runbooks.definitions, ...sagas.definitions];
  }

  all(): readonly WorkflowDefinition[] {
    return this.definitions;
  }

  summary(): { runbooks: number; runnable: number; sagas: number; problems: number } {
    return {
      runbooks: this.definitions.filter((d) => d.kind === 'runbook').length,
      runnable: this.definitions.filter((d) => d.kind === 'runbook' && d.steps.length > 0).length,
      sagas: this.definitions.filter((d) => d.kind === 'saga').length,
      problems: this.problems,
    };
  }
}
