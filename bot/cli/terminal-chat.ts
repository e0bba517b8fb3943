import { createInterface } from 'node:readline/promises';
import { userInfo } from 'node:os';
import { renderForTerminal, terminalButtons } from '../../adapters/terminal/render';
import type { Assistant } from '../assistant';
import { isOpsbotError } from '../core/errors';
import type { InboundTurn, Principal, Reply, TurnAction } from '../core/message';

/** The person at the terminal, identified by their OS account: they already hold the config and the machine. */
export function terminalPrincipal(): Principal {
  const name = userInfo().username;
  return { id: `terminal:${name}`, name, authenticated: true };
}

export function terminalTurn(text: string, conversationId: string, action?: TurnAction): InboundTurn {
  return { channel: 'terminal', user: terminalPrincipal(), conversationId, text, action };
}

/** `opsbot chat`: an interactive conversation. A number picks a button of the last reply. */
export async function runTerminalChat(assistant: Assistant, conversationId: string): Promise<void> {
  const colour = process.stdout.isTTY === true && !process.env.NO_COLOR;
  const rl = createInterface({
    input: process.stdin,
    output: process.stdout,
    terminal: process.stdin.isTTY === true,
  });
  const say = (reply: Reply) =>
    process.stdout.write(
      `opsbot › ${renderForTerminal(reply, { colour }).replace(/\n/g, '\n         ')}\n\n`,
    );
  process.stdout.write(
    'opsbot — type a question ("is payments healthy?", "help"); /quit or Ctrl-D to leave.\n\n',
  );

  let buttons: ReturnType<typeof terminalButtons> = [];
  rl.setPrompt('you › ');
  rl.prompt();
  for await (const line of rl) {
    const text = line.trim();
    if (text === '/quit' || text === '/exit') break;
    if (text !== '') {
      const picked = /^\d+$/.test(text) ? buttons[Number(text) - 1] : undefined;
      try {
        const turn = picked
          ? terminalTurn(picked.label, conversationId, { actionId: picked.actionId, value: picked.value })
          : terminalTurn(text, conversationId);
        const { reply } = await assistant.handle(turn);
        buttons = terminalButtons(reply);
        say(reply);
      } catch (err) {
        if (!isOpsbotError(err)) throw err;
        say({ text: err.message, blocks: [] });
      }
    }
    rl.prompt();
  }
  rl.close();
}
