import type { Finding } from '../../engines/quality/pii/finding';
import { describeFindings, type PiiFirewall } from '../../engines/quality/firewall/pii-firewall';
import type { InboundTurn, Reply } from './message';

/**
 * The firewall at the chat boundary. Inbound text is screened before the dialogue sees it, so nothing past
 * this point (session state, log lines, run parameters, the NLU) ever holds what was found; a button's value
 * is opsbot's own, never typed by a person, and is left alone.
 */
export function screenInboundTurn(
  turn: InboundTurn,
  firewall: PiiFirewall,
): { turn: InboundTurn; findings: Finding[] } {
  const { text, findings } = firewall.screen(turn.text, 'chat');
  return findings.length === 0 ? { turn, findings } : { turn: { ...turn, text }, findings };
}

/**
 * The reply with a heads-up first: what kind of data the message held, never the value. A secret posted in a
 * shared channel has been seen by everyone in it, so the advice is to rotate it, not only to delete the message.
 */
export function withLeakWarning(reply: Reply, findings: readonly Finding[]): Reply {
  if (findings.length === 0) return reply;
  const secrets = findings.filter((f) => f.type === 'secret').length;
  const warning =
    `⚠️ Your message contained ${describeFindings(findings)}. I replaced ${findings.length === 1 ? 'it' : 'them'} ` +
    `before storing, logging or acting on anything. ` +
    (secrets === 1
      ? 'Treat that secret as leaked: rotate it, and delete your message if you can.'
      : secrets > 1
        ? 'Treat those secrets as leaked: rotate them, and delete your message if you can.'
        : 'Please delete your message if you can; personal data does not belong in chat.');
  return {
    text: `${warning}\n\n${reply.text}`,
    blocks: [{ type: 'section', text: warning }, ...reply.blocks],
  };
}
