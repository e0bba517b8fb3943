import type { AuditTrail } from '../core/audit-trail';
import type { Block, Reply } from '../core/message';
import type { DeadLetter } from '../../engines/eventbus/dead-letters';
import type { OpsEvent } from '../../engines/eventbus/envelope';
import type { EventBus } from '../../engines/eventbus/event-bus';
import type { EventQuery } from '../../engines/eventbus/event-store';
import type { Skill } from './skill';

const DEFAULT_SHOWN = 10;
const MAX_SHOWN = 50;
const DEAD_LETTERS =
  /\b(?:dlq|dead[- ]?letters?(?: queue)?|poison (?:messages?|pills?)|undeliver(?:ed|able))\b/i;
const LAST_N =
  /\b(?:last|latest|recent|newest|top)\s+(\d{1,3})\b|\b(\d{1,3})\s+(?:most recent|latest|last|recent)\b/i;
const ID_PREFIXES = /^(?:order-|cus_)/;
const DATA_SUMMARY_CHARS = 120;
const REPLAY = /\b(?:replay|re-?play|redeliver|re-?deliver|retry|reprocess|re-?drive)\b/i;
export const REPLAY_PERMISSION = 'events.replay';
/** A dead letter's id, or the first 8 characters of it that listings show. */
const LETTER_ID = /\b([0-9a-f]{8})(?:-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})?\b/i;
const REPLAY_ONE = 'replay:';
const REPLAY_HINT =
  'Replay them by saying "replay the dead letters" (or "… of <type>"), with `opsbot events dlq replay`, or through POST /api/v1/dlq/replay.';

/**
 * Recent events and dead letters, from chat: "show the last 10 order.created events", "find events for order
 * 1234", "what's in the dead letter queue", and "replay the dead letters of order.created" (confirmed first,
 * with the events.replay permission, and audited).
 */
export function createQueryEventsSkill(deps: {
  bus: EventBus | undefined;
  audit: AuditTrail;
  now?: () => number;
}): Skill {
  const now = deps.now ?? Date.now;
  return {
    intent: 'query_events',
    permission: 'events.read',
    summary: 'Find events and inspect dead letters',
    examples: [
      'show the last 10 order.created events',
      'find events for order 1234',
      "what's in the dead letter queue?",
    ],
    slots: [
      { entity: 'event_type', required: false, prompt: 'Which event type?' },
      { entity: 'order_id', required: false, prompt: 'Which order?' },
      { entity: 'customer_id', required: false, prompt: 'Which customer?' },
      { entity: 'duration', required: false, prompt: 'Over how long?' },
    ],
    mutating: false,
    installed: true,
    variantOf: (text) => {
      if (!REPLAY.test(text)) return undefined;
      const id = LETTER_ID.exec(text)?.[1];
      if (id) return `${REPLAY_ONE}${id.toLowerCase()}`;
      return DEAD_LETTERS.test(text) ? 'replay' : undefined;
    },
    mutatingVariant: (variant) =>
      variant === 'replay' || variant.startsWith(REPLAY_ONE) ? REPLAY_PERMISSION : undefined,
    describe: (slots, variant) => {
      if (variant?.startsWith(REPLAY_ONE)) return `replay dead letter ${variant.slice(REPLAY_ONE.length)}`;
      if (variant === 'replay')
        return `replay the dead letters${slots.event_type === undefined ? '' : ` of ${slots.event_type}`}`;
      return 'find events';
    },
    async handle({ slots, turn, variant, user, roles, correlationId }) {
      if (!deps.bus) {
        return textOnly(
          "The event bus runs in the opsbot server (opsbot serve), and this chat can't reach it. Ask in the server's chat, or use GET /api/v1/events.",
        );
      }
      const shown = Math.min(MAX_SHOWN, shownCount(turn.text));
      const type = slots.event_type === undefined ? undefined : String(slots.event_type);
      if (variant === 'replay' || variant?.startsWith(REPLAY_ONE)) {
        const prefix = variant.startsWith(REPLAY_ONE) ? variant.slice(REPLAY_ONE.length) : undefined;
        const letter = prefix === undefined ? undefined : await findLetter(deps.bus, prefix);
        if (prefix !== undefined && !letter)
          return textOnly(`There is no dead letter ${prefix}. Nothing was replayed.`);
        const entry = {
          action: REPLAY_PERMISSION,
          actor: user.id,
          roles,
          correlationId,
          details: letter ? { id: letter.id } : { type: type ?? 'all' },
        };
        deps.audit.record({ ...entry, phase: 'started' });
        const result = await deps.bus.replay(letter ? { id: letter.id } : type === undefined ? {} : { type });
        deps.audit.record({
          ...entry,
          phase: result.failed.length > 0 ? 'failed' : result.replayed.length > 0 ? 'succeeded' : 'unchanged',
          details: { ...entry.details, replayed: result.replayed, failed: result.failed },
        });
        return replayReply(result.replayed.length, result.failed, type);
      }
      const asked = LETTER_ID.exec(turn.text)?.[1];
      if (asked && DEAD_LETTERS.test(turn.text)) {
        const letter = await findLetter(deps.bus, asked.toLowerCase());
        return letter ? deadLetterDetail(letter) : textOnly(`There is no dead letter ${asked}.`);
      }
      if (DEAD_LETTERS.test(turn.text))
        return deadLetterReply(await deps.bus.listDeadLetters({ type }), shown, type);

      const about = slots.order_id ?? slots.customer_id;
      const query: EventQuery = {
        type,
        mentions: about === undefined ? undefined : String(about).replace(ID_PREFIXES, ''),
        since: slots.duration === undefined ? undefined : new Date(now() - Number(slots.duration) * 1000),
        limit: shown,
      };
      return eventsReply(
        await deps.bus.queryEvents(query),
        query,
        about === undefined ? undefined : String(about),
      );
    },
  };
}

function shownCount(text: string): number {
  const match = LAST_N.exec(text);
  const n = Number(match?.[1] ?? match?.[2] ?? DEFAULT_SHOWN);
  return n >= 1 ? n : DEFAULT_SHOWN;
}

function eventsReply(events: OpsEvent[], query: EventQuery, about: string | undefined): Reply {
  const what = [
    query.type ? `${query.type} events` : 'events',
    about ? `for ${about.replace('-', ' ')}` : '',
    query.since ? `since ${query.since.toISOString().slice(11, 16)} UTC` : '',
  ]
    .filter(Boolean)
    .join(' ');
  if (events.length === 0) return textOnly(`No recent ${what}.`);
  const heading = `${events.length === 1 ? 'The latest' : `The latest ${events.length}`} ${what}, newest first:`;
  return {
    text: [heading, ...events.map(eventLine)].join('\n'),
    blocks: [
      { type: 'section', text: heading },
      { type: 'list', items: events.map(eventLine) },
    ],
  };
}

function deadLetterReply(letters: DeadLetter[], shown: number, type: string | undefined): Reply {
  const of = type ? ` of ${type}` : '';
  if (letters.length === 0) return textOnly(`The dead letter queue has nothing${of} in it.`);
  const heading = `The dead letter queue holds ${letters.length} event${letters.length === 1 ? '' : 's'}${of}${letters.length > shown ? `; the newest ${shown}` : ''}:`;
  const lines = letters.slice(0, shown).map(deadLetterLine);
  const blocks: Block[] = [
    { type: 'section', text: heading },
    { type: 'list', items: lines },
    { type: 'section', text: REPLAY_HINT },
  ];
  return { text: [heading, ...lines, REPLAY_HINT].join('\n'), blocks };
}

function replayReply(
  replayed: number,
  failed: { id: string; error: string }[],
  type: string | undefined,
): Reply {
  const of = type ? ` of ${type}` : '';
  if (replayed === 0 && failed.length === 0) return textOnly(`There were no dead letters${of} to replay.`);
  const done = `Replayed ${replayed} dead letter${replayed === 1 ? '' : 's'}${of}.`;
  if (failed.length === 0) return textOnly(done);
  const heading = `${done} ${failed.length} could not be replayed and stay in the queue:`;
  const lines = failed.map((f) => `${f.id.slice(0, 8)}: ${f.error}`);
  return {
    text: [heading, ...lines].join('\n'),
    blocks: [
      { type: 'section', text: heading },
      { type: 'list', items: lines },
    ],
  };
}

/** By its full id or the 8-character prefix listings show. */
async function findLetter(bus: EventBus, prefix: string): Promise<DeadLetter | undefined> {
  return (
    (await bus.getDeadLetter(prefix)) ?? (await bus.listDeadLetters()).find((l) => l.id.startsWith(prefix))
  );
}

function deadLetterDetail(letter: DeadLetter): Reply {
  const heading = `Dead letter ${letter.id}: ${letter.event.type} from ${letter.event.source}, ${letter.reason.replace('_', ' ')}.`;
  const fields = [
    { label: 'Where', value: letter.group ? `group ${letter.group}` : (letter.target ?? 'at publish') },
    { label: 'Attempts', value: String(letter.attempts) },
    { label: 'Error', value: letter.error },
    { label: 'Dead since', value: letter.deadAt },
    {
      label: 'Event',
      value: `${letter.event.id}${letter.event.subject ? ` (${letter.event.subject})` : ''}`,
    },
  ];
  const data = JSON.stringify(letter.event.data, null, 2) ?? 'null';
  return {
    text: [heading, ...fields.map((f) => `${f.label}: ${f.value}`), data].join('\n'),
    blocks: [
      { type: 'section', text: heading },
      { type: 'fields', fields },
      { type: 'code', code: data, language: 'json' },
      { type: 'section', text: `Replay it by saying "replay dead letter ${letter.id.slice(0, 8)}".` },
    ],
  };
}

function eventLine(e: OpsEvent): string {
  const about = [e.subject, e.correlationid ? `correlation ${e.correlationid}` : undefined]
    .filter(Boolean)
    .join(', ');
  return `${e.time.slice(0, 19).replace('T', ' ')} ${e.type} from ${e.source}${about ? ` (${about})` : ''}: ${dataSummary(e.data)}`;
}

function deadLetterLine(l: DeadLetter): string {
  const where = l.group ? `group ${l.group}` : l.target ? l.target : 'at publish';
  return `${l.id.slice(0, 8)} ${l.event.type} (${l.reason.replace('_', ' ')}, ${where}, ${l.attempts} attempt${l.attempts === 1 ? '' : 's'}): ${l.error}`;
}

function dataSummary(data: unknown): string {
  const text = JSON.stringify(data) ?? 'null';
  return text.length > DATA_SUMMARY_CHARS ? `${text.slice(0, DATA_SUMMARY_CHARS - 1)}…` : text;
}

function textOnly(text: string): Reply {
  return { text, blocks: [{ type: 'section', text }] };
}
