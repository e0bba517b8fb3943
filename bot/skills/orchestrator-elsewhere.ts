import { textReply } from '../core/message';
import { formatSeconds } from './format-seconds';
import type { Skill } from './skill';

const RUNS_ELSEWHERE =
  'Runbooks and sagas run in the opsbot server (`opsbot serve`), and this chat is not part of it. ' +
  'Ask there (web chat, Slack, Teams), or use `opsbot runbooks run <id>`, `opsbot sagas start <saga>` ' +
  'and `opsbot sagas list`, which talk to the server. Nothing was started.';
const MAINTENANCE_ELSEWHERE =
  'Alerts, silences, maintenance windows and failure prediction live in the opsbot server (`opsbot serve`), ' +
  'and this chat is not part of it. Ask there (web chat, Slack, Teams), or use its REST API ' +
  '(`/api/v1/alerts`, `/api/v1/silences`, `/api/v1/maintenance/windows`). Nothing was changed.';

/**
 * Runbooks and sagas run where the orchestrator lives, and the maintenance controller with its windows and
 * silences beside it: the `opsbot serve` process, which owns the run journal and the audit log. A chat in
 * another process (the terminal) says where to go instead of pretending.
 */
type ElsewhereSkill = Pick<Skill, 'intent' | 'permission' | 'summary' | 'examples'> &
  Partial<Pick<Skill, 'slots' | 'mutating' | 'describe'>> & { answer: string };

const ELSEWHERE: ElsewhereSkill[] = [
  {
    intent: 'run_runbook',
    permission: 'runbook.run',
    summary: 'Run a runbook',
    examples: ['run the service-down runbook for payments'],
    answer: RUNS_ELSEWHERE,
  },
  {
    intent: 'start_saga',
    permission: 'saga.start',
    summary: 'Start a saga',
    examples: ['start the order fulfillment saga'],
    answer: RUNS_ELSEWHERE,
  },
  {
    intent: 'saga_status',
    permission: 'sagas.read',
    summary: 'Show the status of sagas and runbook runs',
    examples: ['status of the running sagas'],
    answer: RUNS_ELSEWHERE,
  },
  {
    intent: 'alert_status',
    permission: 'alerts.read',
    summary: 'List firing alerts',
    examples: ['what alerts are firing?'],
    answer: MAINTENANCE_ELSEWHERE,
  },
  {
    intent: 'silence_alert',
    permission: 'alert.silence',
    summary: 'Silence an alert for a while',
    examples: ['silence KubePodCrashLooping for 2h'],
    // The request is understood and confirmed as in the server, so the user learns where to go with it whole.
    slots: [
      { entity: 'alertname', required: true, prompt: 'Which alert should I silence?' },
      { entity: 'duration', required: true, prompt: 'For how long?' },
    ],
    mutating: true,
    describe: (s) =>
      `silence ${s.alertname ?? 'an alert'}${s.duration === undefined ? '' : ` for ${formatSeconds(s.duration)}`}`,
    answer: MAINTENANCE_ELSEWHERE,
  },
  {
    intent: 'schedule_maintenance',
    permission: 'maintenance.schedule',
    summary: 'Schedule, list or cancel maintenance windows',
    examples: ['schedule maintenance for payments for 1 hour'],
    answer: MAINTENANCE_ELSEWHERE,
  },
  {
    intent: 'predict_failures',
    permission: 'failures.read',
    summary: 'Predict which services are likely to fail',
    examples: ['which services are likely to fail?'],
    answer: MAINTENANCE_ELSEWHERE,
  },
];

export function orchestratorElsewhereSkills(): Skill[] {
  return ELSEWHERE.map(({ answer, ...skill }) => ({
    slots: [],
    mutating: false,
    ...skill,
    installed: true,
    async handle() {
      return textReply(answer);
    },
  }));
}
