import type { BadgeState, Block, Button, Citation, Reply, StatusBadge } from '../../bot/core/message';
import { chartLine, chartPngDataUri } from '../chart-images';
import { isRecord } from '../is-record';
import { bound, chunk, inlineSpans, isWordChar, replyBlocks, webUrl } from '../reply-rendering';

export const ADAPTIVE_CARD_CONTENT_TYPE = 'application/vnd.microsoft.card.adaptive';
/** The one Action.Execute verb opsbot uses; which button was pressed travels in the action's data. */
export const TEAMS_ACTION_VERB = 'opsbot.action';
/**
 * Teams refuses messages over about 28 KB; the card stays under this so the activity around it (text,
 * entities, envelope) still fits.
 */
export const TEAMS_CARD_MAX_BYTES = 24 * 1024;
/** Action sets and card actions show at most this many buttons (the Adaptive Cards default host config). */
export const TEAMS_MAX_ACTIONS = 5;
/** Longest button title; Teams shows button titles on one line. */
export const TEAMS_MAX_TITLE = 75;
/** Longest text of one card element before it is cut; the card's byte budget may cut it further. */
export const TEAMS_MAX_TEXT = 8000;

export type CardColor = 'default' | 'good' | 'warning' | 'attention' | 'accent';

export interface TextBlockElement {
  type: 'TextBlock';
  text: string;
  wrap: true;
  weight?: 'bolder';
  size?: 'small';
  isSubtle?: true;
  color?: CardColor;
  fontType?: 'Monospace';
  spacing?: 'none' | 'small';
}
export interface FactSetElement {
  type: 'FactSet';
  facts: { title: string; value: string }[];
}
export interface ColumnElement {
  type: 'Column';
  width: 'auto' | 'stretch';
  items: CardElement[];
}
export interface ColumnSetElement {
  type: 'ColumnSet';
  columns: ColumnElement[];
  spacing?: 'small';
}
export interface ContainerElement {
  type: 'Container';
  items: CardElement[];
  style?: 'emphasis';
}
export interface ActionSetElement {
  type: 'ActionSet';
  actions: ExecuteAction[];
}
/** Teams shows data: URIs in cards a bot sends, so a chart needs no public image host. */
export interface ImageElement {
  type: 'Image';
  url: string;
  altText: string;
  size: 'stretch';
}
export type CardElement =
  TextBlockElement | FactSetElement | ColumnSetElement | ContainerElement | ActionSetElement | ImageElement;

/** What every opsbot button carries; Action.Submit hands it back as activity.value, Action.Execute as action.data. */
export interface OpsbotActionData {
  opsbot: { actionId: string; value: string; label: string };
}
export interface SubmitAction {
  type: 'Action.Submit';
  title: string;
  data: OpsbotActionData;
  style?: 'positive' | 'destructive';
}
export interface ExecuteAction {
  type: 'Action.Execute';
  title: string;
  verb: typeof TEAMS_ACTION_VERB;
  data: OpsbotActionData;
  style?: 'positive' | 'destructive';
  /** Hosts without Universal Actions render this instead, and deliver the click as a message activity. */
  fallback: SubmitAction;
}

export interface AdaptiveCard {
  type: 'AdaptiveCard';
  $schema: 'http://adaptivecards.io/schemas/adaptive-card.json';
  version: '1.5';
  body: CardElement[];
  actions?: ExecuteAction[];
  msteams: { width: 'Full' };
}

export interface TeamsAction {
  actionId: string;
  value: string;
  label?: string;
}

const BADGE: Record<BadgeState, { mark: string; color: CardColor }> = {
  ok: { mark: 'OK', color: 'good' },
  warning: { mark: 'WARN', color: 'warning' },
  critical: { mark: 'DOWN', color: 'attention' },
  unknown: { mark: 'UNKNOWN', color: 'default' },
  info: { mark: 'INFO', color: 'accent' },
};

const NO_BREAK_SPACE = '\u00a0';

export function renderForTeams(reply: Reply): { text: string; card: AdaptiveCard } {
  return { text: bound(reply.text, TEAMS_MAX_TEXT), card: composeCard([], reply) };
}

/** The card that replaces a clicked card: who chose what, then the reply to the click with its own buttons. */
export function renderClickOutcome(click: { who: string; label: string }, outcome: Reply): AdaptiveCard {
  const who = plain(bound(click.who.trim() || 'Someone', TEAMS_MAX_TITLE));
  const label = click.label.trim();
  const chose = label ? `**${plain(bound(label, TEAMS_MAX_TITLE))}**` : 'an option';
  return composeCard([textBlock(`${who} chose ${chose}`)], outcome);
}

/**
 * A click's data: Action.Submit's activity.value, Action.Execute's action.data, or a whole Action.Execute invoke
 * value ({ action: { verb, data } }). Undefined for anything opsbot did not render.
 */
export function actionFromData(data: unknown): TeamsAction | undefined {
  if (!isRecord(data)) return undefined;
  if (isRecord(data.action)) {
    return data.action.verb === TEAMS_ACTION_VERB ? actionFromData(data.action.data) : undefined;
  }
  const opsbot = data.opsbot;
  if (!isRecord(opsbot)) return undefined;
  const { actionId, value, label } = opsbot;
  if (typeof actionId !== 'string' || actionId === '' || typeof value !== 'string') return undefined;
  if (label !== undefined && typeof label !== 'string') return undefined;
  return { actionId, value, ...(label !== undefined ? { label } : {}) };
}

function composeCard(lead: CardElement[], reply: Reply): AdaptiveCard {
  const blocks = replyBlocks(reply);
  const buttons = blocks.flatMap((b) => (b.type === 'buttons' ? b.buttons : []));
  // A few buttons sit under the card; more than a host shows there go in rows where their block stands.
  const inRows = buttons.length > TEAMS_MAX_ACTIONS;
  const body = [...lead, ...blocks.flatMap((block) => renderBlock(block, inRows))];
  const card: AdaptiveCard = {
    type: 'AdaptiveCard',
    $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
    version: '1.5',
    body,
    ...(!inRows && buttons.length > 0 ? { actions: buttons.map(executeAction) } : {}),
    msteams: { width: 'Full' },
  };
  return fitCard(card);
}

function renderBlock(block: Block, buttonsInRows: boolean): CardElement[] {
  switch (block.type) {
    case 'section':
      return block.text.trim()
        ? [textBlock(markdown(bound(block.text, TEAMS_MAX_TEXT)).replace(/(?:\r?\n)+/g, '\n\n'))]
        : [];
    case 'fields': {
      const facts = block.fields
        .filter((f) => f.label.trim() || f.value.trim())
        .map((f) => ({
          title: plain(bound(f.label, TEAMS_MAX_TITLE)),
          value: markdown(bound(f.value, TEAMS_MAX_TEXT)),
        }));
      return facts.length > 0 ? [{ type: 'FactSet', facts }] : [];
    }
    case 'list': {
      const lines = block.items.map(
        (item, i) =>
          `${block.ordered ? `${i + 1}.` : '-'} ${markdown(bound(item, TEAMS_MAX_TEXT).replace(/\s*\n\s*/g, ' '))}`,
      );
      return lines.length > 0 ? [textBlock(lines.join('\r'))] : [];
    }
    case 'code':
      return block.code.trim() ? [codeContainer(bound(block.code, TEAMS_MAX_TEXT))] : [];
    case 'buttons':
      return buttonsInRows
        ? chunk(block.buttons, TEAMS_MAX_ACTIONS).map((row) => ({
            type: 'ActionSet',
            actions: row.map(executeAction),
          }))
        : [];
    case 'citations':
      return block.citations.length > 0 ? [citationsContainer(block.citations)] : [];
    case 'status':
      return block.badges.length > 0 ? [{ type: 'Container', items: block.badges.map(badgeColumns) }] : [];
    case 'chart':
      return [
        {
          type: 'Container',
          items: [
            textBlock(plain(bound(block.title, TEAMS_MAX_TITLE)), { size: 'small', isSubtle: true }),
            {
              type: 'Image',
              url: chartPngDataUri(block),
              altText: plain(bound(`${block.title}: ${chartLine(block)}`, TEAMS_MAX_TEXT)),
              size: 'stretch',
            },
            textBlock(
              plain(`now ${block.summary.latest} · min ${block.summary.min} · max ${block.summary.max}`),
              { size: 'small', spacing: 'none' },
            ),
          ],
        },
      ];
  }
}

function textBlock(
  text: string,
  extra: Omit<TextBlockElement, 'type' | 'text' | 'wrap'> = {},
): TextBlockElement {
  return { type: 'TextBlock', text, wrap: true, ...extra };
}

/**
 * One monospace line per TextBlock: TextBlocks always apply markdown and collapse line breaks, so each line
 * is escaped, keeps its indentation as no-break spaces, and cannot start a list or heading. Lines sit tight;
 * a blank line becomes the ordinary gap before the next one.
 */
function codeContainer(code: string): ContainerElement {
  const items: TextBlockElement[] = [];
  let afterBlank = false;
  for (const line of code.split('\n')) {
    if (line.trim() === '') {
      afterBlank = items.length > 0;
      continue;
    }
    const spacing = items.length > 0 && !afterBlank ? { spacing: 'none' as const } : {};
    items.push(textBlock(codeLine(line), { fontType: 'Monospace', ...spacing }));
    afterBlank = false;
  }
  return { type: 'Container', style: 'emphasis', items };
}

function codeLine(line: string): string {
  const [, indent = '', rest = ''] = /^(\s*)(.*)$/.exec(line) ?? [];
  const escaped = escapeMarkdown(rest, false).replace(/^([-+>#]|\d+(?=[.)]))/, (m) =>
    /^\d/.test(m) ? m + '\\' : '\\' + m,
  );
  return NO_BREAK_SPACE.repeat(indent.replace(/\t/g, '    ').length) + escaped;
}

function citationsContainer(citations: Citation[]): ContainerElement {
  const small = { size: 'small', isSubtle: true } as const;
  return {
    type: 'Container',
    items: [
      textBlock('Sources', { ...small, weight: 'bolder' }),
      ...citations.map((c) => {
        const title = plain(bound(c.title, 500));
        // A parenthesis would end the markdown link target early.
        const url = webUrl(c.url)?.replace(/\(/g, '%28').replace(/\)/g, '%29');
        const parts = [
          (url ? `[${title}](${url})` : title) + (c.heading ? ` › ${plain(bound(c.heading, 500))}` : ''),
          plain(bound(c.source, 500)),
          ...(c.score !== undefined ? [c.score.toFixed(2)] : []),
        ];
        return textBlock(parts.join(' · '), { ...small, spacing: 'none' });
      }),
    ],
  };
}

function badgeColumns(badge: StatusBadge): ColumnSetElement {
  const { mark, color } = BADGE[badge.state];
  const label = badge.label.trim() ? `**${plain(bound(badge.label, 500))}**` : '';
  const detail = badge.detail?.trim() ? markdown(bound(badge.detail, TEAMS_MAX_TEXT)) : '';
  const text = [label, detail].filter(Boolean).join(' — ');
  const columns: ColumnElement[] = [
    { type: 'Column', width: 'auto', items: [textBlock(mark, { weight: 'bolder', color })] },
  ];
  if (text) columns.push({ type: 'Column', width: 'stretch', items: [textBlock(text)] });
  return { type: 'ColumnSet', spacing: 'small', columns };
}

function executeAction(button: Button): ExecuteAction {
  const title = bound(button.label.trim() || button.actionId, TEAMS_MAX_TITLE);
  const data: OpsbotActionData = { opsbot: { actionId: button.actionId, value: button.value, label: title } };
  const style =
    button.style === 'primary' ? 'positive' : button.style === 'danger' ? 'destructive' : undefined;
  return {
    type: 'Action.Execute',
    title,
    verb: TEAMS_ACTION_VERB,
    data,
    ...(style ? { style } : {}),
    fallback: { type: 'Action.Submit', title, data, ...(style ? { style } : {}) },
  };
}

/**
 * Over the size budget the card loses body content from the end (the last lines of a container first, then
 * whole elements) and says it was shortened; buttons stay, so a confirmation is never cut off.
 */
function fitCard(card: AdaptiveCard): AdaptiveCard {
  if (byteSize(card) <= TEAMS_CARD_MAX_BYTES) return card;
  const note = textBlock('_This reply was shortened to fit in Teams._', { isSubtle: true });
  const body = [...card.body];
  const shortened = (): AdaptiveCard => ({ ...card, body: [...body, note] });
  let size = byteSize(shortened());
  while (size > TEAMS_CARD_MAX_BYTES) {
    let index = body.length - 1;
    while (index > 0 && body[index]?.type === 'ActionSet') index -= 1;
    const last = body[index];
    if (last === undefined) break;
    let removed: CardElement | undefined = last;
    if (last.type === 'Container' && last.items.length > 1) {
      removed = last.items.at(-1);
      body[index] = { ...last, items: last.items.slice(0, -1) };
    } else {
      body.splice(index, 1);
    }
    // Serialising the whole card per removed line would be quadratic: count down by the removed JSON and
    // its comma, and measure exactly once the estimate says it fits.
    size -= byteSize(removed) + 1;
    if (size <= TEAMS_CARD_MAX_BYTES) size = byteSize(shortened());
  }
  return shortened();
}

function byteSize(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value) ?? '', 'utf8');
}

/** Core text (**bold** and `code` spans) as Teams markdown; everything else is shown as typed. */
function markdown(text: string): string {
  return inlineSpans(text)
    .map((span) => {
      switch (span.kind) {
        case 'typed':
          return plain(span.text);
        case 'code':
          // Card markdown has no code spans; the backticks stay as the familiar marker, the content literal.
          return `\`${escapeMarkdown(span.text, false)}\``;
        case 'bold':
          // Markers around nothing but whitespace format nothing, so they are shown as typed.
          return span.text
            ? `${span.lead}**${plain(span.text)}**${span.trail}`
            : plain(`**${span.lead}${span.trail}**`);
      }
    })
    .join('');
}

function plain(text: string): string {
  return escapeMarkdown(text, true);
}

/**
 * Backslash-escapes what card markdown would read as emphasis or a link. An underscore inside a word
 * (snake_case) never starts emphasis, so prose keeps it as typed; code escapes every one.
 */
function escapeMarkdown(text: string, keepWordUnderscores: boolean): string {
  return text.replace(/\\(?=[!-/:-@[-`{-~])|[*_[\]]/g, (c, offset: number) =>
    keepWordUnderscores && c === '_' && isWordChar(text[offset - 1]) && isWordChar(text[offset + 1])
      ? c
      : '\\' + c,
  );
}
