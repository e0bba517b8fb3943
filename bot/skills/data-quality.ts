import type { Block, Reply } from '../core/message';
import type { PiiFirewall } from '../../engines/quality/firewall/pii-firewall';
import type { EventTypeQuality, QualityMonitor } from '../../engines/quality/quality-monitor';
import type { Skill } from './skill';

/** Event types a reply describes, busiest first; the rest are counted. */
const TYPES_SHOWN = 5;
const VIOLATION_GROUPS_SHOWN = 3;
const ANOMALIES_SHOWN = 3;
const RECONCILE = /\breconcil\w*\b/i;

/**
 * "Any data quality issues in orders?": what the quality engine saw in the events routed to it (validation,
 * anomalies), and what the PII firewall redacted since start, by path and type. Reconciliation compares two
 * datasets someone names, so from chat it points at the command that takes them.
 */
export function createDataQualitySkill(deps: {
  monitor: QualityMonitor | undefined;
  firewall: PiiFirewall;
}): Skill {
  return {
    intent: 'data_quality',
    permission: 'quality.read',
    summary: 'Report data quality, anomalies and PII findings',
    examples: ['any data quality issues in orders?', 'were there anomalies in order.created?'],
    slots: [
      { entity: 'event_type', required: false, prompt: 'Which event type?' },
      { entity: 'service', required: false, prompt: 'Which service?' },
    ],
    mutating: false,
    installed: true,
    async handle(ctx) {
      const blocks: Block[] = [];
      const lines: string[] = [];
      if (RECONCILE.test(ctx.turn.text)) {
        const how =
          'Reconciliation compares two keyed datasets you give it: `opsbot quality reconcile --left a.jsonl --right b.jsonl --key id` lists the keys missing on either side, duplicated keys and fields that differ.';
        lines.push(how);
      }
      const match = typeof ctx.slots.event_type === 'string' ? ctx.slots.event_type : ctx.slots.service;
      const filter = typeof match === 'string' ? match : undefined;
      if (!deps.monitor) {
        lines.push(
          'The quality engine runs in the opsbot server; ask there (this process has no event bus).',
        );
      } else {
        const types = deps.monitor.report(filter);
        if (types.length === 0) {
          lines.push(
            filter
              ? `No ${filter} events have reached the quality engine since it started.`
              : 'No events have reached the quality engine since it started. Route some to it with a rule whose target is `engine: quality`.',
          );
        } else {
          const shown = types.slice(0, TYPES_SHOWN);
          for (const type of shown) lines.push(typeLine(type));
          if (types.length > shown.length)
            lines.push(`…and ${types.length - shown.length} more event types.`);
          const anomalies = shown
            .flatMap((t) => t.anomalies)
            .sort((a, b) => b.t - a.t)
            .slice(0, ANOMALIES_SHOWN);
          if (anomalies.length > 0)
            blocks.push({ type: 'list', items: anomalies.map((a) => `${a.series}: ${a.explanation}`) });
          const busiest = shown[0] as EventTypeQuality;
          const chart = deps.monitor.chart(busiest.type);
          if (chart && busiest.checked > 0) blocks.push(chart);
        }
      }
      const pii = piiLine(deps.firewall);
      if (pii) lines.push(pii);
      const text = lines.join('\n');
      return reply(text, blocks);
    },
  };
}

function typeLine(type: EventTypeQuality): string {
  const events = `${type.events.toLocaleString('en-US')} event${type.events === 1 ? '' : 's'}`;
  if (type.checked === 0) {
    const anomalies = type.anomalies.length;
    return `${type.type}: ${events}, no validation rule applies${anomalies > 0 ? `; ${anomalies} anomal${anomalies === 1 ? 'y' : 'ies'}` : ''}.`;
  }
  const groups = type.byCheck
    .slice(0, VIOLATION_GROUPS_SHOWN)
    .map((g) => `${g.count} ${g.check} ${g.field || '(record)'}`)
    .join(', ');
  const anomalies =
    type.anomalies.length > 0
      ? `; ${type.anomalies.length} anomal${type.anomalies.length === 1 ? 'y' : 'ies'}`
      : '';
  return type.invalid === 0
    ? `${type.type}: ${events}, all ${type.checked.toLocaleString('en-US')} checked valid${anomalies}.`
    : `${type.type}: ${events}, ${type.validPercent}% valid; ${type.invalid.toLocaleString('en-US')} invalid (${groups})${anomalies}.`;
}

/** "PII firewall since start: chat 3 secret, 1 email; logs 2 ip_address." Counts only. */
function piiLine(firewall: PiiFirewall): string | undefined {
  const counts = firewall.findingCounts();
  if (counts.length === 0) return 'PII firewall: nothing redacted since start.';
  const byPath = new Map<string, string[]>();
  for (const { path, type, count } of counts)
    byPath.set(path, [...(byPath.get(path) ?? []), `${count} ${type}`]);
  return `PII firewall since start: ${[...byPath].map(([path, parts]) => `${path} ${parts.join(', ')}`).join('; ')}.`;
}

function reply(text: string, extra: Block[]): Reply {
  return { text, blocks: [{ type: 'section', text }, ...extra] };
}
