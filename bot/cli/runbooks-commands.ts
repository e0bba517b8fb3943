import path from 'node:path';
import type { Command } from 'commander';
import { ServiceCatalog } from '../config/catalog';
import { loadConfig } from '../config/load';
import type { OpsbotConfig } from '../config/schema';
import { Notifier } from '../notify/notifier';
import { Platforms } from '../platform/platforms';
import { configDirOf } from '../runtime';
import type { DefinitionView } from '../server/orchestrator-api';
import type { ActionRegistry } from '../../engines/orchestrator/action';
import { createStandardActions } from '../../engines/orchestrator/actions/standard-actions';
import type { LintProblem } from '../../engines/orchestrator/runbooks/lint-problem';
import { lintRunbooks } from '../../engines/orchestrator/runbooks/runbook-lint';
import { PARAM_OPTION, printPlan, reportStarted, table } from './sagas-commands';
import { addServerOptions, callServer, print } from './server-client';

/**
 * The actions as the server registers them, for their names, input schemas and mutating defaults; nothing
 * behind them works, since lint only reads what a runbook says. The event action is among them whether or not
 * the server has a bus, so a runbook that publishes is checked like any other.
 */
function actionsForLint(config: OpsbotConfig): ActionRegistry {
  const inert = async (): Promise<never> => {
    throw new Error('runbooks lint runs no action');
  };
  return createStandardActions({
    catalog: new ServiceCatalog(config),
    platforms: new Platforms({}),
    probe: { check: inert },
    metrics: { description: 'none (runbooks lint)', query: inert },
    notifier: new Notifier(config.notifications.targets),
    publish: inert,
    shell: config.orchestrator.shell,
    verifyTimeoutMs: config.platform.verifyTimeoutSeconds * 1000,
  });
}

/** `runbooks/x.md:12: error: step restart: unknown action 'restrat' (known: …)`, as compilers print them. */
function problemLine(problem: LintProblem): string {
  const block = problem.block ? `${problem.block.kind} ${problem.block.id}: ` : '';
  return `${problem.file}:${problem.line}: ${problem.severity}: ${block}${problem.message}`;
}

function counted(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

function approvalColumn(runbook: DefinitionView): string {
  const { approval } = runbook.policy;
  return approval.required ? counted(approval.approvers, 'approver') : 'none';
}

/**
 * `opsbot runbooks …`: lint reads the runbook files here, with no server; list, plan and run ask a running
 * server, whose orchestrator owns the runs.
 */
export function registerRunbooksCommands(program: Command): void {
  const runbooks = addServerOptions(
    program
      .command('runbooks')
      .description('check runbook files, and plan and run runbooks on a running opsbot server'),
  );

  runbooks
    .command('list')
    .description('the runbooks the server can run')
    .option('--json', 'print the JSON response body')
    .action(async (options: { json?: boolean }, command: Command) => {
      const answer = await callServer(command, 'GET', '/api/v1/runbooks');
      if (options.json) return print(answer.text);
      const list = (answer.json as { runbooks: DefinitionView[] }).runbooks;
      print(
        list.length === 0
          ? 'no runbooks'
          : table(
              ['ID', 'STEPS', 'RISK', 'APPROVAL', 'TITLE'],
              list.map((r) => [r.id, String(r.steps.length), r.policy.risk, approvalColumn(r), r.title]),
            ),
      );
    });

  runbooks
    .command('lint')
    .description('check runbook files: exit 0 when none has an error, 1 when one has')
    .argument('[dir]', 'the runbooks folder (default: orchestrator.runbooksDir from the configuration)')
    .option('--json', 'print {"runbooks","errors","warnings","problems"} as JSON')
    .action((dir: string | undefined, options: { json?: boolean }) => {
      const loaded = loadConfig();
      const folder =
        dir === undefined
          ? path.resolve(configDirOf(loaded), loaded.config.orchestrator.runbooksDir)
          : path.resolve(dir);
      // File names relative to where the command runs, so a terminal or editor opens them from the output.
      const result = lintRunbooks(folder, actionsForLint(loaded.config), process.cwd());
      const files = new Set([
        ...result.definitions.map((d) => d.source),
        ...result.problems.map((p) => p.file),
      ]);
      const errors = result.problems.filter((p) => p.severity === 'error').length;
      const warnings = result.problems.length - errors;
      if (options.json) {
        print(JSON.stringify({ runbooks: files.size, errors, warnings, problems: result.problems }));
      } else {
        print([
          ...result.problems.map(problemLine),
          `${counted(files.size, 'runbook')}, ${counted(errors, 'error')}, ${counted(warnings, 'warning')}`,
        ]);
      }
      if (errors > 0) process.exitCode = 1;
    });

  runbooks
    .command('plan')
    .description('what a run would do, step by step, with its blast radius and policy; changes nothing')
    .argument('<id>', 'the runbook id, e.g. service-down')
    .option(...PARAM_OPTION)
    .option('--json', 'print the JSON response body')
    .action(
      async (id: string, options: { param?: Record<string, unknown>; json?: boolean }, command: Command) => {
        const answer = await callServer(command, 'POST', `/api/v1/runbooks/${encodeURIComponent(id)}/run`, {
          params: options.param ?? {},
          dryRun: true,
        });
        printPlan(answer, options.json);
      },
    );

  runbooks
    .command('run')
    .description('run a runbook; it may wait for approval first, as its policy says')
    .argument('<id>', 'the runbook id, e.g. service-down')
    .option(...PARAM_OPTION)
    .option('--wait', 'follow the run to its end; exit 0 when it succeeded, 1 otherwise')
    .option('--json', 'print the run as started (as ended with --wait) as JSON')
    .action(
      async (
        id: string,
        options: { param?: Record<string, unknown>; wait?: boolean; json?: boolean },
        command: Command,
      ) => {
        const answer = await callServer(command, 'POST', `/api/v1/runbooks/${encodeURIComponent(id)}/run`, {
          params: options.param ?? {},
        });
        await reportStarted(command, answer, options);
      },
    );
}
