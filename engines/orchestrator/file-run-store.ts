import path from 'node:path';
import { KeyedSerialQueue } from '../../bot/core/keyed-serial-queue';
import { AppendJournal, type JournalSync } from './append-journal';
import type { Approval } from './approval';
import { FINAL_STATUSES, type WorkflowRun } from './run';
import { StaleRunError, type RunQuery, type RunStore } from './run-store';

/** One line of the journal. */
type JournalEntry = { run: WorkflowRun } | { approval: Approval } | { key: string; runId: string | null };

/** The journal is rewritten with the live state once it holds this many times more bytes than that state. */
const COMPACT_GROWTH = 4;
const MIN_COMPACT_BYTES = 8 * 1024 * 1024;

/**
 * The embedded run store: every run, approval and dedup key in memory, every change appended to
 * `<dir>/runs.jsonl` before `save` resolves (group commit), replayed on start. One process owns the directory:
 * that is what lets a restarted opsbot take over every run that was running. Limits, by design: a single
 * process, and finished runs beyond `keepFinished` are forgotten at compaction (their audit records and
 * history rows remain).
 */
export class FileRunStore implements RunStore {
  readonly kind = 'file';
  readonly shared = false;
  /** Each run as its last journal line, parsed only when read: most runs are written far more than read. */
  private readonly runs = new Map<string, StoredRun>();
  private readonly approvals = new Map<string, Approval>();
  private readonly keys = new Map<string, string>();
  private readonly journal: AppendJournal;
  private readonly approvalQueue = new KeyedSerialQueue();
  private compacting?: Promise<void>;

  constructor(
    dir: string,
    private readonly options: { sync?: JournalSync; keepFinished?: number } = {},
  ) {
    this.journal = AppendJournal.open(path.join(dir, 'runs.jsonl'), options.sync ?? 'always', (line) =>
      this.apply(JSON.parse(line) as JournalEntry),
    );
  }

  async get(id: string): Promise<WorkflowRun | undefined> {
    const stored = this.runs.get(id);
    return stored && parseRun(stored.line);
  }

  async save(run: WorkflowRun): Promise<void> {
    const found = this.runs.get(run.id)?.version ?? 0;
    if (found !== run.version - 1) throw new StaleRunError(run.id, run.version - 1, found);
    const line = JSON.stringify({ run });
    this.runs.set(run.id, storedRun(run, line));
    await this.journal.append(line);
    this.compactWhenGrown();
  }

  async list(query: RunQuery = {}): Promise<WorkflowRun[]> {
    const statuses = query.statuses && new Set(query.statuses);
    const found: StoredRun[] = [];
    for (const run of this.runs.values()) {
      if (query.kind && run.kind !== query.kind) continue;
      if (query.definitionId && run.definitionId !== query.definitionId) continue;
      if (statuses && !statuses.has(run.status)) continue;
      found.push(run);
    }
    found.sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0));
    return found.slice(0, query.limit ?? found.length).map((run) => parseRun(run.line));
  }

  async activeFor(key: string): Promise<string | undefined> {
    return this.keys.get(key);
  }

  async claimKey(key: string, runId: string): Promise<boolean> {
    const holder = this.keys.get(key);
    if (holder !== undefined && holder !== runId) return false;
    this.keys.set(key, runId);
    await this.journal.append(JSON.stringify({ key, runId }));
    return true;
  }

  async releaseKey(key: string, runId: string): Promise<void> {
    if (this.keys.get(key) !== runId) return;
    this.keys.delete(key);
    await this.journal.append(JSON.stringify({ key, runId: null }));
  }

  async getApproval(id: string): Promise<Approval | undefined> {
    const approval = this.approvals.get(id);
    return approval && structuredClone(approval);
  }

  async createApproval(approval: Approval): Promise<void> {
    if (this.approvals.has(approval.id)) throw new Error(`approval ${approval.id} already exists`);
    await this.writeApproval(approval);
  }

  updateApproval(
    id: string,
    change: (approval: Approval) => Approval | undefined,
  ): Promise<{ before: Approval; after: Approval } | undefined> {
    return this.approvalQueue.run(id, async () => {
      const stored = this.approvals.get(id);
      if (!stored) return undefined;
      const before = structuredClone(stored);
      const after = change(structuredClone(stored));
      if (!after) return { before, after: before };
      await this.writeApproval(after);
      return { before, after: structuredClone(after) };
    });
  }

  async pendingApprovals(): Promise<Approval[]> {
    return [...this.approvals.values()].filter((a) => a.status === 'pending').map((a) => structuredClone(a));
  }

  async close(): Promise<void> {
    await this.compacting;
    await this.journal.close();
  }

  private async writeApproval(approval: Approval): Promise<void> {
    const line = JSON.stringify({ approval });
    this.approvals.set(approval.id, JSON.parse(line).approval as Approval);
    await this.journal.append(line);
  }

  private apply(entry: JournalEntry): void {
    if ('run' in entry) this.runs.set(entry.run.id, storedRun(entry.run, JSON.stringify({ run: entry.run })));
    else if ('approval' in entry) this.approvals.set(entry.approval.id, entry.approval);
    else if (entry.runId === null) this.keys.delete(entry.key);
    else this.keys.set(entry.key, entry.runId);
  }

  private compactWhenGrown(): void {
    if (this.compacting || this.journal.size < MIN_COMPACT_BYTES) return;
    const liveBytes = this.runs.size * 1024;
    if (this.journal.size < liveBytes * COMPACT_GROWTH) return;
    this.compacting = this.journal
      .compact(() => this.liveLines())
      .finally(() => (this.compacting = undefined));
  }

  /** The state as lines, dropping the oldest finished runs (and their decided approvals) past the limit. */
  private liveLines(): string[] {
    const keep = this.options.keepFinished ?? 10_000;
    const finished = [...this.runs.values()]
      .filter((run) => FINAL_STATUSES.has(run.status))
      .sort((a, b) => (a.updatedAt < b.updatedAt ? -1 : 1));
    for (const run of finished.slice(0, Math.max(0, finished.length - keep))) {
      this.runs.delete(run.id);
      if (run.approvalId) this.approvals.delete(run.approvalId);
    }
    return [
      ...[...this.runs.values()].map((run) => run.line),
      ...[...this.approvals.values()].map((approval) => JSON.stringify({ approval })),
      ...[...this.keys].map(([key, runId]) => JSON.stringify({ key, runId })),
    ];
  }
}

/** What listing and compaction need without parsing, beside the journal line that holds the whole run. */
interface StoredRun extends Pick<
  WorkflowRun,
  'id' | 'kind' | 'definitionId' | 'status' | 'createdAt' | 'updatedAt' | 'approvalId' | 'version'
> {
  line: string;
}

function storedRun(run: WorkflowRun, line: string): StoredRun {
  return {
    id: run.id,
    kind: run.kind,
    definitionId: run.definitionId,
    status: run.status,
    createdAt: run.createdAt,
    updatedAt: run.updatedAt,
    approvalId: run.approvalId,
    version: run.version,
    line,
  };
}

function parseRun(line: string): WorkflowRun {
  return (JSON.parse(line) as { run: WorkflowRun }).run;
}
