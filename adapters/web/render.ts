import type { BadgeState, Block, Reply } from '../../bot/core/message';
import { chartSvgDataUri } from '../chart-images';
import { bound, webUrl } from '../reply-rendering';

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
  | { type: 'status'; badges: { label: string; state: BadgeState; detail?: string }[] }
  | { type: 'chart'; title: string; image: string; summary: { min: string; max: string; latest: string } };

export interface WidgetReply {
  text: string;
  blocks: WidgetBlock[];
}

export function renderForWidget(reply: Reply): WidgetReply {
  return { text: widgetText(reply.text), blocks: reply.blocks.map(renderBlock) };
}

function renderBlock(block: Block): WidgetBlock {
  switch (block.type) {
    case 'section':
      return { type: 'section', text: widgetText(block.text) };
    case 'fields':
      return {
        type: 'fields',
        fields: block.fields.map((f) => ({ label: widgetText(f.label), value: widgetText(f.value) })),
      };
    case 'list':
      return { type: 'list', ordered: block.ordered ?? false, items: block.items.map(widgetText) };
    case 'code':
      return {
        type: 'code',
        code: widgetText(block.code),
        ...(block.language ? { language: block.language } : {}),
      };
    case 'buttons':
      return {
        type: 'buttons',
        buttons: block.buttons.map((b) => ({
          actionId: b.actionId,
          value: b.value,
          label: widgetText(b.label),
          ...(b.style ? { style: b.style } : {}),
        })),
      };
    case 'citations':
      return {
        type: 'citations',
        citations: block.citations.map((c) => {
          const url = webUrl(c.url);
          return {
            title: widgetText(c.title),
            source: c.source,
            ...(c.heading ? { heading: widgetText(c.heading) } : {}),
            ...(c.score !== undefined ? { score: c.score.toFixed(2) } : {}),
            ...(url ? { url } : {}),
          };
        }),
      };
    case 'status':
      return {
        type: 'status',
        badges: block.badges.map((b) => ({
          label: widgetText(b.label),
          state: b.state,
          ...(b.detail ? { detail: widgetText(b.detail) } : {}),
        })),
      };
    case 'chart':
      return {
        type: 'chart',
        title: widgetText(block.title),
        image: chartSvgDataUri(block),
        summary: {
          min: widgetText(block.summary.min),
          max: widgetText(block.summary.max),
          latest: widgetText(block.summary.latest),
        },
      };
  }
}

function widgetText(text: string): string {
  return bound(text, WIDGET_MAX_TEXT);
}
