import { Assistant } from '../../bot/assistant';
import { ServiceCatalog } from '../../bot/config/catalog';
import { createLogger } from '../../bot/core/logger';
import type { Principal } from '../../bot/core/message';
import {
  CLARIFICATION_TTL_MS,
  CLARIFY_ACTION_ID,
  DialogueManager,
} from '../../bot/dialogue/dialogue-manager';
import { newSession } from '../../bot/dialogue/session';
import { MemorySessionStore } from '../../bot/dialogue/memory-session-store';
import type { NluEngine, NluResult } from '../../bot/nlu/intents';
import { RuleNlu } from '../../bot/nlu/rule-nlu';
import { Policy } from '../../bot/policy/policy';
import { testConfig, testRuntime } from '../support/runtime';

const olivia: Principal = { id: 'web:olivia', name: 'Olivia', authenticated: true };
const vic: Principal = { id: 'web:vic', name: 'Vic', authenticated: true };
const UNSURE = 'do something about payments in staging';

/** The rules, except for one utterance the engine cannot decide between restart and scale. */
class UnsureNlu implements NluEngine {
  constructor(private readonly rules: RuleNlu) {}
  parse(text: string): NluResult {
    const ruled = this.rules.parse(text);
    if (text !== UNSURE) return ruled;
    return {
      ...ruled,
      intent: 'restart_service',
      confidence: 0.41,
      alternatives: [
        { intent: 'restart_service', confidence: 0.41 },
        { intent: 'scale_service', confidence: 0.38 },
      ],
    };
  }
  extractSlot(...args: Parameters<RuleNlu['extractSlot']>) {
    return this.rules.extractSlot(...args);
  }
}

describe('a clarifying question when the NLU cannot choose', () => {
  const config = testConfig((raw) => {
    raw.policy.users['web:olivia'] = ['operator'];
    raw.policy.users['web:vic'] = ['operator'];
  });
  const catalog = new ServiceCatalog(config);
  const assistant = new Assistant({
    dialogue: new DialogueManager({
      nlu: new UnsureNlu(new RuleNlu(catalog)),
      skills: testRuntime(config).skills,
      policy: new Policy(config.policy),
      catalog,
      logger: createLogger('silent'),
    }),
    sessions: new MemorySessionStore(3600),
    logger: createLogger('silent'),
  });
  // Each test talks in a channel of its own, so no test inherits another's open question.
  let conversationId = '';
  let channels = 0;
  beforeEach(() => {
    channels += 1;
    conversationId = `shared-${channels}`;
  });
  const say = (user: Principal, text: string, action?: { actionId: string; value: string }) =>
    assistant.handle({ channel: 'web', user, conversationId, text, action });

  it('asks which one was meant, with a button each, and runs the choice with the original entities', async () => {
    const question = await say(olivia, UNSURE);
    expect(question.outcome).toBe('asked_clarification');
    expect(question.reply.text).toMatch(/^Did you mean: restart .*, or scale .*\?$/);
    const buttons = question.reply.blocks.find((b) => b.type === 'buttons');
    expect(buttons).toEqual({
      type: 'buttons',
      buttons: [
        expect.objectContaining({ actionId: CLARIFY_ACTION_ID, value: 'restart_service' }),
        expect.objectContaining({ actionId: CLARIFY_ACTION_ID, value: 'scale_service' }),
      ],
    });

    // Someone else cannot answer Olivia's question, and it stays open for her.
    const refused = await say(vic, '', { actionId: CLARIFY_ACTION_ID, value: 'scale_service' });
    expect(refused.outcome).toBe('refused');

    const chosen = await say(olivia, '', { actionId: CLARIFY_ACTION_ID, value: 'scale_service' });
    expect(chosen.nlu).toMatchObject({ intent: 'scale_service', text: UNSURE });
    // payments and staging came from the first utterance; only the replica count is missing.
    expect(chosen.reply.text).toBe('To how many replicas?');
  });

  it('keeps the question open for its requester while someone else talks in the channel', async () => {
    await say(olivia, UNSURE);
    const aside = await say(vic, 'status of payments');
    expect(aside.outcome).not.toBe('asked_clarification');

    const chosen = await say(olivia, '', { actionId: CLARIFY_ACTION_ID, value: 'restart_service' });
    expect(chosen.nlu).toMatchObject({ intent: 'restart_service', text: UNSURE });
  });

  it('closes the question when its requester moves on, and says so when a stale button is clicked', async () => {
    await say(olivia, UNSURE);
    await say(olivia, 'status of payments');
    const stale = await say(olivia, '', { actionId: CLARIFY_ACTION_ID, value: 'scale_service' });
    expect(stale.outcome).toBe('cancelled');
    expect(stale.reply.text).toMatch(/^That question has expired\./);
  });

  it('does not accept a choice that was not offered', async () => {
    await say(olivia, UNSURE);
    const odd = await say(olivia, 'silence_alert', { actionId: CLARIFY_ACTION_ID, value: 'silence_alert' });
    expect(odd.outcome).toBe('cancelled');
    expect(odd.reply.text).toMatch(/^That question has expired\./);
  });
});

describe('a clarification button with no open question', () => {
  it('answers that the question has expired instead of reading the button value as a request', async () => {
    const config = testConfig((raw) => {
      raw.policy.users['web:olivia'] = ['operator'];
    });
    const catalog = new ServiceCatalog(config);
    let now = 0;
    const dialogue = new DialogueManager({
      nlu: new UnsureNlu(new RuleNlu(catalog)),
      skills: testRuntime(config).skills,
      policy: new Policy(config.policy),
      catalog,
      logger: createLogger('silent'),
      now: () => now,
    });
    const turn = { channel: 'web' as const, user: olivia, conversationId: 'c', text: UNSURE };
    const asked = await dialogue.respond(turn, newSession());
    expect(asked.kind).toBe('asked_clarification');

    now = CLARIFICATION_TTL_MS;
    const click = { ...turn, text: '', action: { actionId: CLARIFY_ACTION_ID, value: 'scale_service' } };
    const late = await dialogue.respond(click, asked.session);
    expect(late.kind).toBe('cancelled');
    expect(late.reply.text).toMatch(/^That question has expired\./);
    expect(late.session.clarifying).toBeUndefined();

    const never = await dialogue.respond(click, newSession());
    expect(never.kind).toBe('cancelled');
    expect(never.reply.text).toMatch(/^That question has expired\./);
  });
});
