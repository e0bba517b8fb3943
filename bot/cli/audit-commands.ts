import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { readLastLines } from '../../engines/audit/hash-chained-audit-log';
import { verifyAuditLog } from '../../engines/audit/verify-audit-log';
import { loadConfig } from '../config/load';
import { configDirOf } from '../runtime';
import { UsageError } from './exit';

const DETAILS_CHARS = 120;

function headHash(value: string): string {
  if (!/^[0-9a-fA-F]{64}$/.test(value))
    throw new InvalidArgumentError(
      'must be a sha256 hash: 64 hex digits, as `opsbot audit verify` prints it',
    );
  return value.toLowerCase();
}

function lineCount(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 10_000)
    throw new InvalidArgumentError('must be a whole number from 1 to 10000');
  return n;
}

/** --file, or orchestrator.auditLog under stateDir as the server resolves it. */
function auditLogFile(file: string | undefined): string {
  if (file !== undefined) return path.resolve(file);
  const loaded = loadConfig();
  const { stateDir, orchestrator } = loaded.config;
  return path.resolve(configDirOf(loaded), stateDir, orchestrator.auditLog);
}

function print(lines: string | string[]): void {
  process.stdout.write(`${Array.isArray(lines) ? lines.join('\n') : lines}\n`);
}

function truncated(text: string): string {
  return text.length <= DETAILS_CHARS ? text : `${text.slice(0, DETAILS_CHARS - 1)}…`;
}

/** `16 2025-05-01T10:00:00.000Z web:alice service.restart succeeded payments in production run r-1 {"ms":1840}` */
function recordLine(text: string): string {
  let record: { seq?: unknown; at?: unknown; entry?: Record<string, unknown> };
  try {
    record = JSON.parse(text) as typeof record;
  } catch {
    return `(not a record) ${truncated(text)}`;
  }
  const entry = record.entry ?? {};
  const labelled = (label: string, value: unknown) =>
    value === undefined ? [] : [`${label} ${String(value)}`];
  return [
    String(record.seq),
    String(record.at),
    String(entry.actor),
    String(entry.action),
    String(entry.phase),
    ...(entry.service === undefined ? [] : [String(entry.service)]),
    ...labelled('in', entry.environment),
    ...labelled('run', entry.runId),
    ...labelled('step', entry.stepId),
    ...labelled('approval', entry.approvalId),
    ...(entry.details === undefined ? [] : [truncated(JSON.stringify(entry.details))]),
  ].join(' ');
}

/**
 * `opsbot audit …`: the orchestrator's hash-chained audit log, read straight from its file (it never needs the
 * server). verify exits 0 when the log is intact, 1 when it was tampered with, 2 for bad input.
 */
export function registerAuditCommands(program: Command): void {
  const audit = program
    .command('audit')
    .description('the tamper-evident audit log of runs, steps, approvals and actions');
  const file = ['--file <path>', 'the audit log (default: orchestrator.auditLog under stateDir)'] as const;

  audit
    .command('verify')
    .description('check the hash chain: finds any record edited, removed or reordered')
    .option(...file)
    .option(
      '--expect-head <hash>',
      'a head printed by an earlier verify: also finds records removed from the end',
      headHash,
    )
    .option('--json', 'print {"ok","records","head","firstBad"} as JSON')
    .action(async (options: { file?: string; expectHead?: string; json?: boolean }) => {
      const result = await verifyAuditLog(auditLogFile(options.file), { expectHead: options.expectHead });
      if (options.json) print(JSON.stringify(result));
      else if (result.firstBad) {
        const { line, seq, reason } = result.firstBad;
        print(`audit log TAMPERED at line ${line} (seq ${seq}): ${reason}`);
      } else {
        const records = `${result.records.toLocaleString('en-US')} record${result.records === 1 ? '' : 's'}`;
        print(`audit log intact: ${records}${result.head ? `, head ${result.head}` : ''}`);
      }
      if (!result.ok) process.exitCode = 1;
    });

  audit
    .command('tail')
    .description('the most recent records, oldest first')
    .option(...file)
    .option('-n, --lines <count>', 'how many', lineCount, 20)
    .option('--json', 'print the records as they are in the file, one JSON object a line')
    .action((options: { file?: string; lines: number; json?: boolean }) => {
      const logFile = auditLogFile(options.file);
      if (!existsSync(logFile)) throw new UsageError(`no audit log at ${logFile}`);
      const { lines } = readLastLines(logFile, options.lines);
      // As JSON Lines, an empty log is no lines at all.
      if (lines.length === 0) return options.json ? undefined : print('no audit records');
      print(options.json ? lines : lines.map(recordLine));
    });
}
