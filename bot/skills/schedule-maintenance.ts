import type { MaintenanceWindow, MaintenanceWindows } from '../../engines/maintenance/maintenance-windows';
import { isOpsbotError } from '../core/errors';
import { textReply, type Reply } from '../core/message';
import { findDurations } from '../nlu/durations';
import { findTimeRanges } from '../nlu/time-ranges';
import type { Slots } from '../dialogue/session';
import { formatSeconds } from './format-seconds';
import type { Skill, SkillContext } from './skill';

export const MAINTENANCE_PERMISSION = 'maintenance.schedule';

/**
 * One intent, three requests, told apart by their words (the NLU has one intent for all of them):
 * "cancel/end/stop … maintenance" cancels; "list/show/which/any … maintenance" lists; a request that says how
 * long or when ("… for 1 hour", "… from 22:00 to 23:30") creates. Anything else lists ("is payments in
 * maintenance?"): reading is the fallback because it changes nothing. A request to schedule that says neither
 * a length nor a time is asked for one before anything is confirmed.
 */
const CANCEL =
  /\b(?:cancel\w*|end|stop|abort|remove|delete|drop|finish|close|lift|terminate|call off)\b|\bout of maintenance\b/i;
const LIST =
  /\b(?:list|show|which|what|when|any|are there|is there|display|view|upcoming|scheduled|planned|active)\b/i;
const CREATE =
  /\b(?:schedule|plan|book|set up|arrange|reserve|block out|put|place|start|open|create|add|begin)\b/i;
/** "until 23:00": a single time that ends the window rather than starting it. */
const UNTIL = /\b(?:until|till|til)\b/i;
/** The window's reason: the words after "because", "due to" or "reason:". */
const REASON = /\b(?:because(?: of)?|due to|reason:?)\s+(.+?)[.!?]*$/i;
/** A window id as lists show it. */
const WINDOW_ID = /\b([0-9a-f]{8})\b/i;
/**
 * What a request is, decided once from its words (Skill.variantOf) and kept until it is confirmed: the kind,
 * then after a colon what the words added — the window id to cancel, or the reason of a window to schedule.
 * "create-until": the one time said ("until 23:00") ends the window, which starts now.
 */
type RequestKind = 'list' | 'needs-length' | 'create' | 'create-until' | 'cancel';
const CREATE_KINDS: readonly RequestKind[] = ['create', 'create-until'];
const MUTATING_KINDS: readonly RequestKind[] = [...CREATE_KINDS, 'cancel'];

function variantFor(kind: RequestKind, detail?: string): string {
  return detail === undefined ? kind : `${kind}:${detail}`;
}

function readVariant(variant: string | undefined): { kind: RequestKind; detail?: string } {
  const colon = (variant ?? '').indexOf(':');
  const kind = (colon < 0 ? variant : variant?.slice(0, colon)) as RequestKind | undefined;
  return { kind: kind ?? 'list', ...(colon < 0 ? {} : { detail: variant?.slice(colon + 1) }) };
}

const EXAMPLE = '"schedule maintenance for payments for 1 hour" or "… from 22:00 to 23:30"';

/**
 * Maintenance windows from chat: schedule one ("schedule maintenance for payments for 1 hour", "… in staging
 * tomorrow at 2am for 2h because of the db upgrade"), list them, and cancel one ("cancel the maintenance
 * window for payments", "cancel maintenance window 3f9c2a1b"). Scheduling and cancelling are confirmed first
 * and need maintenance.schedule, as does listing.
 */
export function createScheduleMaintenanceSkill(deps: { windows: MaintenanceWindows }): Skill {
  return {
    intent: 'schedule_maintenance',
    permission: MAINTENANCE_PERMISSION,
    summary: 'Schedule, list or cancel maintenance windows',
    examples: [
      'schedule maintenance for payments for 1 hour',
      'list maintenance windows',
      'cancel the maintenance window for payments',
    ],
    // Only scheduling needs a service; a window's length may come from a time range instead of a duration.
    slots: [
      {
        entity: 'service',
        required: false,
        requiredFor: (variant) => CREATE_KINDS.includes(readVariant(variant).kind),
        prompt: 'Which service is the maintenance for?',
      },
      { entity: 'environment', required: false, prompt: 'In which environment?' },
      { entity: 'duration', required: false, prompt: 'How long is the window?' },
      { entity: 'time_range', required: false, prompt: 'When does it start?' },
    ],
    mutating: false,
    installed: true,
    variantOf: (text) => {
      if (CANCEL.test(text)) return variantFor('cancel', WINDOW_ID.exec(text)?.[1]?.toLowerCase());
      if (LIST.test(text) && !CREATE.test(text)) return 'list';
      const durations = findDurations(text);
      const times = findTimeRanges(text, durations);
      const reason = REASON.exec(text)?.[1];
      if (times.length > 0 && UNTIL.test(text)) return variantFor('create-until', reason);
      if (durations.length > 0 || times.length > 0) return variantFor('create', reason);
      return CREATE.test(text) ? 'needs-length' : 'list';
    },
    mutatingVariant: (variant) =>
      MUTATING_KINDS.includes(readVariant(variant).kind) ? MAINTENANCE_PERMISSION : undefined,
    describe: (slots, variant) => {
      const { kind, detail } = readVariant(variant);
      if (kind === 'cancel')
        return detail === undefined
          ? `cancel the maintenance window${place(slots, ' for')}`
          : `cancel maintenance window ${detail}`;
      if (kind === 'list' || kind === 'needs-length') return 'list maintenance windows';
      const length = slots.duration === undefined ? '' : `${formatSeconds(slots.duration)} `;
      const [from, to] = typeof slots.time_range === 'string' ? slots.time_range.split('/') : [];
      const when =
        from === undefined
          ? ''
          : kind === 'create-until'
            ? ` until ${utc(from)}`
            : ` from ${utc(from)}${to === undefined ? '' : ` to ${utc(to)}`}`;
      const why = detail === undefined ? '' : ` (${detail})`;
      return `schedule a ${length}maintenance window${place(slots, ' for') || ' (no service named yet)'}${when}${why}`;
    },
    async handle(ctx) {
      const { kind, detail } = readVariant(ctx.variant);
      try {
        if (kind === 'create' || kind === 'create-until')
          return await create(deps.windows, ctx, kind, detail);
        if (kind === 'cancel') return await cancel(deps.windows, ctx, detail);
        if (kind === 'needs-length') {
          return listReply(
            await deps.windows.list(filterOf(ctx.slots)),
            `How long should the window be? Ask again with its length or times, e.g. ${EXAMPLE}. Nothing was scheduled.`,
          );
        }
        return listReply(await deps.windows.list(filterOf(ctx.slots)), undefined, ctx.slots);
      } catch (err) {
        if (!isOpsbotError(err)) throw err;
        return textReply(`I could not do that: ${err.message}`);
      }
    },
  };
}

async function create(
  windows: MaintenanceWindows,
  ctx: SkillContext,
  kind: 'create' | 'create-until',
  reason: string | undefined,
): Promise<Reply> {
  const { slots } = ctx;
  if (slots.service === undefined) {
    return textReply(
      `Which service is the maintenance for? Ask again naming it, e.g. ${EXAMPLE}. Nothing was scheduled.`,
    );
  }
  const range = typeof slots.time_range === 'string' ? slots.time_range.split('/') : [];
  const times = range.map((part) => (Number.isNaN(Date.parse(part)) ? undefined : part));
  const [from, to] = times.length === 1 && kind === 'create-until' ? [undefined, times[0]] : times;
  if (range.length > 0 && from === undefined && to === undefined) {
    return textReply(
      `I can't place "${slots.time_range}" on the clock; say when the window starts, e.g. "tomorrow at 02:00" or "from 22:00 to 23:30". Nothing was scheduled.`,
    );
  }
  const durationSeconds = slots.duration === undefined ? undefined : Number(slots.duration);
  if (durationSeconds === undefined && to === undefined) {
    return textReply(
      `How long should the window be? Ask again with its length, e.g. ${EXAMPLE}. Nothing was scheduled.`,
    );
  }
  const window = await windows.create(
    {
      service: String(slots.service),
      ...(slots.environment === undefined ? {} : { environment: String(slots.environment) }),
      ...(from === undefined ? {} : { startsAt: from }),
      ...(durationSeconds === undefined ? { endsAt: to } : { durationSeconds }),
      ...(reason === undefined ? {} : { reason }),
    },
    { id: ctx.user.id, roles: ctx.roles, correlationId: ctx.correlationId },
  );
  const text = `Scheduled maintenance window ${window.id} for ${window.service} in ${window.environment}, ${span(window)}: self-healing leaves it alone and its alerts are silenced (silence ${window.silenceId} in ${windows.silencesDescription}).`;
  return {
    text,
    blocks: [
      { type: 'section', text },
      { type: 'fields', fields: windowFields(window) },
    ],
  };
}

async function cancel(
  windows: MaintenanceWindows,
  ctx: SkillContext,
  id: string | undefined,
): Promise<Reply> {
  let target: MaintenanceWindow | undefined;
  if (id !== undefined) {
    target = await windows.get(id);
    if (!target) return textReply(`There is no maintenance window ${id}. Nothing was cancelled.`);
  } else {
    const candidates = await windows.list(filterOf(ctx.slots));
    if (candidates.length === 0) {
      return textReply(
        `There is no open or upcoming maintenance window${place(ctx.slots, ' for')}. Nothing was cancelled.`,
      );
    }
    if (candidates.length > 1) {
      return listReply(
        candidates,
        `More than one window matches, so I cancelled none. Say which: "cancel maintenance window ${candidates[0]?.id}".`,
      );
    }
    target = candidates[0] as MaintenanceWindow;
  }
  const cancelled = await windows.cancel(target.id, {
    id: ctx.user.id,
    roles: ctx.roles,
    correlationId: ctx.correlationId,
  });
  const silence = cancelled.silenceId === undefined ? '' : ` and its silence ${cancelled.silenceId} expired`;
  return textReply(
    `Cancelled maintenance window ${cancelled.id} for ${cancelled.service} in ${cancelled.environment}${silence}; self-healing and alerts apply again.`,
  );
}

function listReply(windows: MaintenanceWindow[], note?: string, slots: Slots = {}): Reply {
  const heading =
    windows.length === 0
      ? `No maintenance window is open or scheduled${place(slots, ' for')}.`
      : `${windows.length} maintenance window${windows.length === 1 ? ' is' : 's are'} open or scheduled${place(slots, ' for')}:`;
  const lines = windows.map(
    (w) => `${w.id}: ${w.service} in ${w.environment}, ${span(w)} — ${w.reason} (by ${w.createdBy})`,
  );
  const text = [note, heading, ...lines].filter(Boolean).join('\n');
  return {
    text,
    blocks: [
      ...(note ? [{ type: 'section' as const, text: note }] : []),
      { type: 'section', text: heading },
      ...(lines.length > 0 ? [{ type: 'list' as const, items: lines }] : []),
    ],
  };
}

function windowFields(window: MaintenanceWindow): { label: string; value: string }[] {
  return [
    { label: 'Window', value: window.id },
    { label: 'Service', value: `${window.service} (${window.environment})` },
    { label: 'From', value: utc(window.startsAt) },
    { label: 'Until', value: utc(window.endsAt) },
    { label: 'Reason', value: window.reason },
  ];
}

function filterOf(slots: Slots): { service?: string; environment?: string } {
  return {
    ...(slots.service === undefined ? {} : { service: String(slots.service) }),
    ...(slots.environment === undefined ? {} : { environment: String(slots.environment) }),
  };
}

/** " for payments in staging", or "" when neither was said. */
function place(slots: Slots, preposition: string): string {
  if (slots.service === undefined && slots.environment === undefined) return '';
  const service = slots.service === undefined ? '' : ` ${slots.service}`;
  const environment = slots.environment === undefined ? '' : ` in ${slots.environment}`;
  return `${slots.service === undefined ? '' : preposition}${service}${environment}`;
}

/** "from 2026-03-01 22:00 UTC to 23:30 UTC" (the date again only when it changes). */
function span(window: MaintenanceWindow): string {
  const from = utc(window.startsAt);
  const to = utc(window.endsAt);
  return `from ${from} to ${from.slice(0, 10) === to.slice(0, 10) ? to.slice(11) : to}`;
}

function utc(iso: string): string {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? iso : `${new Date(t).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}
