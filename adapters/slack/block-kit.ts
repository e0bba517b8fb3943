import type { types } from '@slack/bolt';
import type { BadgeState, Button, ChartBlock, Citation, Reply, StatusBadge } from '../../bot/core/message';
import { chartLine } from '../chart-images';
import { type BoldSpan, chunk, inlineSpans, isWordChar, replyBlocks, webUrl } from '../reply-rendering';

type KnownBlock = types.KnownBlock;
type ActionsBlock = types.ActionsBlock;
type ContextBlock = types.ContextBlock;
type SectionBlock = types.SectionBlock;
type SlackButton = types.Button;
type MrkdwnElement = types.MrkdwnElement;

/** The message Slack's chat.postMessage and chat.update take: fallback text plus the blocks. */
export interface SlackMessage {
  text: string;
  blocks: KnownBlock[];
}

/** Slack's documented Block Kit limits; Slack rejects a whole message that breaks any one of them. */
export const SLACK_LIMITS = {
  blocksPerMessage: 50,
  sectionText: 3000,
  fieldsPerSection: 10,
  fieldText: 2000,
  contextElements: 10,
  /** A context element is a text object, which Slack caps like a section's text. */
  contextElementText: 3000,
  actionsElements: 25,
  buttonText: 75,
  buttonValue: 2000,
  actionId: 255,
  blockId: 255,
  messageText: 40000,
  imageAltText: 2000,
  imageTitle: 2000,
} as const;

export interface SlackRenderOptions {
  /** block_id for actions blocks: the adapter encodes the conversation in it so a click finds its way back. */
  actionsBlockId?: string;
  /** A public URL of the chart's PNG, when opsbot serves charts where Slack can fetch them. */
  chartImageUrl?: (chart: ChartBlock) => string | undefined;
}

const BADGE_EMOJI: Record<BadgeState, string> = {
  ok: ':large_green_circle:',
  warning: ':warning:',
  critical: ':red_circle:',
  unknown: ':white_circle:',
  info: ':information_source:',
};

const ZERO_WIDTH_SPACE = '\u200b';
const ELLIPSIS = '…';
const PROSE_BREAKS = ['\n\n', '\n', ' '];
const CODE_BREAKS = ['\n', ' '];

export function renderForSlack(reply: Reply, options: SlackRenderOptions = {}): SlackMessage {
  let actionsBlocks = 0;
  const nextActionsBlockId = (): string | undefined => {
    const base = options.actionsBlockId;
    if (base === undefined) return undefined;
    actionsBlocks += 1;
    const id = actionsBlocks === 1 ? base : `${base}#${actionsBlocks}`;
    if (id.length === 0 || id.length > SLACK_LIMITS.blockId) {
      throw new Error(`Slack block_id must be 1-${SLACK_LIMITS.blockId} characters, got ${id.length}`);
    }
    return id;
  };

  const blocks = replyBlocks(reply).flatMap((block): KnownBlock[] => {
    switch (block.type) {
      case 'section':
        return sections(splitToFit(block.text, mrkdwn, SLACK_LIMITS.sectionText, PROSE_BREAKS).map(mrkdwn));
      case 'fields':
        return fieldSections(block.fields);
      case 'list':
        return sections(
          packLines(
            block.items.map((item, i) => mrkdwnLine(`${block.ordered ? `${i + 1}.` : '•'} ${item}`)),
            SLACK_LIMITS.sectionText,
          ),
        );
      case 'code':
        return block.code.trim()
          ? sections(splitToFit(block.code, fence, SLACK_LIMITS.sectionText, CODE_BREAKS).map(fence))
          : [];
      case 'buttons':
        return actionsRows(block.buttons).map((elements): ActionsBlock => {
          const blockId = nextActionsBlockId();
          return { type: 'actions', ...(blockId !== undefined ? { block_id: blockId } : {}), elements };
        });
      case 'citations':
        return citationBlocks(block.citations);
      case 'status':
        return sections(packLines(block.badges.map(badgeLine), SLACK_LIMITS.sectionText));
      case 'chart': {
        const imageUrl = options.chartImageUrl?.(block);
        // Slack fetches an image block's picture itself, so one only exists where opsbot has a public URL.
        if (imageUrl) {
          return [
            {
              type: 'image',
              image_url: imageUrl,
              alt_text: truncateToFit(
                `${block.title}: ${chartLine(block)}`,
                escapeControl,
                SLACK_LIMITS.imageAltText,
              ),
              title: {
                type: 'plain_text',
                text: truncateToFit(block.title, escapeControl, SLACK_LIMITS.imageTitle),
              },
            },
          ];
        }
        return [
          {
            type: 'context',
            elements: [
              {
                type: 'mrkdwn',
                text: truncateToFit(
                  `${block.title}  \`${chartLine(block)}\``,
                  escapeControl,
                  SLACK_LIMITS.contextElementText,
                ),
              },
            ],
          },
        ];
      }
    }
  });

  return {
    text: truncateToFit(reply.text, escapeControl, SLACK_LIMITS.messageText),
    blocks: capBlocks(blocks),
  };
}

/**
 * The clicked message's blocks with the clicked button's row replaced by who chose what, and every other row
 * of buttons removed, so a confirmation cannot be clicked twice.
 */
export function markClicked(
  blocks: KnownBlock[],
  click: { userId: string; actionId: string; value: string },
): KnownBlock[] {
  const buttonsOf = (block: KnownBlock): SlackButton[] =>
    block.type === 'actions' ? block.elements.filter((e): e is SlackButton => e.type === 'button') : [];
  const exact = (b: SlackButton) => b.action_id === click.actionId && (b.value ?? '') === click.value;
  let index = blocks.findIndex((block) => buttonsOf(block).some(exact));
  if (index === -1) index = blocks.findIndex((block) => block.type === 'actions');
  if (index === -1) return blocks;

  const buttons = blocks.flatMap(buttonsOf);
  const clicked = buttons.find(exact) ?? buttons.find((b) => b.action_id === click.actionId);
  const label = clicked?.text.text.trim() || click.actionId;
  const note: ContextBlock = {
    type: 'context',
    elements: [
      {
        type: 'mrkdwn',
        text: truncateToFit(
          label,
          (l) => `<@${escapeControl(click.userId)}> chose ${strong(l)}`,
          SLACK_LIMITS.contextElementText,
        ),
      },
    ],
  };
  return blocks.flatMap((block, i) => (i === index ? [note] : block.type === 'actions' ? [] : [block]));
}

function badgeLine(badge: StatusBadge): string {
  const head = [
    BADGE_EMOJI[badge.state],
    ...(badge.label.trim() ? [truncateToFit(badge.label, strong, SLACK_LIMITS.sectionText / 4)] : []),
  ].join(' ');
  return truncateToFit(
    badge.detail ?? '',
    (detail) => (detail ? `${head} — ${mrkdwn(detail)}` : head),
    SLACK_LIMITS.sectionText,
  );
}

function sections(texts: string[]): SectionBlock[] {
  return texts
    .filter((text) => text.trim() !== '')
    .map((text) => ({ type: 'section', text: { type: 'mrkdwn', text } }));
}

function fieldSections(fields: { label: string; value: string }[]): SectionBlock[] {
  const texts = fields
    .filter((f) => f.label.trim() || f.value.trim())
    .map((f) => {
      const head = f.label.trim() ? truncateToFit(f.label, strong, SLACK_LIMITS.fieldText / 4) : '';
      return truncateToFit(
        f.value,
        (value) => (head && value ? `${head}\n${mrkdwn(value)}` : head || mrkdwn(value)),
        SLACK_LIMITS.fieldText,
      );
    });
  return chunk(texts, SLACK_LIMITS.fieldsPerSection).map((group) => ({
    type: 'section',
    fields: group.map((text): MrkdwnElement => ({ type: 'mrkdwn', text })),
  }));
}

function actionsRows(buttons: Button[]): SlackButton[][] {
  const rows: SlackButton[][] = [];
  let row: SlackButton[] = [];
  for (const button of buttons) {
    const element = slackButton(button);
    // Slack wants action_ids unique within a block; repeating one (a choice among values) starts a new row.
    if (row.length === SLACK_LIMITS.actionsElements || row.some((e) => e.action_id === element.action_id)) {
      rows.push(row);
      row = [];
    }
    row.push(element);
  }
  if (row.length > 0) rows.push(row);
  return rows;
}

function slackButton(button: Button): SlackButton {
  // Ids and values are program data the click hands back; cutting them would act on something else.
  if (button.actionId.length === 0 || button.actionId.length > SLACK_LIMITS.actionId) {
    throw new Error(`Slack action_id must be 1-${SLACK_LIMITS.actionId} characters: "${button.actionId}"`);
  }
  if (button.value.length > SLACK_LIMITS.buttonValue) {
    throw new Error(
      `Button "${button.actionId}" has a ${button.value.length}-character value; Slack allows ${SLACK_LIMITS.buttonValue}`,
    );
  }
  return {
    type: 'button',
    action_id: button.actionId,
    text: {
      type: 'plain_text',
      text: truncateToFit(button.label.trim() || button.actionId, (l) => l, SLACK_LIMITS.buttonText),
      emoji: true,
    },
    // Slack rejects an empty value; a button without one hands back no value, which the adapter reads as ''.
    ...(button.value ? { value: button.value } : {}),
    ...(button.style ? { style: button.style } : {}),
  };
}

function citationBlocks(citations: Citation[]): ContextBlock[] {
  if (citations.length === 0) return [];
  const texts = ['*Sources:*', ...citations.map(citationText)];
  return chunk(texts, SLACK_LIMITS.contextElements).map((group) => ({
    type: 'context',
    elements: group.map((text): MrkdwnElement => ({ type: 'mrkdwn', text })),
  }));
}

function citationText(c: Citation): string {
  const rest = `${c.heading ? ` › ${literal(c.heading)}` : ''} · ${literal(c.source)}${c.score !== undefined ? ` · ${c.score.toFixed(2)}` : ''}`;
  // `|` would end the link target, and `&` is escaped as everywhere else in mrkdwn.
  const url = webUrl(c.url)?.replace(/\|/g, '%7C').replace(/&/g, '&amp;');
  const linked = url ? `<${url}|${literal(c.title)}>${rest}` : undefined;
  if (linked && linked.length <= SLACK_LIMITS.contextElementText) return linked;
  return truncateToFit(`${c.title}${rest}`, literal, SLACK_LIMITS.contextElementText);
}

/** Past Slack's block limit the reply keeps its first blocks and says how much it left out. */
function capBlocks(blocks: KnownBlock[]): KnownBlock[] {
  if (blocks.length <= SLACK_LIMITS.blocksPerMessage) return blocks;
  const kept = blocks.slice(0, SLACK_LIMITS.blocksPerMessage - 1);
  const omitted = blocks.length - kept.length;
  return [
    ...kept,
    {
      type: 'context',
      elements: [
        {
          type: 'mrkdwn',
          text: `_${omitted} more block${omitted === 1 ? ' was' : 's were'} left out: the reply is too long for one Slack message._`,
        },
      ],
    },
  ];
}

/** Core text (**bold** and `code` spans) as Slack mrkdwn, with everything else shown literally. */
function mrkdwn(text: string): string {
  return inlineSpans(text)
    .map((span) => {
      switch (span.kind) {
        case 'typed':
          return literal(span.text);
        case 'code':
          return codeSpan(span.text);
        case 'bold': {
          // Slack only formats markers at a word boundary; an invisible space gives it one.
          const before = isWordChar(span.before) ? ZERO_WIDTH_SPACE : '';
          const after = isWordChar(span.after) ? ZERO_WIDTH_SPACE : '';
          return before + strongInline(span) + after;
        }
      }
    })
    .join('');
}

function mrkdwnLine(line: string): string {
  return truncateToFit(line.replace(/\s*\n\s*/g, ' '), mrkdwn, SLACK_LIMITS.sectionText);
}

function strong(text: string): string {
  return `*${literal(text.trim())}*`;
}

/** Bold text that may hold `code` spans; whitespace stays outside the markers, where Slack needs it. */
function strongInline({ text, lead, trail }: BoldSpan): string {
  if (!text) return literal(lead + trail);
  // Bold text holds no `*`, so its spans are typed text and code.
  const inner = inlineSpans(text).map((span) =>
    span.kind === 'code' ? codeSpan(span.text) : literal(span.text),
  );
  return `${lead}*${inner.join('')}*${trail}`;
}

function codeSpan(code: string): string {
  return `\`${escapeControl(code)}\``;
}

/**
 * Text Slack must show as typed. Mrkdwn has no escape for its markers, so a marker that could open or close
 * formatting gets an invisible space on each side; markers inside a word (snake_case) never format.
 */
function literal(text: string): string {
  const neutral = text.replace(/[*_~`]/g, (marker, offset: number) =>
    isWordChar(text[offset - 1]) && isWordChar(text[offset + 1])
      ? marker
      : `${ZERO_WIDTH_SPACE}${marker}${ZERO_WIDTH_SPACE}`,
  );
  return escapeControl(neutral);
}

function escapeControl(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** A fenced code block; no two backticks stay adjacent inside it, so its content cannot close the fence. */
function fence(code: string): string {
  return '```\n' + escapeControl(code).replace(/`(?=`)/g, '`' + ZERO_WIDTH_SPACE) + '\n```';
}

/**
 * Splits source text into pieces whose rendering fits `max`, breaking at the first kind of boundary in
 * `breaks` that works (paragraph, line, word), and between graphemes only when a single word is too long.
 */
function splitToFit(text: string, render: (s: string) => string, max: number, breaks: string[]): string[] {
  if (render(text).length <= max) return [text];
  const [separator, ...finer] = breaks;
  if (separator === undefined) return splitGraphemes(text, render, max);
  const pieces: string[] = [];
  let current: string | undefined;
  for (const part of text.split(separator)) {
    const joined = current === undefined ? part : current + separator + part;
    if (render(joined).length <= max) {
      current = joined;
      continue;
    }
    if (current !== undefined) pieces.push(current);
    const parts = splitToFit(part, render, max, finer);
    current = parts.pop();
    pieces.push(...parts);
  }
  if (current !== undefined) pieces.push(current);
  return pieces;
}

function splitGraphemes(text: string, render: (s: string) => string, max: number): string[] {
  const points = Array.from(text);
  const pieces: string[] = [];
  let start = 0;
  while (start < points.length) {
    // A piece never holds more than 2 × max code points (see truncateToFit), so there is no need to look further.
    const rest = points.slice(start, start + 2 * max);
    const count = Math.max(
      1,
      prefixThatFits(rest, (prefix) => render(prefix).length <= max),
    );
    pieces.push(rest.slice(0, count).join(''));
    start += count;
  }
  return pieces;
}

/** render(text) when it fits `max`; otherwise the longest rendered prefix that fits with an ellipsis. */
function truncateToFit(text: string, render: (s: string) => string, max: number): string {
  const whole = render(text);
  if (whole.length <= max) return whole;
  // Rendering at most halves text (**a** becomes *a*), so nothing past 2 × max source characters can fit; the
  // slice may end in half a surrogate pair, so its last code point goes too.
  const points = Array.from(text.slice(0, 2 * max));
  if (text.length > 2 * max) points.pop();
  const count = prefixThatFits(points, (prefix) => render(prefix).length + 1 <= max);
  return render(points.slice(0, count).join('')) + ELLIPSIS;
}

/**
 * How many of `points` (code points) to keep so that fits(prefix) holds, ending where a user-perceived
 * character ends, so a cut never splits a surrogate pair, an emoji sequence or a letter from its accent.
 * fits('') must hold. Found by binary search: the answer always fits, and is the longest when rendering grows
 * with the prefix (a half-cut **bold** pair can briefly break that, costing a few characters, never a limit).
 */
function prefixThatFits(points: string[], fits: (prefix: string) => boolean): number {
  const prefix = (n: number) => points.slice(0, n).join('');
  let low = 0;
  let high = points.length;
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    if (fits(prefix(mid))) low = mid;
    else high = mid - 1;
  }
  const boundary = graphemeBoundary(points, low);
  return boundary > 0 && fits(prefix(boundary)) ? boundary : low;
}

const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });
/** Longer than any emoji sequence a cut should keep whole; segmenting whole texts is far too slow. */
const GRAPHEME_WINDOW = 16;

/** The last grapheme boundary at or before `count` code points, or `count` when none is near. */
function graphemeBoundary(points: string[], count: number): number {
  if (count >= points.length) return count;
  const from = Math.max(0, count - GRAPHEME_WINDOW);
  const window = points.slice(from, count + GRAPHEME_WINDOW).join('');
  let boundary = count;
  let position = from;
  for (const { segment } of segmenter.segment(window)) {
    if (position > count) break;
    // The window's own start may fall inside a cluster, so it only counts at the start of the text.
    if (position > from || from === 0) boundary = position;
    position += Array.from(segment).length;
  }
  return boundary;
}

/** Rendered lines joined into as few texts of at most `max` characters as possible. */
function packLines(lines: string[], max: number): string[] {
  const texts: string[] = [];
  let current: string | undefined;
  for (const line of lines) {
    if (current !== undefined && current.length + 1 + line.length <= max) {
      current += '\n' + line;
    } else {
      if (current !== undefined) texts.push(current);
      current = line;
    }
  }
  if (current !== undefined) texts.push(current);
  return texts;
}
