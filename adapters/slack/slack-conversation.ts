/**
 * Which opsbot conversation a Slack message belongs to. Conversation state follows how people talk in Slack:
 * a channel thread is one conversation, a direct message channel is one, and a slash command user in a
 * channel has their own (slash commands have no threads).
 */
export type SlackConversation =
  | { kind: 'thread'; team: string; channel: string; threadTs: string }
  | { kind: 'dm'; team: string; channel: string }
  | { kind: 'command'; team: string; channel: string; user: string };

/** Buttons carry their conversation in the actions block's block_id, so a click finds its way back. */
const BLOCK_ID_PREFIX = 'opsbot/';
const KEY = /^([A-Z0-9]+)\/([A-Z0-9]+)\/(?:t(\d+\.\d+)|(dm)|u([A-Z0-9]+))$/;

export function conversationKey(c: SlackConversation): string {
  const where = `${c.team}/${c.channel}`;
  switch (c.kind) {
    case 'thread':
      return `${where}/t${c.threadTs}`;
    case 'dm':
      return `${where}/dm`;
    case 'command':
      return `${where}/u${c.user}`;
  }
}

export function parseConversationKey(key: string): SlackConversation | undefined {
  const m = KEY.exec(key);
  if (!m) return undefined;
  const [, team = '', channel = '', threadTs, dm, user] = m;
  if (threadTs) return { kind: 'thread', team, channel, threadTs };
  if (dm) return { kind: 'dm', team, channel };
  return { kind: 'command', team, channel, user: user ?? '' };
}

export function actionsBlockId(c: SlackConversation): string {
  return BLOCK_ID_PREFIX + conversationKey(c);
}

/** The conversation a block_id names; undefined for blocks opsbot did not render. */
export function conversationFromBlockId(blockId: string | undefined): SlackConversation | undefined {
  if (!blockId?.startsWith(BLOCK_ID_PREFIX)) return undefined;
  // A reply with several button rows numbers them "#2", "#3" to keep block ids unique in one message.
  return parseConversationKey(blockId.slice(BLOCK_ID_PREFIX.length).replace(/#\d+$/, ''));
}

/** Direct message channel ids start with D. */
export function isDirectMessageChannel(channel: string): boolean {
  return channel.startsWith('D');
}

/**
 * Slack message text as the user meant it: the bot's own mention removed, other mentions and channel links
 * made readable, links reduced to their label, and Slack's HTML escapes undone.
 */
export function plainText(text: string, botUserId: string | undefined): string {
  return text
    .replace(/<@([A-Z0-9]+)(?:\|[^>]*)?>/g, (_, id: string) => (id === botUserId ? '' : `@${id}`))
    .replace(/<#[A-Z0-9]+\|([^>]*)>/g, '#$1')
    .replace(/<!([a-z]+)(?:\|[^>]*)?>/g, '@$1')
    .replace(/<((?:https?|mailto):[^|>]+)\|([^>]+)>/g, '$2')
    .replace(/<((?:https?|mailto):[^>]+)>/g, '$1')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ')
    .trim();
}
