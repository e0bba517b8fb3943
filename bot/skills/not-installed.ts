import type { Slots, SlotValue } from '../dialogue/session';
import type { Intent } from '../nlu/intents';
import type { Permission } from '../policy/policy';
import { serviceSlot } from './service-slots';
import type { Skill, SlotSpec } from './skill';

/**
 * Intents whose engine is not part of this build. Each keeps its real grammar — permission, slots,
 * confirmation — so the conversation up to the action is the one users will have, and then says plainly
 * that the capability is missing and nothing was changed. An engine's skill replaces its entry here.
 */
interface MissingCapability {
  intent: Intent;
  permission: Permission;
  summary: string;
  examples: string[];
  /** Names the missing part, as the user should read it: "the platform driver (restart and scale)". */
  capability: string;
  slots?: SlotSpec[];
  mutating?: boolean;
  describe?(slots: Slots): string;
}

const MISSING: MissingCapability[] = [
  {
    intent: 'capacity_forecast',
    permission: 'capacity.read',
    summary: 'Forecast load and capacity',
    examples: ['forecast load for checkout tomorrow'],
    capability: 'The predictive scaler',
  },
  {
    intent: 'alert_status',
    permission: 'alerts.read',
    summary: 'List firing alerts',
    examples: ['what alerts are firing?'],
    capability: 'The alert integration (Alertmanager)',
  },
  {
    intent: 'silence_alert',
    permission: 'alert.silence',
    summary: 'Silence an alert for a while',
    examples: ['silence KubePodCrashLooping for 2h'],
    capability: 'The alert integration (Alertmanager)',
    slots: [
      { entity: 'alertname', required: true, prompt: 'Which alert should I silence?' },
      { entity: 'duration', required: true, prompt: 'For how long?' },
    ],
    mutating: true,
    describe: (s) =>
      `silence ${s.alertname ?? 'an alert'}${s.duration === undefined ? '' : ` for ${formatSeconds(s.duration)}`}`,
  },
  {
    intent: 'schedule_maintenance',
    permission: 'maintenance.schedule',
    summary: 'Schedule a maintenance window',
    examples: ['schedule maintenance for payments for 1 hour'],
    capability: 'The maintenance controller',
    slots: [
      serviceSlot('Which service is the maintenance for?'),
      { entity: 'duration', required: true, prompt: 'How long is the window?' },
    ],
    mutating: true,
    describe: (s) =>
      `schedule a ${s.duration === undefined ? '' : `${formatSeconds(s.duration)} `}maintenance window for ${s.service ?? 'a service'}`,
  },
  {
    intent: 'predict_failures',
    permission: 'failures.read',
    summary: 'Predict which services are likely to fail',
    examples: ['which services are likely to fail?'],
    capability: 'The maintenance controller (failure prediction)',
  },
];

export function notInstalledSkills(): Skill[] {
  return MISSING.map((m) => ({
    intent: m.intent,
    permission: m.permission,
    summary: m.summary,
    examples: m.examples,
    slots: m.slots ?? [],
    mutating: m.mutating ?? false,
    installed: false,
    describe: m.describe,
    async handle({ slots }) {
      const understood = m.describe ? ` I understood: ${m.describe(slots)}.` : '';
      const text = `${m.capability} is not installed in this build, so I can't do that yet.${understood} Nothing was changed.`;
      return {
        text,
        blocks: [
          { type: 'section', text },
          { type: 'status', badges: [{ label: m.capability, state: 'unknown', detail: 'not installed' }] },
        ],
      };
    },
  }));
}

export function formatSeconds(value: SlotValue | undefined): string {
  const s = Number(value);
  if (!Number.isFinite(s)) return String(value);
  const units: [number, string][] = [
    [86400, 'day'],
    [3600, 'hour'],
    [60, 'minute'],
  ];
  for (const [size, name] of units) {
    if (s >= size && s % size === 0) return `${s / size} ${name}${s / size === 1 ? '' : 's'}`;
  }
  return s >= 3600
    ? `${(s / 3600).toFixed(1)} hours`
    : s >= 60
      ? `${Math.round(s / 60)} minutes`
      : `${s} seconds`;
}
