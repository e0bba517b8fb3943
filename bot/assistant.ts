import { randomUUID } from 'node:crypto';
import { ErrorCode, isOpsbotError, RequestError } from './core/errors';
import type { Logger } from './core/logger';
import { textReply, type Channel, type InboundTurn, type Reply } from './core/message';
import { KeyedSerialQueue } from './core/keyed-serial-queue';
import { screenInboundTurn, withLeakWarning } from './core/chat-firewall';
import type { PiiFirewall } from '../engines/quality/firewall/pii-firewall';
import { NO_TURN_METRICS, type TurnMetrics } from './core/turn-metrics';
import type { DialogueManager, TurnOutcomeKind } from './dialogue/dialogue-manager';
import { newSession, type SessionStore } from './dialogue/session';
import type { NluResult } from './nlu/intents';

/** Longer messages are refused politely: nobody types that much to an ops bot, and it bounds NLU work. */
export const MAX_TEXT_CHARS = 4000;

export interface TurnResult {
  reply: Reply;
  nlu: NluResult;
  /** What the turn did; adapters use it to tell a refusal (keep the buttons) from an answer. */
  outcome: TurnOutcomeKind;
  correlationId: string;
}

/**
 * Where every chat message enters the core, whatever surface it came from: load the conversation, let the
 * dialogue decide and act, save the conversation, log and count the turn.
 */
export class Assistant {
  private readonly queue = new KeyedSerialQueue();

  constructor(
    private readonly deps: {
      dialogue: DialogueManager;
      sessions: SessionStore;
      logger: Logger;
      metrics?: TurnMetrics;
      /** Screens what people type (chat path) and what opsbot answers (replies path). */
      firewall?: PiiFirewall;
    },
  ) {}

  async handle(received: InboundTurn, correlationId: string = randomUUID()): Promise<TurnResult> {
    validateText(received);
    const started = performance.now();
    const { firewall } = this.deps;
    const { turn, findings } = firewall
      ? screenInboundTurn(received, firewall)
      : { turn: received, findings: [] };
    const key = sessionKey(turn.channel, turn.conversationId);

    const outcome = await this.queue.run(key, async () => {
      const session = (await this.deps.sessions.get(key)) ?? newSession();
      const result = await this.deps.dialogue.respond(turn, session, correlationId);
      await this.deps.sessions.set(key, result.session);
      return result;
    });

    const seconds = (performance.now() - started) / 1000;
    (this.deps.metrics ?? NO_TURN_METRICS).observeTurn(
      turn.channel,
      outcome.nlu.intent,
      outcome.kind,
      seconds,
    );
    this.deps.logger.info(
      {
        event: 'turn',
        correlationId,
        channel: turn.channel,
        user: turn.user.id,
        conversation: turn.conversationId,
        textLength: turn.text.length,
        ...(findings.length > 0 ? { piiRedacted: findings.map((f) => f.type) } : {}),
        action: turn.action?.actionId,
        intent: outcome.nlu.intent,
        confidence: outcome.nlu.confidence,
        entities: outcome.nlu.entities.map((e) => e.type),
        outcome: outcome.kind,
        ms: Math.round(seconds * 10000) / 10,
      },
      'turn handled',
    );
    const reply = withLeakWarning(outcome.reply, findings);
    return {
      reply: firewall ? firewall.redactValue(reply, 'replies') : reply,
      nlu: outcome.nlu,
      outcome: outcome.kind,
      correlationId,
    };
  }

  /**
   * For chat platforms, where every message must be answered in the conversation: text that is too long gets
   * the reason, any other failure an apology with the reference that finds it in the log.
   */
  async answer(
    turn: InboundTurn,
    correlationId: string = randomUUID(),
  ): Promise<{ reply: Reply; outcome: TurnOutcomeKind | 'failed' }> {
    try {
      const result = await this.handle(turn, correlationId);
      return { reply: result.reply, outcome: result.outcome };
    } catch (err) {
      if (isOpsbotError(err) && err.code === ErrorCode.TextTooLong) {
        return { reply: textReply(err.message), outcome: 'refused' };
      }
      this.deps.logger.error({ err, correlationId, channel: turn.channel }, 'turn failed');
      return {
        reply: textReply(
          `Sorry, something went wrong on my side and I could not answer that. If it keeps happening, give your admin this reference: ${correlationId}`,
        ),
        outcome: 'failed',
      };
    }
  }

  /** True while a conversation has state, e.g. a Slack thread opsbot has already been talking in. */
  async knows(channel: Channel, conversationId: string): Promise<boolean> {
    return (await this.deps.sessions.get(sessionKey(channel, conversationId))) !== undefined;
  }
}

function sessionKey(channel: Channel, conversationId: string): string {
  return `${channel}:${conversationId}`;
}

function validateText(turn: InboundTurn): void {
  if (turn.text.length > MAX_TEXT_CHARS) {
    throw new RequestError(
      ErrorCode.TextTooLong,
      `Sorry, that message is ${turn.text.length.toLocaleString('en-US')} characters long and I can read at most ${MAX_TEXT_CHARS.toLocaleString('en-US')}. Could you shorten it to the part that matters?`,
    );
  }
  if (turn.text.trim() === '' && !turn.action) {
    throw new RequestError(ErrorCode.InvalidRequest, 'text must not be empty');
  }
}
