import { Assistant } from '../../bot/assistant';
import { ServiceCatalog } from '../../bot/config/catalog';
import type { OpsbotConfig } from '../../bot/config/schema';
import { createLogger, type Logger } from '../../bot/core/logger';
import type { Channel, InboundTurn, Principal } from '../../bot/core/message';
import { CONFIRMATION_TTL_MS, DialogueManager } from '../../bot/dialogue/dialogue-manager';
import { MemorySessionStore } from '../../bot/dialogue/memory-session-store';
import { RuleNlu } from '../../bot/nlu/rule-nlu';
import { Policy } from '../../bot/policy/policy';
import { SkillRegistry, type Skill } from '../../bot/skills/skill';
import { testConfig, testRuntime } from '../support/runtime';

const operator: Principal = { id: 'web:olivia', name: 'Olivia', authenticated: true };
const guest: Principal = { id: 'guest:g1', name: 'guest', authenticated: false };

function conversation(
  assistant: Assistant,
  user: Principal = operator,
  conversationId = 'c1',
  channel: Channel = 'web',
) {
  return async (text: string, action?: InboundTurn['action']) =>
    (await assistant.handle({ channel, user, conversationId, text, action })).reply.text;
}

/** An assistant on the real NLU, policy and skills, with the parts a test wants to control swapped in. */
function assistantFor(
  config: OpsbotConfig,
  options: { logger?: Logger; now?: () => number; replace?: Skill } = {},
): Assistant {
  const catalog = new ServiceCatalog(config);
  const logger = options.logger ?? createLogger('silent');
  const skills = new SkillRegistry();
  for (const skill of testRuntime(config).skills.all()) skills.register(skill);
  if (options.replace) skills.replace(options.replace);
  const dialogue = new DialogueManager({
    nlu: new RuleNlu(catalog),
    skills,
    policy: new Policy(config.policy),
    catalog,
    logger,
    now: options.now,
  });
  return new Assistant({ dialogue, sessions: new MemorySessionStore(3600), logger });
}

describe('dialogue', () => {
  const config = testConfig((raw) => {
    raw.policy.users['web:olivia'] = ['operator'];
    raw.policy.users['web:vic'] = ['viewer'];
  });

  it('asks for a missing entity and fills it from the next turn', async () => {
    const say = conversation(testRuntime(config).assistant);
    expect(await say('scale payments')).toBe('To how many replicas?');
    expect(await say('5')).toMatch(/^Please confirm: scale payments in production to 5 replicas\./);
  });

  it('asks again, saying why, when the answer is outside the catalog limits', async () => {
    const say = conversation(testRuntime(config).assistant);
    expect(await say('scale orders to 50')).toBe(
      "orders allows 1–10 replicas, so I can't scale it to 50. To how many replicas?",
    );
    expect(await say('banana')).toBe('Sorry, I need a whole number of replicas. To how many replicas?');
    expect(await say('3')).toMatch(/^Please confirm: scale orders in production to 3 replicas\./);
  });

  it('gives up on a question after three unanswered attempts', async () => {
    const say = conversation(testRuntime(config).assistant);
    await say('scale payments');
    await say('banana');
    await say('apple');
    expect(await say('cherry')).toMatch(
      /^I still don't have a whole number of replicas, so I've dropped the request/,
    );
    expect(await say('7')).not.toMatch(/confirm/i);
  });

  it('resolves "it" and "that service" to the last service mentioned', async () => {
    const say = conversation(testRuntime(config).assistant);
    await say('is checkout healthy?');
    expect(await say('restart it')).toMatch(/^Please confirm: restart checkout in production\./);
    expect(await say('no')).toBe('Cancelled: restart checkout in production. Nothing was changed.');
    expect(await say('scale that service to 4')).toMatch(
      /^Please confirm: scale checkout in production to 4 replicas\./,
    );
  });

  it('drops an unconfirmed action when the user moves on, and says so', async () => {
    const say = conversation(testRuntime(config).assistant);
    await say('restart payments');
    const reply = await say('hello');
    expect(reply).toMatch(
      /^\(I dropped the unconfirmed request to restart payments in production\.\)\nHi Olivia!/,
    );
    expect(await say('yes')).toBe('There is nothing waiting for your confirmation.');
  });

  it('names only what it knew when it drops a request still missing an answer', async () => {
    const say = conversation(testRuntime(config).assistant);
    expect(await say('scale payments')).toBe('To how many replicas?');
    expect(await say('hello')).toMatch(/^\(I dropped the request to scale payments\.\)\nHi Olivia!/);
    expect(await say('restart payments in staging')).toMatch(/^payments does not run in staging/);
    expect(await say('hello')).toMatch(/^\(I dropped the request to restart payments\.\)\nHi Olivia!/);
  });

  it('lets only the requester confirm in a shared conversation', async () => {
    const { assistant } = testRuntime(config);
    const olivia = conversation(assistant, operator, 'shared', 'terminal');
    const other = conversation(
      assistant,
      { id: 'web:vic', name: 'Vic', authenticated: true },
      'shared',
      'terminal',
    );
    await olivia('restart payments');
    expect(await other('yes')).toBe('Only the person who made the request can answer that.');
    expect(await olivia('yes')).toMatch(
      /^I could not restart payments in production: .*Nothing was changed\./,
    );
  });

  it('refuses what the role does not allow, says why, and logs it', async () => {
    const lines: string[] = [];
    const logger = createLogger('info', { write: (line: string) => lines.push(line) });
    const say = conversation(assistantFor(config, { logger }), guest);
    expect(await say('scale payments to 3')).toBe(
      "Sorry, I can't do that for you: this needs the permission service.scale, which your role (guest) does not grant. Ask someone with that permission, or an admin to grant it.",
    );
    const denial = lines.map((l) => JSON.parse(l)).find((l) => l.event === 'policy.denied');
    expect(denial).toMatchObject({
      user: 'guest:g1',
      intent: 'scale_service',
      permission: 'service.scale',
      roles: ['guest'],
    });
  });

  it('lists in help only what the user may do', async () => {
    const { assistant } = testRuntime(config);
    const guestHelp = await conversation(assistant, guest)('help');
    const operatorHelp = await conversation(assistant, operator)('help');
    expect(guestHelp).toMatch(/Check the health of services/);
    expect(guestHelp).not.toMatch(/Restart a service|Scale a service|latency/);
    expect(operatorHelp).toMatch(/role: operator/);
    expect(operatorHelp).toMatch(/Check the health of services/);
  });

  it('expires a confirmation that waited too long', async () => {
    let now = 1_000_000;
    const say = conversation(assistantFor(config, { now: () => now }));
    await say('restart payments');
    now += CONFIRMATION_TTL_MS + 1;
    expect(await say('yes')).toMatch(/^That request expired before you answered\. Nothing was changed/);
  });

  describe('with an installed mutating skill', () => {
    const restarts: string[] = [];
    const restartSkill: Skill = {
      intent: 'restart_service',
      permission: 'service.restart',
      summary: 'Restart a service',
      examples: ['restart payments'],
      slots: [{ entity: 'service', required: true, prompt: 'Which service should I restart?' }],
      mutating: true,
      installed: true,
      describe: (s) => `restart ${s.service}`,
      async handle({ slots }) {
        restarts.push(String(slots.service));
        return { text: `Restarted ${slots.service}.`, blocks: [] };
      },
    };

    it('runs it only after confirmation, once, and not after a denial', async () => {
      restarts.length = 0;
      const say = conversation(assistantFor(config, { replace: restartSkill }));
      expect(await say('restart')).toBe('Which service should I restart?');
      expect(await say('payments')).toMatch(/^Please confirm: restart payments\./);
      expect(restarts).toEqual([]);
      expect(await say('', { actionId: 'dialogue.confirm', value: 'yes' })).toBe('Restarted payments.');
      expect(await say('', { actionId: 'dialogue.confirm', value: 'yes' })).toBe(
        'There is nothing waiting for your confirmation.',
      );
      await say('restart orders');
      expect(await say('cancel')).toBe('Cancelled: restart orders. Nothing was changed.');
      expect(restarts).toEqual(['payments']);
    });
  });
});

describe('dialogue answers to questions', () => {
  const config = testConfig((raw) => (raw.policy.users['web:olivia'] = ['operator']));

  it('does not take "Yes" as the name of the alert it asked for', async () => {
    const say = conversation(testRuntime(config).assistant);
    expect(await say('silence an alert for 2h')).toBe('Which alert should I silence?');
    expect(await say('Yes')).toBe(
      'Sorry, I need an alert name such as KubePodCrashLooping. Which alert should I silence?',
    );
    expect(await say('HighErrorRate')).toMatch(/^Please confirm: silence HighErrorRate for 2 hours\./);
  });
});
