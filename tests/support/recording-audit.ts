import type { AuditEntry, AuditTrail } from '../../bot/core/audit-trail';

/** An audit trail that keeps what it is given, in order, for a test to read back. */
export class RecordingAudit implements AuditTrail {
  readonly entries: AuditEntry[] = [];
  record(entry: AuditEntry): void {
    this.entries.push(entry);
  }
}
