import type { InboundTurn } from '../bot/core/message';
import type { WorkflowRun } from '../engines/orchestrator/run';
import { parseConversationKey } from './slack/slack-conversation';

/**
 * Where a run started from chat posts its progress: the Slack thread (or channel) and the Teams conversation
 * the request came from. Web chat, the API and the terminal have no place to post to later: their users ask
 * "status of <run>" instead.
 */
export function threadOfTurn(turn: InboundTurn): WorkflowRun['thread'] {
  if (turn.channel === 'slack') {
    const conversation = parseConversationKey(turn.conversationId);
    if (!conversation) return undefined;
    return conversation.kind === 'thread'
      ? { channel: 'slack', conversation: conversation.channel, threadTs: conversation.threadTs }
      : { channel: 'slack', conversation: conversation.channel };
  }
  if (turn.channel === 'teams') return { channel: 'teams', conversation: turn.conversationId };
  return undefined;
}
