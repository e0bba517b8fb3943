import type { Approval, ApprovalOutcome } from '../../engines/orchestrator/approval';
import type { Actor, Orchestrator } from '../../engines/orchestrator/orchestrator';
import { ErrorCode, isOpsbotError } from '../core/errors';
import { textReply, type InboundTurn } from '../core/message';
import type { InterceptedTurn } from '../dialogue/dialogue-manager';
import { APPROVE_RUN_ACTION_ID, DENY_RUN_ACTION_ID, utc } from './plan-reply';

/**
 * "approve 3f9c2a1b", "deny 3f9c2a1b because it is peak time", "reject 3f9c2a1b: not now". An approval id is
 * 8 hex characters (a full UUID is accepted too); whatever follows a denial is its reason.
 */
const TYPED_DECISION =
  /^\s*(approve|deny|reject)\s+(?:approval\s+)?#?([0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12}|[0-9a-f]{8})(?![\w-])[\s,:;.—-]*(?:(?:because|since|reason:?)\s+)?(.*)$/is;

interface Decision {
  verb: 'approve' | 'deny';
  approvalId: string;
  reason?: string;
}

export interface ApprovalCommands {
  /** True for a click on a plan's Approve / Deny button and for a typed approve / deny command. */
  matches(turn: InboundTurn): boolean;
  /**
   * Records the decision of `actor` (roles as the policy gives them) and says what it achieved: `refused` when
   * it was not theirs to make (the buttons stay for someone who may), `recorded` when more approvals are
   * still needed (the buttons stay), `answered` once the approval is decided.
   */
  handle(turn: InboundTurn, actor: Actor): Promise<InterceptedTurn>;
}

/**
 * Approving and denying runs from chat, ahead of the NLU: a decision is addressed to one approval by its id,
 * so it needs no conversation state and any approver in the thread may make it — not only the requester.
 */
export function createApprovalCommands(orchestrator: Orchestrator): ApprovalCommands {
  return {
    matches: (turn) => decisionOf(turn) !== undefined,
    async handle(turn, actor) {
      const decision = decisionOf(turn);
      if (!decision) {
        return {
          kind: 'refused',
          reply: textReply('Say "approve <approval id>" or "deny <approval id> <reason>".'),
        };
      }
      try {
        const outcome =
          decision.verb === 'approve'
            ? await orchestrator.approve(decision.approvalId, actor)
            : await orchestrator.deny(decision.approvalId, actor, decision.reason);
        const kind =
          outcome.result === 'refused' || outcome.result === 'duplicate'
            ? 'refused'
            : outcome.result === 'recorded'
              ? 'recorded'
              : 'answered';
        return { kind, reply: textReply(outcomeText(outcome, decision.verb)) };
      } catch (err) {
        if (isOpsbotError(err) && err.code === ErrorCode.NotFound) {
          return {
            kind: 'refused',
            reply: textReply(
              `There is no approval ${decision.approvalId}. Check the id in the plan's message.`,
            ),
          };
        }
        if (isOpsbotError(err)) {
          return {
            kind: 'refused',
            reply: textReply(`I couldn't ${decision.verb} ${decision.approvalId}: ${err.message}.`),
          };
        }
        throw err;
      }
    },
  };
}

function decisionOf(turn: InboundTurn): Decision | undefined {
  const action = turn.action;
  if (action?.actionId === APPROVE_RUN_ACTION_ID) return { verb: 'approve', approvalId: action.value };
  if (action?.actionId === DENY_RUN_ACTION_ID) return { verb: 'deny', approvalId: action.value };
  if (action) return undefined;
  const typed = TYPED_DECISION.exec(turn.text);
  if (!typed) return undefined;
  const reason = typed[3]?.trim();
  return {
    verb: typed[1]?.toLowerCase() === 'approve' ? 'approve' : 'deny',
    approvalId: (typed[2] ?? '').toLowerCase(),
    ...(reason ? { reason } : {}),
  };
}

/** What the click achieved, said to the person who clicked. */
export function outcomeText(outcome: ApprovalOutcome, verb: 'approve' | 'deny'): string {
  const { approval } = outcome;
  switch (outcome.result) {
    case 'recorded':
      return `Recorded your approval of ${approval.summary}. It needs ${outcome.remaining} more ${approvals(outcome.remaining)} before it goes ahead.`;
    case 'approved':
      return `Approved: ${approval.summary}. ${approval.stepId ? `Run ${approval.runId} continues with step ${approval.stepId}` : `Run ${approval.runId} starts now`}; ask "status of run ${approval.runId.slice(0, 8)}" to follow it.`;
    case 'denied': {
      const reason = approval.denial?.reason;
      return `Denied: ${approval.summary}. ${approval.stepId ? `Run ${approval.runId} stops and takes back what it did` : `Run ${approval.runId} will not start`}${reason ? ` (reason: ${reason})` : ''}.`;
    }
    case 'already_decided':
      return `Approval ${approval.id} was already decided: ${decidedState(approval)}. Nothing changed.`;
    case 'duplicate': {
      const remaining = Math.max(0, approval.required - approval.approvals.length);
      return `You have already approved ${approval.summary}; it still needs ${remaining} more ${approvals(remaining)} from someone else.`;
    }
    case 'refused':
      return `You can't ${verb} ${approval.summary}: ${outcome.reason}. Nothing changed.`;
  }
}

function decidedState(approval: Approval): string {
  switch (approval.status) {
    case 'approved':
      return `approved by ${approval.approvals.map((a) => a.by).join(', ')}`;
    case 'denied':
      return `denied by ${approval.denial?.by ?? 'someone'}${approval.denial?.reason ? ` (${approval.denial.reason})` : ''}`;
    case 'expired':
      return `it expired at ${utc(approval.expiresAt)}`;
    case 'cancelled':
      return 'its run was cancelled';
    case 'pending':
      return 'it is still open';
  }
}

function approvals(n: number): string {
  return n === 1 ? 'approval' : 'approvals';
}
