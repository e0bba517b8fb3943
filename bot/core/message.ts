/**
 * The platform-neutral message model. Every adapter (web widget, terminal, HTTP API, and later Slack and
 * Teams) turns its own payload into an InboundTurn and renders a Reply back; nothing past an adapter ever
 * sees a platform payload.
 */

export const CHANNELS = ['web', 'terminal', 'api', 'slack', 'teams'] as const;
export type Channel = (typeof CHANNELS)[number];

/** Who is speaking, as established by the adapter's authentication — never read from a request body. */
export interface Principal {
  /** Channel-scoped identity, e.g. "web:alice", "terminal:root", "api:guest:7f3c". */
  id: string;
  name: string;
  /** True when the adapter verified a credential (signed token, API key, platform signature). */
  authenticated: boolean;
}

/** A button click on a reply, delivered as a turn. */
export interface TurnAction {
  actionId: string;
  value: string;
}

export interface InboundTurn {
  channel: Channel;
  user: Principal;
  conversationId: string;
  threadId?: string;
  text: string;
  action?: TurnAction;
}

export type BadgeState = 'ok' | 'warning' | 'critical' | 'unknown' | 'info';

export interface SectionBlock {
  type: 'section';
  text: string;
}
export interface FieldsBlock {
  type: 'fields';
  fields: { label: string; value: string }[];
}
export interface ListBlock {
  type: 'list';
  items: string[];
  ordered?: boolean;
}
export interface CodeBlock {
  type: 'code';
  code: string;
  language?: string;
}
export interface Button {
  actionId: string;
  label: string;
  value: string;
  style?: 'primary' | 'danger';
}
export interface ButtonsBlock {
  type: 'buttons';
  buttons: Button[];
}
export interface Citation {
  source: string;
  title: string;
  heading?: string;
  score?: number;
  url?: string;
}
export interface CitationsBlock {
  type: 'citations';
  citations: Citation[];
}
export interface StatusBadge {
  label: string;
  state: BadgeState;
  detail?: string;
}
export interface StatusBlock {
  type: 'status';
  badges: StatusBadge[];
}

/**
 * A small line chart of one metric. The core hands over the numbers; each adapter draws them the way its
 * surface can show them (an SVG in the web widget, a PNG in Teams and Slack, a text sparkline in a terminal).
 */
export interface ChartBlock {
  type: 'chart';
  /** "p95 latency of checkout, last 15 minutes" */
  title: string;
  /** Epoch milliseconds and values, oldest first. */
  points: { t: number; v: number }[];
  /** The values as people read them: "42 ms"; min, max and latest. */
  summary: { min: string; max: string; latest: string };
}

export type Block =
  | SectionBlock
  | FieldsBlock
  | ListBlock
  | CodeBlock
  | ButtonsBlock
  | CitationsBlock
  | StatusBlock
  | ChartBlock;

export interface Reply {
  /** Plain-text rendering of the whole reply: notifications, screen readers and text-only surfaces use it. */
  text: string;
  blocks: Block[];
}

export function textReply(text: string, blocks: Block[] = []): Reply {
  return { text, blocks: blocks.length > 0 ? blocks : [{ type: 'section', text }] };
}
