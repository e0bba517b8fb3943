import type { Logger } from './logger';

/**
 * What happened to an action, a run, a step or an approval. An action or step is asked for, started, then
 * ends in exactly one outcome; approvals are approved, denied or expired; a saga undoing its steps is
 * compensating, then compensated.
 */
export type AuditPhase =
  | 'requested'
  | 'started'
  | 'succeeded'
  | 'failed'
  | 'unchanged'
  | 'approved'
  | 'denied'
  | 'expired'
  | 'cancelled'
  | 'compensating'
  | 'compensated'
  | 'skipped';

/** One line of the audit trail: who did what to which service, when, with what result. */
export interface AuditEntry {
  /** The permission-style name of the action: "service.restart", "service.scale". */
  action: string;
  phase: AuditPhase;
  /** The channel identity that asked ("web:alice") and the roles policy gave it then. */
  actor: string;
  roles: readonly string[];
  service?: string;
  environment?: string;
  /** The platform driver that carried it out. */
  driver?: string;
  /** The action's own parameters ({ replicas: 3 }) and results ({ verified: true, ms: 1840 }). */
  details?: Record<string, unknown>;
  /** The turn that caused it; finds the matching chat log lines. */
  correlationId: string;
  /** The orchestrator run, step and approval it belongs to, when it came from one. */
  runId?: string;
  stepId?: string;
  approvalId?: string;
}

/**
 * The port every action is recorded through. Writers never fail the action they record: `record` neither
 * throws nor waits, and an audit trail that cannot be written is an operational problem for its own sink,
 * reported there. A sink that writes in the background offers `flush` (resolves once everything recorded
 * before it is written) and `close`, for tests and for shutdown.
 */
export interface AuditTrail {
  record(entry: AuditEntry): void;
  flush?(): Promise<void>;
  close?(): Promise<void>;
}

/**
 * The audit trail as structured log lines (`"event":"audit"`), beside the turn lines that share their
 * correlation id. A log pipeline keeps them; they are not tamper-evident (HashChainedAuditLog is, and mirrors
 * its records here).
 */
export class LogAuditTrail implements AuditTrail {
  constructor(private readonly logger: Logger) {}

  record(entry: AuditEntry): void {
    this.logger.info({ event: 'audit', ...entry }, `audit ${entry.action} ${entry.phase}`);
  }
}
