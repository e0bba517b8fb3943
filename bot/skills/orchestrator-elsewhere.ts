import { textReply } from '../core/message';
import type { Skill } from './skill';

/**
 * Runbooks and sagas run where the orchestrator lives: the `opsbot serve` process, which owns the run journal
 * and the audit log. A chat in another process (the terminal) says where to go instead of pretending.
 */
const ELSEWHERE: Pick<Skill, 'intent' | 'permission' | 'summary' | 'examples'>[] = [
  {
    intent: 'run_runbook',
    permission: 'runbook.run',
    summary: 'Run a runbook',
    examples: ['run the service-down runbook for payments'],
  },
  {
    intent: 'start_saga',
    permission: 'saga.start',
    summary: 'Start a saga',
    examples: ['start the order fulfillment saga'],
  },
  {
    intent: 'saga_status',
    permission: 'sagas.read',
    summary: 'Show the status of sagas and runbook runs',
    examples: ['status of the running sagas'],
  },
];

export function orchestratorElsewhereSkills(): Skill[] {
  return ELSEWHERE.map((skill) => ({
    ...skill,
    slots: [],
    mutating: false,
    installed: true,
    async handle() {
      return textReply(
        'Runbooks and sagas run in the opsbot server (`opsbot serve`), and this chat is not part of it. ' +
          'Ask there (web chat, Slack, Teams), or use `opsbot runbooks run <id>`, `opsbot sagas start <saga>` ' +
          'and `opsbot sagas list`, which talk to the server. Nothing was started.',
      );
    },
  }));
}
