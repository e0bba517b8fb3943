import type { FiringAlert, FiringAlerts } from '../../engines/orchestrator/alerts/firing-alerts';
import type { BadgeState, Block, Reply, StatusBadge } from '../core/message';
import type { Skill } from './skill';

/** Alert names a reply lists, loudest first; the rest are counted. */
const GROUPS_SHOWN = 10;
/** What each alert name's line names (services, jobs, instances) before it says how many more. */
const SUBJECTS_SHOWN = 5;
const SEVERITY_RANK: Readonly<Record<string, number>> = { critical: 0, error: 1, warning: 2, info: 3 };
const UNRANKED_SEVERITY = 4;

/** The alerts of one alert name. */
interface AlertGroup {
  name: string;
  severity: string | undefined;
  alerts: FiringAlert[];
  /** Silenced or inhibited: firing, but nobody is paged for it. */
  quiet: number;
}

/**
 * "What alerts are firing?": the alerts firing now, from Alertmanager when one is configured (silenced and
 * inhibited ones marked) or from what opsbot received on its webhooks, grouped by alert name, loudest first.
 * "Any alerts for payments?" narrows to a service, "is ServiceDown firing?" to an alert name. When the list
 * cannot be read, the reply says so instead of claiming nothing fires.
 */
export function createAlertStatusSkill(deps: { alerts: FiringAlerts }): Skill {
  return {
    intent: 'alert_status',
    permission: 'alerts.read',
    summary: 'List firing alerts',
    examples: ['what alerts are firing?', 'any alerts for payments?'],
    slots: [
      { entity: 'service', required: false, prompt: 'For which service?' },
      { entity: 'alertname', required: false, prompt: 'Which alert?' },
    ],
    mutating: false,
    installed: true,
    async handle({ slots }) {
      const service = slots.service === undefined ? undefined : String(slots.service);
      const alertname = slots.alertname === undefined ? undefined : String(slots.alertname);
      let alerts: FiringAlert[];
      try {
        alerts = await deps.alerts.firing();
      } catch (err) {
        const text = `I could not read the alerts from ${deps.alerts.description}: ${(err as Error).message}. I can't tell what is firing right now.`;
        return {
          text,
          blocks: [
            { type: 'section', text },
            { type: 'status', badges: [{ label: 'Alerts', state: 'unknown', detail: 'unreachable' }] },
          ],
        };
      }
      const shown = alerts.filter(
        (a) =>
          (service === undefined || a.labels.service === service) &&
          (alertname === undefined || a.labels.alertname?.toLowerCase() === alertname.toLowerCase()),
      );
      const about = [alertname, service && `for ${service}`].filter(Boolean).join(' ');
      if (shown.length === 0) {
        const text = `Nothing${about ? ` (${about})` : ''} is firing, according to ${deps.alerts.description}.`;
        return {
          text,
          blocks: [
            { type: 'section', text },
            { type: 'status', badges: [{ label: 'Alerts', state: 'ok', detail: 'none firing' }] },
          ],
        };
      }
      return firingReply(groupsOf(shown), shown, about, deps.alerts.description);
    },
  };
}

function firingReply(groups: AlertGroup[], alerts: FiringAlert[], about: string, source: string): Reply {
  const quiet = alerts.filter(isQuiet).length;
  const count = `${alerts.length} alert${alerts.length === 1 ? '' : 's'}${about ? ` (${about})` : ''}`;
  const heading = `${count} ${alerts.length === 1 ? 'is' : 'are'} firing${quiet > 0 ? `, ${quiet} of them silenced or inhibited` : ''}, according to ${source}:`;
  const listed = groups.slice(0, GROUPS_SHOWN);
  const lines = listed.map(groupLine);
  if (groups.length > listed.length) lines.push(`…and ${groups.length - listed.length} more alert names.`);
  const blocks: Block[] = [
    { type: 'section', text: heading },
    { type: 'list', items: lines },
    { type: 'status', badges: listed.map(groupBadge) },
  ];
  return { text: [heading, ...lines].join('\n'), blocks };
}

/** "ServiceDown (critical): payments since 2026-03-01 14:02 UTC [silenced], orders since …". */
function groupLine(group: AlertGroup): string {
  const subjects = group.alerts.slice(0, SUBJECTS_SHOWN).map((a) => {
    const marks = [
      a.silencedBy.length > 0 ? `silenced by ${a.silencedBy.map(shortId).join(', ')}` : undefined,
      a.inhibited ? 'inhibited' : undefined,
    ].filter(Boolean);
    return `${subjectOf(a)} since ${utc(a.startsAt)}${marks.length > 0 ? ` [${marks.join('; ')}]` : ''}`;
  });
  const more = group.alerts.length - subjects.length;
  const summary = group.alerts.length === 1 ? group.alerts[0]?.annotations.summary : undefined;
  return `${group.name}${group.severity ? ` (${group.severity})` : ''}: ${subjects.join(', ')}${more > 0 ? ` and ${more} more` : ''}${summary ? ` — ${summary}` : ''}`;
}

function groupBadge(group: AlertGroup): StatusBadge {
  const loud = group.alerts.length - group.quiet;
  const state: BadgeState =
    loud === 0
      ? 'info'
      : group.severity === 'critical' || group.severity === 'error'
        ? 'critical'
        : 'warning';
  const detail =
    group.quiet === 0
      ? `${group.alerts.length} firing`
      : `${group.alerts.length} firing, ${group.quiet} silenced or inhibited`;
  return { label: group.name, state, detail };
}

/** Grouped by alert name; groups that page someone first, then by severity, then by size. */
function groupsOf(alerts: FiringAlert[]): AlertGroup[] {
  const byName = new Map<string, FiringAlert[]>();
  for (const alert of alerts) {
    const name = alert.labels.alertname ?? `alert ${alert.fingerprint}`;
    byName.set(name, [...(byName.get(name) ?? []), alert]);
  }
  const groups = [...byName].map(([name, members]) => ({
    name,
    severity: worstSeverity(members),
    alerts: [...members].sort((a, b) => Number(isQuiet(a)) - Number(isQuiet(b))),
    quiet: members.filter(isQuiet).length,
  }));
  return groups.sort(
    (a, b) =>
      Number(a.quiet === a.alerts.length) - Number(b.quiet === b.alerts.length) ||
      rank(a.severity) - rank(b.severity) ||
      b.alerts.length - a.alerts.length ||
      a.name.localeCompare(b.name),
  );
}

function worstSeverity(alerts: FiringAlert[]): string | undefined {
  const severities = alerts.map((a) => a.labels.severity).filter((s): s is string => s !== undefined);
  return severities.sort((a, b) => rank(a) - rank(b))[0];
}

function rank(severity: string | undefined): number {
  return (severity === undefined ? undefined : SEVERITY_RANK[severity]) ?? UNRANKED_SEVERITY;
}

function isQuiet(alert: FiringAlert): boolean {
  return alert.silencedBy.length > 0 || alert.inhibited;
}

/** What the alert is about: its service, else its job or instance. */
function subjectOf(alert: FiringAlert): string {
  const { service, environment, job, instance } = alert.labels;
  const subject = service ?? job ?? instance ?? alert.fingerprint;
  return environment ? `${subject} (${environment})` : subject;
}

/** Silence ids are UUIDs; their first 8 characters tell them apart in a reply. */
function shortId(id: string): string {
  return id.slice(0, 8);
}

function utc(iso: string): string {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? iso : `${new Date(t).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}
