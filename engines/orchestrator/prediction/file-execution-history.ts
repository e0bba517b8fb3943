import { closeSync, existsSync, fstatSync, mkdirSync, openSync, readSync } from 'node:fs';
import { appendFile, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../../../bot/core/logger';
import type { ExecutionHistory } from '../risk';
import type { RunStatus, WorkflowRun } from '../run';
import type { WorkflowKind } from '../workflow';
import type { OutcomeCount, RunOutcomes } from './run-features';

/** Under stateDir. */
export const HISTORY_FILE = path.join('orchestrator', 'history.jsonl');

/** One finished run, one line of the history file. */
export interface HistoryRecord {
  runId: string;
  definitionId: string;
  kind: WorkflowKind;
  status: RunStatus;
  startedAt: string;
  endedAt: string;
  steps: number;
  /** Services named by its parameters and step inputs. */
  services: string[];
  /** The failure model's features as computed when it started, when it was scored. */
  features?: Record<string, number>;
  failed: boolean;
}

/**
 * Whether a run that reached `status` failed: succeeded no, compensated or failed yes. Undefined for runs a
 * person or a clock stopped (cancelled, denied, expired): they say nothing about whether the run would have
 * worked, so they are neither features nor training labels.
 */
export function runFailed(status: RunStatus): boolean | undefined {
  if (status === 'succeeded') return false;
  if (status === 'compensated' || status === 'failed') return true;
  return undefined;
}

const DEFAULT_OUTCOMES_PER_DEFINITION = 10;
const HOUR_MS = 3_600_000;

/**
 * The recent outcomes the features need, in memory: each definition's last `perDefinition` runs and every run
 * that ended in the last hour, with running counts so a lookup costs the same however busy the hour was.
 * Runs are expected roughly in the order they end; the hour is pruned as `inLastHour` is asked about later
 * times, so asking about an earlier time than before undercounts.
 */
export class RecentOutcomes implements RunOutcomes {
  private readonly byDefinition = new Map<string, boolean[]>();
  /** Ended-at times (epoch ms) and outcomes of the hour, oldest first from `head`. */
  private readonly endedAt: number[] = [];
  private readonly failedFlags: boolean[] = [];
  private head = 0;
  private hourTotal = 0;
  private hourFailed = 0;

  constructor(
    readonly perDefinition = DEFAULT_OUTCOMES_PER_DEFINITION,
    private readonly windowMs = HOUR_MS,
  ) {}

  add(definitionId: string, endedAt: number, failed: boolean): void {
    const outcomes = this.byDefinition.get(definitionId) ?? [];
    outcomes.push(failed);
    if (outcomes.length > this.perDefinition) outcomes.shift();
    this.byDefinition.set(definitionId, outcomes);
    this.endedAt.push(endedAt);
    this.failedFlags.push(failed);
    this.hourTotal += 1;
    if (failed) this.hourFailed += 1;
  }

  ofDefinition(definitionId: string): OutcomeCount {
    const outcomes = this.byDefinition.get(definitionId) ?? [];
    return { failed: outcomes.filter(Boolean).length, total: outcomes.length };
  }

  inLastHour(now: Date): OutcomeCount {
    const cutoff = now.getTime() - this.windowMs;
    while (this.head < this.endedAt.length && (this.endedAt[this.head] as number) <= cutoff) {
      this.hourTotal -= 1;
      if (this.failedFlags[this.head]) this.hourFailed -= 1;
      this.head += 1;
    }
    // Drop the pruned prefix once it is most of the arrays, so memory follows the hour, not the uptime.
    if (this.head > 1024 && this.head * 2 > this.endedAt.length) {
      this.endedAt.splice(0, this.head);
      this.failedFlags.splice(0, this.head);
      this.head = 0;
    }
    return { failed: this.hourFailed, total: this.hourTotal };
  }
}

export interface FileExecutionHistoryOptions {
  stateDir: string;
  perDefinition?: number;
  /** Lines wait at most this long before they are appended; a burst of runs ending costs one write. */
  flushMs?: number;
  /** How much of the file's end is read at start-up for the recent outcomes. */
  tailBytes?: number;
  logger?: Logger;
}

const DEFAULT_FLUSH_MS = 1000;
/** A flush starts at once past this many waiting lines, which bounds the buffer under a flood of runs. */
const MAX_BUFFERED_LINES = 500;
/** About ten thousand runs: far more than an hour of a busy orchestrator, and quick to parse. */
const DEFAULT_TAIL_BYTES = 4 * 1024 * 1024;

/**
 * Execution history as JSON lines under stateDir, one per finished run. Lines are buffered and appended in
 * batches off the run's path: a crash loses at most the last `flushMs` of history, which only the failure
 * model's statistics would have used. Limits, by design: one process appends, and the file only grows
 * (a line is a few hundred bytes; rotate or truncate it like a log).
 */
export class FileExecutionHistory implements ExecutionHistory, RunOutcomes {
  readonly file: string;
  private readonly recent: RecentOutcomes;
  private readonly flushMs: number;
  private readonly logger?: Logger;
  private buffered: string[] = [];
  private timer?: NodeJS.Timeout;
  private writing: Promise<void> = Promise.resolve();

  constructor(options: FileExecutionHistoryOptions) {
    this.file = path.join(options.stateDir, HISTORY_FILE);
    this.flushMs = options.flushMs ?? DEFAULT_FLUSH_MS;
    this.logger = options.logger;
    this.recent = new RecentOutcomes(options.perDefinition);
    mkdirSync(path.dirname(this.file), { recursive: true });
    for (const record of readTail(this.file, options.tailBytes ?? DEFAULT_TAIL_BYTES)) this.remember(record);
  }

  /** `features` default to those the assessor returned with the run's risk (FailureRiskAssessment). */
  record(run: WorkflowRun, features = scoredFeatures(run)): void {
    const failed = runFailed(run.status);
    if (failed === undefined) return;
    const endedAt = run.endedAt ?? run.updatedAt;
    const record: HistoryRecord = {
      runId: run.id,
      definitionId: run.definitionId,
      kind: run.kind,
      status: run.status,
      startedAt: run.steps.find((step) => step.startedAt)?.startedAt ?? run.createdAt,
      endedAt,
      steps: run.steps.length,
      services: servicesOf(run),
      ...(features ? { features } : {}),
      failed,
    };
    this.remember(record);
    this.buffered.push(`${JSON.stringify(record)}\n`);
    if (this.buffered.length >= MAX_BUFFERED_LINES) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), this.flushMs).unref();
  }

  ofDefinition(definitionId: string): OutcomeCount {
    return this.recent.ofDefinition(definitionId);
  }

  inLastHour(now: Date): OutcomeCount {
    return this.recent.inLastHour(now);
  }

  /** Appends what is buffered; resolves once every line recorded so far is in the file. Never rejects. */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const lines = this.buffered.join('');
    this.buffered = [];
    if (lines) {
      this.writing = this.writing.then(() =>
        appendFile(this.file, lines).catch((err: unknown) =>
          // History feeds statistics, never a run's outcome: a full disk must not fail runs.
          this.logger?.warn({ err, file: this.file }, 'could not append to the execution history'),
        ),
      );
    }
    return this.writing;
  }

  close(): Promise<void> {
    return this.flush();
  }

  private remember(record: HistoryRecord): void {
    this.recent.add(record.definitionId, Date.parse(record.endedAt), record.failed);
  }
}

/** Every record of a history file, oldest first, for training; a line torn by a crash is skipped. */
export async function readHistory(file: string): Promise<HistoryRecord[]> {
  return parseLines(await readFile(file, 'utf8'));
}

/** The records in the last `bytes` of the file; the first, probably partial, line of the tail is skipped. */
function readTail(file: string, bytes: number): HistoryRecord[] {
  if (!existsSync(file)) return [];
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    const length = Math.min(size, bytes);
    const buffer = Buffer.alloc(length);
    readSync(fd, buffer, 0, length, size - length);
    const text = buffer.toString('utf8');
    return parseLines(length < size ? text.slice(text.indexOf('\n') + 1) : text);
  } finally {
    closeSync(fd);
  }
}

function parseLines(text: string): HistoryRecord[] {
  const records: HistoryRecord[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    try {
      const record = JSON.parse(line) as HistoryRecord;
      if (isHistoryRecord(record)) records.push(record);
    } catch {
      // A torn last line from a crash.
    }
  }
  return records;
}

function isHistoryRecord(value: unknown): value is HistoryRecord {
  const record = value as Partial<HistoryRecord> | null;
  return (
    typeof record === 'object' &&
    record !== null &&
    typeof record.definitionId === 'string' &&
    typeof record.endedAt === 'string' &&
    typeof record.failed === 'boolean'
  );
}

/** The features kept with the run's risk assessment, when the assessor that scored it returned them. */
function scoredFeatures(run: WorkflowRun): Record<string, number> | undefined {
  const features = (run.risk as { features?: unknown } | undefined)?.features;
  if (typeof features !== 'object' || features === null) return undefined;
  const entries = Object.entries(features);
  return entries.every(([, v]) => typeof v === 'number')
    ? (Object.fromEntries(entries) as Record<string, number>)
    : undefined;
}

/** Services a run names: a `service` or `services` parameter or step input, the convention of the actions. */
function servicesOf(run: WorkflowRun): string[] {
  const services = new Set<string>();
  for (const inputs of [run.params, ...run.steps.map((step) => step.inputs ?? {})]) {
    const { service, services: many } = inputs;
    if (typeof service === 'string') services.add(service);
    if (Array.isArray(many)) for (const name of many) if (typeof name === 'string') services.add(name);
  }
  return [...services];
}
