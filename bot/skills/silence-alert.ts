import type { AuditTrail } from '../core/audit-trail';
import { textReply } from '../core/message';
import {
  formatSilenceMatcher,
  type SilenceMatcher,
  type Silences,
} from '../../engines/orchestrator/alerts/silences';
import { formatSeconds } from './format-seconds';
import type { Skill } from './skill';

export const ALERT_SILENCE = 'alert.silence';
/** Shorter is a typo for a longer silence; longer hides a problem past the point anyone remembers it. */
export const MIN_SILENCE_SECONDS = 60;
export const MAX_SILENCE_SECONDS = 7 * 86_400;

/**
 * "Silence KubePodCrashLooping for 2h" (optionally "for payments"): a silence of that alert name, and service
 * when one was said, from now for the duration, in Alertmanager when one is configured or in opsbot's own
 * silences. Confirmed first (mutating), created by the chat user, and audited.
 */
export function createSilenceAlertSkill(deps: {
  silences: Silences;
  audit: AuditTrail;
  now?: () => number;
}): Skill {
  const now = deps.now ?? Date.now;
  return {
    intent: 'silence_alert',
    permission: ALERT_SILENCE,
    summary: 'Silence an alert for a while',
    examples: ['silence KubePodCrashLooping for 2h', 'silence ServiceDown for payments for 30m'],
    slots: [
      { entity: 'alertname', required: true, prompt: 'Which alert should I silence?' },
      {
        entity: 'duration',
        required: true,
        prompt: 'For how long?',
        validate: (value) => {
          const seconds = Number(value);
          return seconds >= MIN_SILENCE_SECONDS && seconds <= MAX_SILENCE_SECONDS
            ? undefined
            : `A silence lasts from ${formatSeconds(MIN_SILENCE_SECONDS)} to ${formatSeconds(MAX_SILENCE_SECONDS)}.`;
        },
      },
      { entity: 'service', required: false, prompt: 'For which service?' },
    ],
    mutating: true,
    installed: true,
    describe: (s) =>
      `silence ${s.alertname ?? 'an alert'}${s.service === undefined ? '' : ` for ${s.service}`}${s.duration === undefined ? '' : ` for ${formatSeconds(s.duration)}`}`,
    async handle({ slots, user, roles, correlationId }) {
      const alertname = String(slots.alertname);
      const service = slots.service === undefined ? undefined : String(slots.service);
      const seconds = Number(slots.duration);
      const matchers: SilenceMatcher[] = [
        { name: 'alertname', value: alertname, isRegex: false, isEqual: true },
        ...(service === undefined
          ? []
          : [{ name: 'service', value: service, isRegex: false, isEqual: true }]),
      ];
      const startsAt = new Date(now()).toISOString();
      const endsAt = new Date(now() + seconds * 1000).toISOString();
      const what = `${alertname}${service === undefined ? '' : ` for ${service}`}`;
      const entry = {
        action: ALERT_SILENCE,
        actor: user.id,
        roles,
        correlationId,
        ...(service === undefined ? {} : { service }),
        details: { alertname, seconds, endsAt, silences: deps.silences.description },
      };
      let id: string;
      try {
        id = await deps.silences.create({
          matchers,
          startsAt,
          endsAt,
          createdBy: user.id,
          comment: `Silenced from opsbot chat by ${user.name} for ${formatSeconds(seconds)}.`,
        });
      } catch (err) {
        const message = (err as Error).message;
        deps.audit.record({ ...entry, phase: 'failed', details: { ...entry.details, error: message } });
        return textReply(
          `I could not silence ${what} in ${deps.silences.description}: ${message}. Nothing was silenced.`,
        );
      }
      deps.audit.record({ ...entry, phase: 'succeeded', details: { ...entry.details, silenceId: id } });
      const text = `Silenced ${what} for ${formatSeconds(seconds)}, until ${endsAt.slice(0, 16).replace('T', ' ')} UTC (silence ${id} in ${deps.silences.description}).`;
      return {
        text,
        blocks: [
          { type: 'section', text },
          {
            type: 'fields',
            fields: [
              { label: 'Matchers', value: matchers.map(formatSilenceMatcher).join(', ') },
              { label: 'Until', value: endsAt },
              { label: 'Silence', value: id },
            ],
          },
        ],
      };
    },
  };
}
