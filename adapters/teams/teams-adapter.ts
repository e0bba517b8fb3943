import {
  ActivityTypes,
  CloudAdapter,
  ConfigurationBotFrameworkAuthentication,
  TurnContext,
  type Activity,
  type Response as BotResponse,
} from 'botbuilder';
import { Router } from 'express';
import type { TeamsConfig } from '../../bot/config/schema';
import { ErrorCode, OpsbotError } from '../../bot/core/errors';
import type { Logger } from '../../bot/core/logger';
import type { InboundTurn, Principal } from '../../bot/core/message';
import type { NotificationReceipt, NotificationSender } from '../../bot/notify/notifier';
import type { Runtime } from '../../bot/runtime';
import type { ChannelAdapter } from '../../bot/server/channel-adapter';
import { sendError } from '../../bot/server/http-errors';
import { readJsonBody } from '../../bot/server/json-body';
import {
  ADAPTIVE_CARD_CONTENT_TYPE,
  actionFromData,
  renderClickOutcome,
  renderForTeams,
  type AdaptiveCard,
  type TeamsAction,
} from './adaptive-card';
import { cacheConnectorClients } from './connector-client-cache';
import { ConversationReferences, type ConversationAddress } from './conversation-references';
import { isRecord } from '../is-record';

/**
 * Teams caps a message's text at about 28 KB, but an activity also carries entities, attachments and
 * channelData; this leaves room for those and still bounds what an unauthenticated caller can make us parse.
 */
const MAX_ACTIVITY_BYTES = 256 * 1024;

/** Bot Framework redelivers an activity it thinks was lost within minutes; an hour covers that with margin. */
const DEDUP_TTL_SECONDS = 3600;

const EXECUTE_INVOKE = 'adaptiveCard/action';
/** Universal Actions' response that shows a short message and leaves the card as it is. */
const MESSAGE_RESPONSE_TYPE = 'application/vnd.microsoft.activity.message';

/**
 * Microsoft Teams through the Bot Framework: activities arrive at POST /api/messages, are authenticated by
 * botbuilder's CloudAdapter (a JWT from the Bot Connector whenever an app id is configured), become turns
 * for the assistant, and go back as replies carrying an Adaptive Card.
 */
export function createTeamsAdapter(runtime: Runtime, config: TeamsConfig, logger: Logger): ChannelAdapter {
  const appId = config.appId ?? '';
  const authentication = cacheConnectorClients(
    new ConfigurationBotFrameworkAuthentication({
      MicrosoftAppId: appId,
      MicrosoftAppPassword: config.appPassword,
      MicrosoftAppTenantId: config.appTenantId,
      MicrosoftAppType: config.appType,
    }),
  );
  const adapter = new CloudAdapter(authentication);
  const references = new ConversationReferences(runtime.records<ConversationAddress>('teams-conversations'));
  // Without an app id botbuilder accepts anything; with one, every activity that reaches a turn carried a valid JWT.
  const authenticated = appId !== '';

  const log = (level: 'warn' | 'error', err: unknown, correlationId: string, message: string) =>
    logger[level]({ event: 'teams.error', correlationId, error: describeError(err) }, message);

  /** The assistant's turn for a message or a button click. */
  function turnOf(activity: Activity, click: TeamsAction | undefined): InboundTurn {
    const text = textWithoutBotMention(activity);
    return {
      channel: 'teams',
      user: principal(activity, authenticated),
      conversationId: activity.conversation.id,
      text: text === '' && !click ? 'help' : text,
      action: click && { actionId: click.actionId, value: click.value },
    };
  }

  async function onMessage(context: TurnContext, correlationId: string): Promise<void> {
    const { activity } = context;
    const click = activity.value === undefined ? undefined : actionFromData(activity.value);
    const { reply, outcome } = await runtime.assistant.answer(turnOf(activity, click), correlationId);
    const rendered = renderForTeams(reply);
    // An Action.Submit click comes as a reply to the card's message. As with Action.Execute, that card is
    // replaced by who chose what and the outcome, so its buttons cannot be pressed twice — unless the click
    // was refused (not this person's confirmation to give): then the buttons stay for whoever may press them.
    if (
      click &&
      activity.replyToId &&
      outcome !== 'refused' &&
      outcome !== 'failed' &&
      outcome !== 'recorded'
    ) {
      const card = renderClickOutcome({ who: speaker(activity), label: click.label ?? click.value }, reply);
      try {
        await context.updateActivity({ ...messageFor({ ...rendered, card }), id: activity.replyToId });
        return;
      } catch (err) {
        // A card that can no longer be edited (deleted, too old) must not swallow the outcome: it goes as a reply.
        log('warn', err, correlationId, 'could not update the clicked Teams card');
      }
    }
    await context.sendActivity(messageFor(rendered));
  }

  async function onExecute(context: TurnContext, correlationId: string): Promise<void> {
    const { activity } = context;
    const click = actionFromData(activity.value);
    if (!click) {
      await answerInvoke(context, MESSAGE_RESPONSE_TYPE, 'That button is not one of mine.');
      return;
    }
    const { reply, outcome } = await runtime.assistant.answer(turnOf(activity, click), correlationId);
    // A message leaves the card and its buttons in place, so the click can be tried again or by someone else.
    if (outcome === 'refused' || outcome === 'failed' || outcome === 'recorded') {
      await answerInvoke(context, MESSAGE_RESPONSE_TYPE, reply.text);
      return;
    }
    const card = renderClickOutcome({ who: speaker(activity), label: click.label ?? click.value }, reply);
    await answerInvoke(context, ADAPTIVE_CARD_CONTENT_TYPE, card);
  }

  async function onActivity(context: TurnContext, correlationId: string): Promise<void> {
    const { activity } = context;
    try {
      await references.remember(activity);
    } catch (err) {
      // Losing a reference only costs later notifications; the person talking still gets an answer.
      log('error', err, correlationId, 'could not store the Teams conversation reference');
    }
    const isExecute = activity.type === ActivityTypes.Invoke && activity.name === EXECUTE_INVOKE;
    if (activity.type !== ActivityTypes.Message && !isExecute) return;
    if (!activity.from?.id) return;
    const redelivered =
      activity.id !== undefined &&
      !(await runtime.dedup.claim(`teams:${activity.conversation.id}:${activity.id}`, DEDUP_TTL_SECONDS));
    if (redelivered) {
      if (isExecute) await answerInvoke(context, MESSAGE_RESPONSE_TYPE, 'Already handled.');
      return;
    }
    if (isExecute) await onExecute(context, correlationId);
    else await onMessage(context, correlationId);
  }

  const router = Router();
  router.post('/api/messages', async (req, res) => {
    const body = await readJsonBody(req, MAX_ACTIVITY_BYTES);
    if (!isActivityShaped(body)) {
      return sendError(
        res,
        400,
        ErrorCode.InvalidRequest,
        'the body must be a Bot Framework activity with a type and a conversation id',
      );
    }
    // botbuilder would refuse this too, but only after printing the failure to stderr for every such probe.
    if (authenticated && !req.get('authorization')) {
      return sendError(res, 401, ErrorCode.Unauthorized, 'a Bot Framework bearer token is required');
    }
    req.body = body;
    const { correlationId } = req;
    const answer = new CapturedResponse(req.socket);
    await adapter.process(req, answer, async (context) => {
      try {
        await onActivity(context, correlationId);
      } catch (err) {
        // Handled here rather than by botbuilder, which would print the error, request and all, to stderr.
        log('error', err, correlationId, 'teams activity failed');
      }
    });
    if (answer.statusCode === 401) {
      return sendError(res, 401, ErrorCode.Unauthorized, 'the Bot Framework token is not valid for this bot');
    }
    if (answer.statusCode >= 500) {
      return sendError(res, answer.statusCode, ErrorCode.Internal, 'internal error');
    }
    if (answer.statusCode >= 400) {
      return sendError(res, answer.statusCode, ErrorCode.InvalidRequest, 'the activity was not accepted');
    }
    res.status(answer.statusCode);
    if (answer.body === undefined) res.end();
    else res.json(answer.body);
  });

  const sender: NotificationSender = {
    channel: 'teams',
    async send(target, reply): Promise<NotificationReceipt> {
      if (target.channel !== 'teams') throw new Error(`the Teams sender cannot post to ${target.channel}`);
      const reference = await references.get(target.conversation);
      if (!reference) {
        throw new OpsbotError(
          ErrorCode.NotifyTargetUnknown,
          `opsbot has not seen the Teams conversation "${target.conversation}"; add the bot there or message it once`,
        );
      }
      let messageId: string | undefined;
      await adapter.continueConversationAsync(appId, reference, async (context) => {
        // botbuilder addresses everything sent in a turn as a reply to that turn's activity, here an event it
        // made up; a notification is a new message in the conversation.
        context.onSendActivities(async (_context, activities, next) => {
          for (const activity of activities) delete activity.replyToId;
          return next();
        });
        messageId = (await context.sendActivity(messageFor(renderForTeams(reply))))?.id;
      });
      return { channel: 'teams', conversation: target.conversation, messageId };
    },
  };

  return {
    router,
    sender,
    component: {
      name: 'teams',
      requiredForReadiness: false,
      async check() {
        const mode = authenticated ? `JWT validated for app ${appId}` : 'anonymous (local use only)';
        const count = await references.count();
        return {
          state: 'ok',
          detail: `${mode}, ${count} conversation${count === 1 ? '' : 's'} stored`,
        };
      },
    },
    async start() {},
    async stop() {},
  };
}

/** botbuilder writes its answer through this, so that opsbot can give it the API's own error shape. */
class CapturedResponse implements BotResponse {
  statusCode = 200;
  body: unknown;

  constructor(readonly socket: unknown) {}

  status(code: number): this {
    this.statusCode = code;
    return this;
  }

  send(body?: unknown): this {
    this.body = body;
    return this;
  }

  header(): this {
    return this;
  }

  end(): this {
    return this;
  }
}

function isActivityShaped(body: unknown): body is Record<string, unknown> {
  if (!isRecord(body)) return false;
  const { type, conversation } = body as { type?: unknown; conversation?: { id?: unknown } };
  return typeof type === 'string' && typeof conversation?.id === 'string';
}

function principal(activity: Activity, authenticated: boolean): Principal {
  const { from } = activity;
  return { id: `teams:${from.aadObjectId ?? from.id}`, name: from.name || from.id, authenticated };
}

function speaker(activity: Activity): string {
  return activity.from.name || 'Someone';
}

/** The message text without the bot's @mention, which Teams puts in every channel and group message to it. */
function textWithoutBotMention(activity: Activity): string {
  let text = activity.text ?? '';
  for (const entity of activity.entities ?? []) {
    const mention = entity as { type?: string; mentioned?: { id?: string }; text?: unknown };
    if (mention.type !== 'mention' || typeof mention.text !== 'string' || mention.text === '') continue;
    if (mention.mentioned?.id !== activity.recipient?.id) continue;
    text = text.split(mention.text).join('');
  }
  return text.trim();
}

function messageFor({ text, card }: { text: string; card: AdaptiveCard }): Partial<Activity> {
  return {
    type: ActivityTypes.Message,
    text,
    attachments: [{ contentType: ADAPTIVE_CARD_CONTENT_TYPE, content: card }],
  };
}

async function answerInvoke(context: TurnContext, type: string, value: AdaptiveCard | string): Promise<void> {
  await context.sendActivity({
    type: ActivityTypes.InvokeResponse,
    value: { status: 200, body: { statusCode: 200, type, value } },
  });
}

/** What an error may put in the log: never its request or response, which carry message text. */
function describeError(err: unknown): Record<string, unknown> {
  if (!(err instanceof Error)) return { message: String(err) };
  const { statusCode, code } = err as Error & { statusCode?: unknown; code?: unknown };
  return { name: err.name, message: err.message, code, statusCode, stack: err.stack };
}
