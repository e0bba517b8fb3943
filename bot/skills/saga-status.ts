import type { Orchestrator } from '../../engines/orchestrator/orchestrator';
import { FINAL_STATUSES, type RunStatus, type WorkflowRun } from '../../engines/orchestrator/run';
import { textReply } from '../core/message';
import { runListReply, runReply } from './plan-reply';
import type { Skill } from './skill';

const IN_FLIGHT: readonly RunStatus[] = ['awaiting_approval', 'running', 'compensating'];
const SHOWN_IN_FLIGHT = 20;
const SHOWN_FINISHED = 10;
/** Listings show a run id's first 8 characters; this many recent runs are searched for one typed back. */
const SEARCHED_FOR_SHORT_ID = 500;
const SHORT_RUN_ID = /(?<![\w-])([0-9a-f]{8})(?![\w])/i;

/**
 * One run in detail when the words name it ("status of 3f9c2a1b-…", or the 8 characters listings show),
 * otherwise the runs in flight and the last few that finished — sagas and runbooks alike.
 */
export function createSagaStatusSkill(deps: { orchestrator: Orchestrator }): Skill {
  return {
    intent: 'saga_status',
    permission: 'sagas.read',
    summary: 'Show sagas and runbook runs, in flight or finished',
    examples: ['which sagas are running?', 'status of saga 3f9c2a1b', 'show recent runbook runs'],
    slots: [{ entity: 'saga_id', required: false, prompt: 'Which run?' }],
    mutating: false,
    installed: true,
    async handle({ slots, turn }) {
      const id = slots.saga_id === undefined ? SHORT_RUN_ID.exec(turn.text)?.[1] : String(slots.saga_id);
      if (id === undefined) {
        const [inFlight, recent] = await Promise.all([
          deps.orchestrator.list({ statuses: IN_FLIGHT, limit: SHOWN_IN_FLIGHT }),
          deps.orchestrator.list({ statuses: [...FINAL_STATUSES], limit: SHOWN_FINISHED }),
        ]);
        return runListReply(inFlight, recent);
      }
      const run = await findRun(deps.orchestrator, id.toLowerCase());
      if (!run)
        return textReply(`There is no run ${id}. Ask "which sagas are running?" to see the runs there are.`);
      const approval =
        run.approvalId === undefined ? undefined : await deps.orchestrator.approval(run.approvalId);
      return runReply(run, approval);
    },
  };
}

/** A run by its full id, or by the first 8 characters that listings show. */
export async function findRun(orchestrator: Orchestrator, id: string): Promise<WorkflowRun | undefined> {
  const run = await orchestrator.get(id);
  if (run || id.length !== 8) return run;
  const recent = await orchestrator.list({ limit: SEARCHED_FOR_SHORT_ID });
  return recent.find((r) => r.id.startsWith(id));
}
