import type { BadgeState, Reply } from '../../bot/core/message';
import { chartLine } from '../chart-images';
import { replyBlocks } from '../reply-rendering';

const ANSI = {
  reset: '\x1b[0m',
  bold: '\x1b[1m',
  dim: '\x1b[2m',
  red: '\x1b[31m',
  green: '\x1b[32m',
  yellow: '\x1b[33m',
  blue: '\x1b[34m',
  cyan: '\x1b[36m',
};

const BADGE: Record<BadgeState, { mark: string; colour: string }> = {
  ok: { mark: 'OK', colour: ANSI.green },
  warning: { mark: 'WARN', colour: ANSI.yellow },
  critical: { mark: 'DOWN', colour: ANSI.red },
  unknown: { mark: '??', colour: ANSI.dim },
  info: { mark: 'INFO', colour: ANSI.blue },
};

export interface TerminalRenderOptions {
  /** ANSI colours and bold; off when the output is not a TTY or NO_COLOR is set. */
  colour: boolean;
}

/** Renders a reply as terminal text. Buttons become a numbered menu the chat loop lets the user pick from. */
export function renderForTerminal(reply: Reply, options: TerminalRenderOptions): string {
  const paint = (style: string, text: string) => (options.colour ? `${style}${text}${ANSI.reset}` : text);
  const inline = (text: string) =>
    text
      .replace(/\*\*([^*]+)\*\*/g, (_, t: string) => paint(ANSI.bold, t))
      .replace(/`([^`]+)`/g, (_, t: string) => paint(ANSI.cyan, t));
  let buttonNumber = 0;

  const lines = replyBlocks(reply).map((block): string => {
    switch (block.type) {
      case 'section':
        return inline(block.text);
      case 'fields': {
        const width = Math.max(...block.fields.map((f) => f.label.length));
        return block.fields.map((f) => `  ${paint(ANSI.dim, f.label.padEnd(width))}  ${f.value}`).join('\n');
      }
      case 'list':
        return block.items
          .map((item, i) => `  ${block.ordered ? `${i + 1}.` : '•'} ${inline(item)}`)
          .join('\n');
      case 'code':
        return block.code
          .split('\n')
          .map((l) => `    ${paint(ANSI.cyan, l)}`)
          .join('\n');
      case 'buttons':
        return block.buttons.map((b) => `  [${++buttonNumber}] ${paint(ANSI.bold, b.label)}`).join('   ');
      case 'citations':
        return [
          paint(ANSI.dim, '  Sources:'),
          ...block.citations.map(
            (c) =>
              `  - ${c.title}${c.heading ? ` › ${c.heading}` : ''} ${paint(ANSI.dim, `(${c.source}${c.score !== undefined ? `, ${c.score.toFixed(2)}` : ''})`)}`,
          ),
        ].join('\n');
      case 'status':
        return block.badges
          .map((b) => {
            const { mark, colour } = BADGE[b.state];
            return `  ${paint(colour, `[${mark.padEnd(4)}]`)} ${b.label}${b.detail ? paint(ANSI.dim, ` — ${b.detail}`) : ''}`;
          })
          .join('\n');
      case 'chart':
        return `  ${paint(ANSI.dim, block.title)}\n  ${paint(ANSI.cyan, chartLine(block))}`;
    }
  });
  return lines.join('\n');
}

/** The buttons of a reply in the order the terminal numbered them. */
export function terminalButtons(reply: Reply): { actionId: string; value: string; label: string }[] {
  return reply.blocks.flatMap((b) => (b.type === 'buttons' ? b.buttons : []));
}
