import { textReply, type Block } from '../core/message';
import type { Skill } from './skill';

/** Skills that keep the conversation going and need no engine: greeting, help, out_of_scope, confirm, deny. */

export const greetingSkill: Skill = {
  intent: 'greeting',
  permission: null,
  summary: 'Say hello',
  examples: ['hi'],
  slots: [],
  mutating: false,
  installed: true,
  async handle({ user }) {
    const name = user.authenticated ? ` ${user.name}` : '';
    return textReply(`Hi${name}! I'm opsbot. Ask me things like "is payments healthy?" or type "help".`);
  },
};

export const helpSkill: Skill = {
  intent: 'help',
  permission: null,
  summary: 'Show what I can do for you',
  examples: ['help', 'what can you do?'],
  slots: [],
  mutating: false,
  installed: true,
  async handle({ skills, can, roles }) {
    const mine = skills.filter((s) => s.permission !== null && can(s.permission));
    const ready = mine.filter((s) => s.installed);
    const later = mine.filter((s) => !s.installed);
    const blocks: Block[] = [
      { type: 'section', text: `Here's what you can do (role: ${roles.join(', ')}):` },
      { type: 'list', items: ready.map((s) => `**${s.summary}** — e.g. \`${s.examples[0] ?? s.intent}\``) },
    ];
    if (later.length > 0) {
      blocks.push({
        type: 'section',
        text: `Not installed in this build yet: ${later.map((s) => s.summary.toLowerCase()).join('; ')}.`,
      });
    }
    const lines = ready.map((s) => `- ${s.summary}: "${s.examples[0] ?? s.intent}"`);
    return {
      text: `Here's what you can do (role: ${roles.join(', ')}):\n${lines.join('\n')}`,
      blocks,
    };
  },
};

export const outOfScopeSkill: Skill = {
  intent: 'out_of_scope',
  permission: null,
  summary: 'Say when a request is outside operations',
  examples: [],
  slots: [],
  mutating: false,
  installed: true,
  async handle() {
    return textReply(
      `Sorry, I didn't understand that as an operations request. Try "is payments healthy?", or type "help" to see what I can do.`,
    );
  },
};

/** Reached only when nothing is waiting for an answer: the dialogue resolves pending confirmations itself. */
export const confirmSkill: Skill = {
  intent: 'confirm',
  permission: null,
  summary: 'Confirm a pending action',
  examples: ['yes'],
  slots: [],
  mutating: false,
  installed: true,
  async handle() {
    return textReply('There is nothing waiting for your confirmation.');
  },
};

export const denySkill: Skill = {
  ...confirmSkill,
  intent: 'deny',
  summary: 'Cancel a pending action',
  examples: ['no', 'cancel'],
  async handle() {
    return textReply('OK. There was nothing pending to cancel.');
  },
};
