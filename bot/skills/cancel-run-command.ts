import type { Actor, Orchestrator } from '../../engines/orchestrator/orchestrator';
import { FINAL_STATUSES } from '../../engines/orchestrator/run';
import { isOpsbotError } from '../core/errors';
import { textReply, type InboundTurn } from '../core/message';
import type { InterceptedTurn, TurnInterceptor } from '../dialogue/dialogue-manager';
import { findRun } from './saga-status';

/** "cancel run 3f9c2a1b", "stop saga 3f9c2a1b-…": the run's full id or the 8 characters listings show. */
const TYPED_CANCEL =
  /^\s*(?:cancel|stop|abort)\s+(?:the\s+)?(?:run|saga|runbook run)\s+#?([0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12}|[0-9a-f]{8})(?![\w-])[\s,:;.—-]*(?:(?:because|since|reason:?)\s+)?(.*)$/is;

/**
 * Cancelling a run from chat, ahead of the NLU like approvals: a run that has not started ends; a running one
 * stops its current step and takes back what it did, in reverse order. It needs the right to start a run of
 * that kind (saga.start or runbook.run).
 */
export function createCancelRunCommand(deps: {
  orchestrator: Orchestrator;
  rolesAllow: (roles: readonly string[], permission: string) => boolean;
}): TurnInterceptor {
  return {
    matches: (turn: InboundTurn) => !turn.action && TYPED_CANCEL.test(turn.text),
    async handle(turn, actor: Actor): Promise<InterceptedTurn> {
      const [, id = '', reason = ''] = TYPED_CANCEL.exec(turn.text) ?? [];
      const refused = (text: string): InterceptedTurn => ({ kind: 'refused', reply: textReply(text) });
      const run = await findRun(deps.orchestrator, id.toLowerCase());
      if (!run) return refused(`There is no run ${id}. "status of sagas" lists the recent ones.`);
      const permission = run.kind === 'saga' ? 'saga.start' : 'runbook.run';
      if (!deps.rolesAllow(actor.roles, permission)) {
        return refused(
          `Cancelling a ${run.kind} run needs the permission ${permission}, which your roles (${actor.roles.join(', ') || 'none'}) do not grant. Nothing changed.`,
        );
      }
      if (FINAL_STATUSES.has(run.status)) {
        return refused(`Run ${run.id.slice(0, 8)} already ended: ${run.status}. Nothing changed.`);
      }
      try {
        const ended = await deps.orchestrator.cancel(run.id, actor, reason.trim() || undefined);
        const undone = ended.steps.filter((s) => s.status === 'compensated').map((s) => s.id);
        const failedUndo = ended.steps.filter((s) => s.status === 'compensation_failed').map((s) => s.id);
        const what =
          ended.status === 'cancelled'
            ? undone.length > 0
              ? ` Undone, last first: ${undone.reverse().join(', ')}.`
              : ' Nothing had been done yet.'
            : ended.status === 'failed' && failedUndo.length > 0
              ? ` Undoing ${failedUndo.join(', ')} failed: a person must look (status of run ${run.id.slice(0, 8)}).`
              : ` It is now ${ended.status}.`;
        return {
          kind: 'answered',
          reply: textReply(`Cancelled ${run.kind} ${run.definitionId} run ${run.id.slice(0, 8)}.${what}`),
        };
      } catch (err) {
        if (isOpsbotError(err)) return refused(`I couldn't cancel run ${id}: ${err.message}.`);
        throw err;
      }
    },
  };
}
