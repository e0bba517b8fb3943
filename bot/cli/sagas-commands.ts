import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { planReply, runReply } from '../skills/plan-reply';
import type { RunPlan } from '../../engines/orchestrator/orchestrator';
import { FINAL_STATUSES, type RunStatus, type WorkflowRun } from '../../engines/orchestrator/run';
import { RUN_STATUSES } from '../server/orchestrator-api';
import { UsageError } from './exit';
import { addServerOptions, callServer, limit, print, type Answer } from './server-client';

/** How often `--wait` asks for the run: a step takes seconds, so a second apart is prompt enough. */
const WAIT_POLL_MS = 1_000;
/** `--param` names: what a parameter schema's properties are called. */
const PARAM_NAME = /^[A-Za-z_][A-Za-z0-9_-]*$/;

function statuses(value: string): string {
  const unknown = value.split(',').filter((s) => !RUN_STATUSES.includes(s.trim() as RunStatus));
  if (unknown.length > 0)
    throw new InvalidArgumentError(`a comma-separated list of ${RUN_STATUSES.join(', ')}`);
  return value;
}

/**
 * `--param name=value`, repeatable: the value is JSON when it parses as JSON (`replicas=3`, `dry=true`,
 * `items=["a"]`), the text as written otherwise (`service=payments`).
 */
function collectParam(value: string, previous: Record<string, unknown> = {}): Record<string, unknown> {
  const eq = value.indexOf('=');
  if (eq < 0) throw new InvalidArgumentError(`"${value}" is not name=value`);
  const name = value.slice(0, eq);
  if (!PARAM_NAME.test(name))
    throw new InvalidArgumentError(`"${name}" is not a parameter name (letters, digits, _ and -)`);
  if (Object.hasOwn(previous, name)) throw new InvalidArgumentError(`${name} is given twice`);
  const text = value.slice(eq + 1);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = text;
  }
  return { ...previous, [name]: parsed };
}

export const PARAM_OPTION = [
  '--param <name=value>',
  'a parameter, repeatable; values are JSON when they parse as JSON, text otherwise',
  collectParam,
] as const;

/** Columns padded to their widest cell, a header row first; the last column is not padded. */
export function table(header: string[], rows: string[][]): string[] {
  const all = [header, ...rows];
  const widths = header.map((_, column) => Math.max(...all.map((row) => (row[column] ?? '').length)));
  return all.map((row) =>
    row
      .map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)))
      .join('  ')
      .trimEnd(),
  );
}

export function printPlan(answer: Answer, json: boolean | undefined): void {
  print(json ? answer.text : planReply((answer.json as { plan: RunPlan }).plan).text);
}

/**
 * What `start`/`run` print: the run's id and status, and how to approve it when it waits for that. With
 * `wait`, it then follows the run to its end and prints it; the exit code says whether it succeeded, so a
 * script can chain on it. With `json`, the run as the server sent it instead: as started, or as it ended.
 */
export async function reportStarted(
  command: Command,
  answer: Answer,
  options: { wait?: boolean; json?: boolean },
): Promise<void> {
  let run = (answer.json as { run: WorkflowRun }).run;
  if (options.json && !options.wait) return print(answer.text);
  if (!options.json) {
    print(`${run.id} ${run.status.replaceAll('_', ' ')}`);
    if (run.approvalId) print(`waits for approval ${run.approvalId}: "approve ${run.approvalId}" in chat`);
  }
  if (!options.wait) return;
  while (!FINAL_STATUSES.has(run.status)) {
    await new Promise((resolve) => setTimeout(resolve, WAIT_POLL_MS));
    run = (await callServer(command, 'GET', `/api/v1/sagas/${encodeURIComponent(run.id)}`))
      .json as WorkflowRun;
  }
  print(options.json ? JSON.stringify(run) : runReply(run).text);
  if (run.status !== 'succeeded') process.exitCode = 1;
}

function runRow(run: WorkflowRun): string[] {
  return [run.id, run.kind, run.definitionId, run.status.replaceAll('_', ' '), run.actor, run.createdAt];
}

/**
 * `opsbot sagas …`: runs of sagas (and of runbooks, which are runs too) through a running server's REST API;
 * the runs belong to the server's orchestrator, so this never opens its store itself.
 */
export function registerSagasCommands(program: Command): void {
  const sagas = addServerOptions(
    program.command('sagas').description('start sagas and follow runs on a running opsbot server'),
  );
  const json = ['--json', 'print the JSON response body'] as const;

  sagas
    .command('list')
    .description('saga runs, newest first')
    .option('--all', 'runbook runs too')
    .option('--status <statuses>', `only these, comma-separated: ${RUN_STATUSES.join(', ')}`, statuses)
    .option('-n, --limit <count>', 'how many (default 50)', limit)
    .option(...json)
    .action(
      async (
        options: { all?: boolean; status?: string; limit?: number; json?: boolean },
        command: Command,
      ) => {
        const query = new URLSearchParams({ kind: options.all ? 'all' : 'saga' });
        if (options.status !== undefined) query.set('status', options.status);
        if (options.limit !== undefined) query.set('limit', String(options.limit));
        const answer = await callServer(command, 'GET', `/api/v1/sagas?${query}`);
        if (options.json) return print(answer.text);
        const { runs } = answer.json as { runs: WorkflowRun[] };
        print(
          runs.length === 0
            ? 'no runs'
            : table(['ID', 'KIND', 'DEFINITION', 'STATUS', 'STARTED BY', 'STARTED'], runs.map(runRow)),
        );
      },
    );

  sagas
    .command('show')
    .description('one run, saga or runbook: its status, each step, its approval')
    .argument('<id>', 'the run id')
    .option(...json)
    .action(async (id: string, options: { json?: boolean }, command: Command) => {
      const answer = await callServer(command, 'GET', `/api/v1/sagas/${encodeURIComponent(id)}`);
      print(options.json ? answer.text : runReply(answer.json as WorkflowRun).text);
    });

  sagas
    .command('start')
    .description('start a saga (a plan only, with --dry-run)')
    .argument('<saga>', 'the saga id, e.g. order-fulfillment')
    .option(...PARAM_OPTION)
    .option('--dry-run', 'print the plan and start nothing')
    .option('--wait', 'follow the run to its end; exit 0 when it succeeded, 1 otherwise')
    .option('--json', 'print the plan, or the run as started (as ended with --wait), as JSON')
    .action(
      async (
        saga: string,
        options: { param?: Record<string, unknown>; dryRun?: boolean; wait?: boolean; json?: boolean },
        command: Command,
      ) => {
        if (options.dryRun && options.wait)
          throw new UsageError('--wait follows a run; --dry-run starts none');
        const answer = await callServer(command, 'POST', '/api/v1/sagas/start', {
          saga,
          params: options.param ?? {},
          dryRun: options.dryRun === true,
        });
        if (options.dryRun) return printPlan(answer, options.json);
        await reportStarted(command, answer, options);
      },
    );
}
