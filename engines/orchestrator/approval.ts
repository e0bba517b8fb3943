/**
 * A request for N distinct people to approve one run before it (or its next step) goes ahead. Consumed once:
 * the decision that completes it is the only one that resumes the run, whatever else is clicked.
 */
export type ApprovalStatus = 'pending' | 'approved' | 'denied' | 'expired' | 'cancelled';

export interface Approval {
  /** Short enough to type: "approve 3f9c2a1b". */
  id: string;
  runId: string;
  /** The step that waits for it; absent when the run's policy asked for approval before it starts. */
  stepId?: string;
  /** What is being approved, one line: "run runbook service-down for payments in production". */
  summary: string;
  required: number;
  selfApproval: boolean;
  /** Roles whose members may approve; empty: anyone the policy lets run it. */
  roles: string[];
  requestedBy: string;
  approvals: { by: string; at: string }[];
  denial?: { by: string; at: string; reason?: string };
  status: ApprovalStatus;
  createdAt: string;
  expiresAt: string;
  decidedAt?: string;
}

/** What a click or an "approve <id>" achieved, for the reply to the person who clicked. */
export type ApprovalOutcome =
  | { result: 'recorded'; approval: Approval; remaining: number }
  | { result: 'approved'; approval: Approval }
  | { result: 'denied'; approval: Approval }
  | { result: 'already_decided'; approval: Approval }
  | { result: 'duplicate'; approval: Approval }
  | { result: 'refused'; approval: Approval; reason: string };
