import type { Logger } from './logger';

/** What happened to an action: asked for, started, then exactly one of the outcomes. */
export type AuditPhase = 'started' | 'succeeded' | 'failed' | 'unchanged';

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
}

/**
 * The port every action is recorded through. Writers never fail the action they record: an audit trail that
 * cannot be written is an operational problem for its own sink, reported there.
 */
export interface AuditTrail {
  record(entry: AuditEntry): void;
}

/**
 * The audit trail as structured log lines (`"event":"audit"`), beside the turn lines that share their
 * correlation id. A log pipeline keeps them; they are not yet tamper-evident (the orchestrator's hash-chained
 * audit log will be).
 */
export class LogAuditTrail implements AuditTrail {
  constructor(private readonly logger: Logger) {}

  record(entry: AuditEntry): void {
    this.logger.info({ event: 'audit', ...entry }, `audit ${entry.action} ${entry.phase}`);
  }
}
