import type { Block, Reply } from '../bot/core/message';

/*
 * What the surface renderers (Slack, Teams, web widget, terminal) read the same way; each keeps its own
 * escaping and format.
 */

/** The blocks a surface shows: a reply without blocks shows its text as one section, or nothing when blank. */
export function replyBlocks(reply: Reply): Block[] {
  if (reply.blocks.length > 0) return reply.blocks;
  return reply.text.trim() ? [{ type: 'section', text: reply.text }] : [];
}

/** A piece of core text: text as typed, the content of a `code` span, or a **bold** span. */
export type InlineSpan = { kind: 'typed' | 'code'; text: string } | BoldSpan;

export interface BoldSpan {
  kind: 'bold';
  /** What the markers enclose, without the whitespace at its ends, which no surface formats; may be empty. */
  text: string;
  lead: string;
  trail: string;
  /** The characters just outside the markers ('' at an end of the text), for word-boundary rules. */
  before: string;
  after: string;
}

const INLINE_MARKUP = /`([^`]+)`|\*\*([^*]+)\*\*/g;
const EDGE_WHITESPACE = /^(\s*)([\s\S]*?)(\s*)$/;
const WORD_CHAR = /[\p{L}\p{N}]/u;

/** Core text split into its `code` and **bold** spans and the text typed between them. */
export function inlineSpans(text: string): InlineSpan[] {
  const spans: InlineSpan[] = [];
  let last = 0;
  for (const match of text.matchAll(INLINE_MARKUP)) {
    const [markup, code, bold = ''] = match;
    if (match.index > last) spans.push({ kind: 'typed', text: text.slice(last, match.index) });
    if (code !== undefined) {
      spans.push({ kind: 'code', text: code });
    } else {
      const [, lead = '', inner = '', trail = ''] = EDGE_WHITESPACE.exec(bold) ?? [];
      spans.push({
        kind: 'bold',
        text: inner,
        lead,
        trail,
        before: text[match.index - 1] ?? '',
        after: text[match.index + markup.length] ?? '',
      });
    }
    last = match.index + markup.length;
  }
  if (last < text.length) spans.push({ kind: 'typed', text: text.slice(last) });
  return spans;
}

/** Whether `char` is a letter or digit: markup next to one sits inside a word (snake_case), not at its edge. */
export function isWordChar(char: string | undefined): boolean {
  return char !== undefined && WORD_CHAR.test(char);
}

/**
 * `url` normalised when it is an http or https URL that parses, else undefined: a javascript: or data: URL in
 * a citation must never become a clickable link.
 */
export function webUrl(url: string | undefined): string | undefined {
  if (!url || !/^https?:\/\//i.test(url)) return undefined;
  try {
    return new URL(url).href;
  } catch {
    return undefined;
  }
}

/** `text` cut to at most `max` UTF-16 units with an ellipsis, never between the halves of a surrogate pair. */
export function bound(text: string, max: number): string {
  if (text.length <= max) return text;
  let cut = max - 1;
  const code = text.charCodeAt(cut - 1);
  if (code >= 0xd800 && code <= 0xdbff) cut -= 1;
  return text.slice(0, cut) + '…';
}

/** `items` in consecutive groups of `size`, the last one possibly shorter. */
export function chunk<T>(items: T[], size: number): T[][] {
  const groups: T[][] = [];
  for (let i = 0; i < items.length; i += size) groups.push(items.slice(i, i + size));
  return groups;
}
