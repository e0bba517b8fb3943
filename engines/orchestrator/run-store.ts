import type { Approval } from './approval';
import type { RunStatus, WorkflowRun } from './run';
import type { WorkflowKind } from './workflow';

export interface RunQuery {
  kind?: WorkflowKind;
  definitionId?: string;
  /** Only runs in one of these states. */
  statuses?: readonly RunStatus[];
  /** Newest first; at most this many. */
  limit?: number;
}

/** Thrown by `save` when the stored run has moved on since the version the writer read. */
export class StaleRunError extends Error {
  constructor(
    readonly runId: string,
    readonly expected: number,
    readonly found: number,
  ) {
    super(`run ${runId} is at version ${found}, not ${expected}: another writer got there first`);
    this.name = 'StaleRunError';
  }
}

/**
 * Where runs live between transitions. `save` returns once the run is durable: the executor saves a step as
 * running before it runs it, so after a crash the store says which step was in flight.
 *
 * Implementations: FileRunStore (embedded, an fsync'd journal under stateDir) and RedisRunStore.
 */
export interface RunStore {
  readonly kind: string;
  /**
   * True when several processes use it (Redis): a run is then taken over only once its driver's lease has run
   * out. False for the file store, whose one process owns every run it finds on start.
   */
  readonly shared: boolean;
  get(id: string): Promise<WorkflowRun | undefined>;
  /**
   * Writes `run` if the stored copy is at `run.version - 1` (or absent for version 1); throws StaleRunError
   * otherwise. The caller bumps `version`.
   */
  save(run: WorkflowRun): Promise<void>;
  list(query?: RunQuery): Promise<WorkflowRun[]>;
  /** The active run started for `key` (alert fingerprint + runbook), if any. */
  activeFor(key: string): Promise<string | undefined>;
  /** Binds `key` to `runId` unless another active run holds it; true when bound. Freed when the run ends. */
  claimKey(key: string, runId: string): Promise<boolean>;
  releaseKey(key: string, runId: string): Promise<void>;
  getApproval(id: string): Promise<Approval | undefined>;
  /** Stores a new approval; an id already taken is an error (ids are random, so it means a bug). */
  createApproval(approval: Approval): Promise<void>;
  /**
   * Reads, changes and writes one approval atomically, across processes: two clicks at the same instant are
   * decided one after the other. `change` returns the new approval, or undefined to leave it as it is.
   */
  updateApproval(
    id: string,
    change: (approval: Approval) => Approval | undefined,
  ): Promise<{ before: Approval; after: Approval } | undefined>;
  pendingApprovals(): Promise<Approval[]>;
  close(): Promise<void>;
}
