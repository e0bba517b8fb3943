import { Assistant } from '../../bot/assistant';
import { createLogger } from '../../bot/core/logger';
import type { InboundTurn } from '../../bot/core/message';
import type { DialogueManager } from '../../bot/dialogue/dialogue-manager';
import { MemorySessionStore } from '../../bot/dialogue/memory-session-store';

const turn = (text: string): InboundTurn => ({
  channel: 'slack',
  user: { id: 'slack:U1', name: 'u', authenticated: true },
  conversationId: 'c1',
  text,
});

describe('Assistant.answer, for chat platforms', () => {
  const failing = {
    respond: () => Promise.reject(new Error('session store exploded')),
  } as unknown as DialogueManager;
  const assistant = new Assistant({
    dialogue: failing,
    sessions: new MemorySessionStore(60),
    logger: createLogger('silent'),
  });

  it('answers a failure with an apology that carries the reference to find it in the log', async () => {
    const answer = await assistant.answer(turn('help'), 'corr-123');
    expect(answer.outcome).toBe('failed');
    expect(answer.reply.text).toMatch(/^Sorry, something went wrong on my side.*reference: corr-123$/);
    expect(answer.reply.text).not.toContain('exploded');
  });

  it('answers text that is too long with the reason, before anything else runs', async () => {
    const answer = await assistant.answer(turn('x'.repeat(4001)));
    expect(answer.outcome).toBe('refused');
    expect(answer.reply.text).toMatch(/4,001 characters long and I can read at most 4,000/);
  });
});
