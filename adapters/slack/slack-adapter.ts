import { App, type RespondFn, SocketModeReceiver, type webApi } from '@slack/bolt';
import { Router } from 'express';
import type { SlackConfig } from '../../bot/config/schema';
import type { Logger } from '../../bot/core/logger';
import type { Principal, Reply, TurnAction } from '../../bot/core/message';
import type { NotificationSender } from '../../bot/notify/notifier';
import type { Runtime } from '../../bot/runtime';
import type { ChannelAdapter } from '../../bot/server/channel-adapter';
import { ChartImageStore } from '../charts/chart-image-store';
import { markClicked, renderForSlack, type SlackMessage, type SlackRenderOptions } from './block-kit';
import { createKeepAliveFetch } from '../http/keep-alive-fetch';
import { boltLogger } from './bolt-logger';
import {
  actionsBlockId,
  conversationFromBlockId,
  conversationKey,
  isDirectMessageChannel,
  plainText,
  type SlackConversation,
} from './slack-conversation';
import { SLACK_EVENTS_PATH, SlackHttpReceiver } from './slack-http-receiver';

/** Slack retries an event three times within minutes; an hour of memory covers every retry. */
const EVENT_DEDUP_TTL_SECONDS = 3600;
/** Web API calls that hit a 429 wait for Retry-After and try again, this many times. */
const WEB_API_RETRIES = 5;

/**
 * Slack for opsbot, on bolt: `/ops <text>`, mentions (answered in the thread), direct messages, follow-ups in
 * a thread opsbot is part of, and button clicks. Every message becomes an InboundTurn for the assistant and
 * every reply is rendered to Block Kit here; nothing Slack-shaped goes further.
 */
export function createSlackAdapter(runtime: Runtime, slack: SlackConfig, logger: Logger): ChannelAdapter {
  const log = logger.child({ channel: 'slack' });
  const boltLog = boltLogger(logger);
  const clientOptions = {
    fetch: createKeepAliveFetch(),
    // The Web API client joins method names onto this base, so it must end with a slash.
    slackApiUrl: slack.apiUrl ? slack.apiUrl.replace(/\/?$/, '/') : undefined,
    retryConfig: { retries: WEB_API_RETRIES, factor: 2, randomize: true },
    rejectRateLimitedCalls: false,
  };
  const httpReceiver =
    slack.socketMode || !slack.signingSecret
      ? undefined
      : new SlackHttpReceiver(slack.signingSecret, boltLog);
  const receiver =
    httpReceiver ??
    new SocketModeReceiver({
      appToken: slack.appToken ?? '',
      logger: boltLog,
      installerOptions: { clientOptions },
    });
  const app = new App({
    token: slack.botToken,
    receiver,
    logger: boltLog,
    clientOptions,
    // opsbot keeps conversation state in its own session store; bolt's would be a second, unused copy.
    convoStore: false,
  });

  function converse(conversation: SlackConversation, user: Principal, text: string, action?: TurnAction) {
    return runtime.assistant.answer({
      channel: 'slack',
      user,
      conversationId: conversationKey(conversation),
      threadId: conversation.kind === 'thread' ? conversation.threadTs : undefined,
      text,
      action,
    });
  }

  // Slack fetches an image block's picture itself, so charts are pictures only where Slack can reach opsbot.
  const { publicUrl } = runtime.config.server;
  const charts = publicUrl ? new ChartImageStore() : undefined;
  const chartImageUrl: SlackRenderOptions['chartImageUrl'] =
    charts && publicUrl ? (chart) => charts.urlFor(publicUrl, chart) : undefined;

  function render(reply: Reply, conversation?: SlackConversation): SlackMessage {
    return renderForSlack(reply, {
      ...(conversation ? { actionsBlockId: actionsBlockId(conversation) } : {}),
      chartImageUrl,
    });
  }

  /** Posts into a channel or DM, in a thread when given one; resolves with the new message's ts. */
  async function post(
    client: webApi.WebClient,
    where: { channel: string; threadTs?: string },
    message: SlackMessage,
  ): Promise<string | undefined> {
    const posted = await client.chat.postMessage({
      channel: where.channel,
      ...(where.threadTs ? { thread_ts: where.threadTs } : {}),
      text: message.text,
      blocks: message.blocks,
    });
    return posted.ts;
  }

  /**
   * False for a retry of an event already answered: Slack resends an event it believes was lost, with the
   * same event_id. Claimed only for events about to be answered, so ignored chatter costs no store write.
   */
  async function firstDelivery(eventId: string): Promise<boolean> {
    if (await runtime.dedup.claim(`slack:event:${eventId}`, EVENT_DEDUP_TTL_SECONDS)) return true;
    log.info({ eventId }, 'duplicate Slack event ignored');
    return false;
  }

  app.command(slack.slashCommand, async ({ command, ack, respond }) => {
    // Acknowledge first: Slack shows an error after 3 s, and the answer may take longer than that.
    await ack();
    const conversation: SlackConversation = {
      kind: 'command',
      team: command.team_id,
      channel: command.channel_id,
      user: command.user_id,
    };
    const { reply } = await converse(
      conversation,
      principal(command.user_id, command.user_name),
      plainText(command.text, undefined) || 'help',
    );
    await respond({
      response_type: slack.commandResponse,
      replace_original: false,
      ...render(reply, conversation),
    }).catch((err: Error) => log.warn({ err: err.message }, 'response_url post failed'));
  });

  app.event('app_mention', async ({ event, body, context, client }) => {
    if (!event.user || !(await firstDelivery(body.event_id))) return;
    const conversation: SlackConversation = {
      kind: 'thread',
      team: body.team_id,
      channel: event.channel,
      threadTs: event.thread_ts ?? event.ts,
    };
    const { reply } = await converse(
      conversation,
      principal(event.user),
      plainText(event.text, context.botUserId) || 'help',
    );
    await post(client, conversation, render(reply, conversation));
  });

  app.message(async ({ message, body, context, client }) => {
    // Edits, joins and other bots' messages are not someone talking to opsbot.
    if (message.subtype !== undefined || !('user' in message) || !message.user) return;
    const text = message.text ?? '';
    const team = body.team_id;
    let conversation: SlackConversation;
    if (message.channel_type === 'im') {
      conversation = message.thread_ts
        ? { kind: 'thread', team, channel: message.channel, threadTs: message.thread_ts }
        : { kind: 'dm', team, channel: message.channel };
    } else {
      // In channels opsbot answers mentions (the app_mention event) and follow-ups in threads it already
      // talks in; a message that mentions it arrives both ways and is answered once, as the mention.
      if (!message.thread_ts || (context.botUserId && text.includes(`<@${context.botUserId}>`))) return;
      conversation = { kind: 'thread', team, channel: message.channel, threadTs: message.thread_ts };
      if (!(await runtime.assistant.knows('slack', conversationKey(conversation)))) return;
    }
    if (!(await firstDelivery(body.event_id))) return;
    const { reply } = await converse(
      conversation,
      principal(message.user),
      plainText(text, context.botUserId) || 'help',
    );
    await post(client, conversation, render(reply, conversation));
  });

  app.action({ type: 'block_actions' }, async ({ action, body, ack, client, respond }) => {
    await ack();
    if (action.type !== 'button') return;
    const team = body.team?.id ?? body.user.team_id ?? '';
    const channel = body.channel?.id ?? body.container?.channel_id;
    const message = body.message;
    const conversation =
      conversationFromBlockId(action.block_id) ??
      (channel ? conversationOfMessage(team, channel, message) : undefined);
    if (!conversation) return;
    const click = { userId: body.user.id, actionId: action.action_id, value: action.value ?? '' };
    const { reply, outcome } = await converse(
      conversation,
      principal(body.user.id, body.user.name ?? body.user.username),
      '',
      { actionId: click.actionId, value: click.value },
    );

    if (outcome === 'refused' && channel) {
      // Not this person's button to press: tell only them, and leave the buttons for the one who may.
      await client.chat.postEphemeral({ channel, user: click.userId, ...render(reply, conversation) });
      return;
    }
    // One approval of several: the buttons stay for the next approver.
    if (outcome !== 'recorded') {
      await showClick(client, respond, channel, message, body.container?.is_ephemeral === true, click);
    }
    const rendered = render(reply, conversation);
    if (conversation.kind === 'command') {
      await respond({ response_type: slack.commandResponse, replace_original: false, ...rendered });
    } else {
      await post(client, conversation, rendered);
    }
  });

  app.error(async (err) => {
    log.error({ err: err.message, code: (err as { code?: string }).code }, 'slack error');
  });

  const sender: NotificationSender = {
    channel: 'slack',
    async send(target, reply) {
      if (target.channel !== 'slack') throw new Error(`not a Slack target: ${target.channel}`);
      // Buttons on a notification carry no conversation yet: a click finds it from the message's thread.
      const messageId = await post(
        app.client,
        { channel: target.conversation, threadTs: target.threadTs },
        render(reply),
      );
      return { channel: 'slack', conversation: target.conversation, messageId };
    },
  };

  const routers = [httpReceiver?.router, charts?.router()].filter((r) => r !== undefined);
  return {
    router: routers.length > 0 ? Router().use(...routers) : undefined,
    sender,
    component: {
      name: 'slack',
      requiredForReadiness: false,
      check: async () => ({
        state: 'ok',
        detail: `${
          httpReceiver ? `receiving at ${SLACK_EVENTS_PATH} (signed requests only)` : 'Socket Mode'
        }, slash command ${slack.slashCommand}, charts ${
          publicUrl ? `as images from ${publicUrl}/charts/` : 'as text (set server.publicUrl for images)'
        }`,
      }),
    },
    async start() {
      if (!httpReceiver) await app.start();
    },
    async stop() {
      if (!httpReceiver) await app.stop();
    },
  };
}

function principal(userId: string, name?: string): Principal {
  // A Slack request is authenticated by its signature (or the Socket Mode connection), so the user id is trusted.
  return { id: `slack:${userId}`, name: name ?? userId, authenticated: true };
}

/** For buttons opsbot did not label with a conversation (notifications): the message's own thread. */
function conversationOfMessage(
  team: string,
  channel: string,
  message: { ts: string; thread_ts?: string } | undefined,
): SlackConversation | undefined {
  if (!message) return undefined;
  if (isDirectMessageChannel(channel) && !message.thread_ts) return { kind: 'dm', team, channel };
  return { kind: 'thread', team, channel, threadTs: message.thread_ts ?? message.ts };
}

/** Replaces the clicked message's buttons with who chose what, so the choice is on record and not repeatable. */
async function showClick(
  client: webApi.WebClient,
  respond: RespondFn,
  channel: string | undefined,
  message: { ts: string; text?: string; blocks?: unknown[] } | undefined,
  ephemeral: boolean,
  click: { userId: string; actionId: string; value: string },
): Promise<void> {
  const blocks = message?.blocks ? markClicked(message.blocks as SlackMessage['blocks'], click) : undefined;
  const text = message?.text ?? `<@${click.userId}> chose ${click.actionId}`;
  if (!ephemeral && channel && message) {
    await client.chat.update({ channel, ts: message.ts, text, ...(blocks ? { blocks } : {}) });
  } else {
    await respond({ replace_original: true, text, ...(blocks ? { blocks } : {}) });
  }
}
