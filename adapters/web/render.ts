import type { BadgeState, Block, Reply } from '../../bot/core/message';

/** Longest text the widget shows in one element; longer text is cut with an ellipsis, never mid-surrogate. */
export const WIDGET_MAX_TEXT = 8000;

/** The widget's JSON: the core blocks with every string bounded and numbers formatted for display. */
export type WidgetBlock =
  | { type: 'section'; text: string }
  | { type: 'fields'; fields: { label: string; value: string }[] }
  | { type: 'list'; ordered: boolean; items: string[] }
  | { type: 'code'; code: string; language?: string }
  | {
      type: 'buttons';
      buttons: { actionId: string; value: string; label: string; style?: 'primary' | 'danger' }[];
    }
  | {
      type: 'citations';
      citations: { title: string; source: string; heading?: string; score?: string; url?: string }[];
    }
  | { type: 'status'; badges: { label: string; state: BadgeState; detail?: string }[] };

export interface WidgetReply {
  text: string;
  blocks: WidgetBlock[];
}

export function renderForWidget(reply: Reply): WidgetReply {
  return { text: bound(reply.text), blocks: reply.blocks.map(renderBlock) };
}

function renderBlock(block: Block): WidgetBlock {
  switch (block.type) {
    case 'section':
      return { type: 'section', text: bound(block.text) };
    case 'fields':
      return {
        type: 'fields',
        fields: block.fields.map((f) => ({ label: bound(f.label), value: bound(f.value) })),
      };
    case 'list':
      return { type: 'list', ordered: block.ordered ?? false, items: block.items.map((item) => bound(item)) };
    case 'code':
      return {
        type: 'code',
        code: bound(block.code),
        ...(block.language ? { language: block.language } : {}),
      };
    case 'buttons':
      return {
        type: 'buttons',
        buttons: block.buttons.map((b) => ({
          actionId: b.actionId,
          value: b.value,
          label: bound(b.label),
          ...(b.style ? { style: b.style } : {}),
        })),
      };
    case 'citations':
      return {
        type: 'citations',
        citations: block.citations.map((c) => ({
          title: bound(c.title),
          source: c.source,
          ...(c.heading ? { heading: bound(c.heading) } : {}),
          ...(c.score !== undefined ? { score: c.score.toFixed(2) } : {}),
          // Only web links: a javascript: URL in a citation must never become a clickable link.
          ...(c.url && /^https?:\/\//.test(c.url) ? { url: c.url } : {}),
        })),
      };
    case 'status':
      return {
        type: 'status',
        badges: block.badges.map((b) => ({
          label: bound(b.label),
          state: b.state,
          ...(b.detail ? { detail: bound(b.detail) } : {}),
        })),
      };
  }
}

export function bound(text: string, max = WIDGET_MAX_TEXT): string {
  if (text.length <= max) return text;
  let cut = max - 1;
  const code = text.charCodeAt(cut - 1);
  if (code >= 0xd800 && code <= 0xdbff) cut -= 1; // do not split a surrogate pair
  return text.slice(0, cut) + '…';
}
