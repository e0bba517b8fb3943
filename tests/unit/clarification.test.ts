import { Assistant } from '../../bot/assistant';
import { ServiceCatalog } from '../../bot/config/catalog';
import { createLogger } from '../../bot/core/logger';
import type { Principal } from '../../bot/core/message';
import { CLARIFY_ACTION_ID, DialogueManager } from '../../bot/dialogue/dialogue-manager';
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
  const say = (user: Principal, text: string, action?: { actionId: string; value: string }) =>
    assistant.handle({ channel: 'web', user, conversationId: 'shared', text, action });

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

  it('does not accept a choice that was not offered', async () => {
    await say(olivia, UNSURE);
    const odd = await say(olivia, 'silence_alert', { actionId: CLARIFY_ACTION_ID, value: 'silence_alert' });
    expect(odd.nlu.intent).not.toBe('silence_alert');
  });
});
