import { Writable } from 'node:stream';
import { Assistant } from '../../bot/assistant';
import { createLogger } from '../../bot/core/logger';
import { textReply, type InboundTurn } from '../../bot/core/message';
import type { DialogueManager } from '../../bot/dialogue/dialogue-manager';
import { MemorySessionStore } from '../../bot/dialogue/memory-session-store';
import type { SessionState } from '../../bot/dialogue/session';
import { Notifier } from '../../bot/notify/notifier';
import { HashChainedAuditLog } from '../../engines/audit/hash-chained-audit-log';
import { verifyAuditLog } from '../../engines/audit/verify-audit-log';
import { compileRules } from '../../engines/eventbus/routing';
import { buildFirewall } from '../../engines/quality/firewall/build-firewall';
import { eventFieldRedactor } from '../../engines/quality/firewall/event-field-redactor';
import { describeFindings, PiiFirewall } from '../../engines/quality/firewall/pii-firewall';
import { buildIndex } from '../../rag/index/index-builder';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { HashingEmbeddingProvider } from '../support/hashing-embeddings';
import { testConfig } from '../support/runtime';

const TOKEN = 'xoxb-2048573829-9283746501-Qm7TzK3pW8vL1nR5yB0cX4dE';
const EMAIL = 'jane.firewall@example.com';
const CARD = '4242 4242 4242 4242';

function lines(): { stream: Writable; text: () => string } {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text += chunk.toString();
      done();
    },
  });
  return { stream, text: () => text };
}

describe('PiiFirewall', () => {
  it('redacts with the firewall-wide mode, a per-type mode and a per-path override', () => {
    const firewall = new PiiFirewall({
      enabled: true,
      redaction: { default: 'type', perType: { credit_card: 'partial' } },
      paths: { replies: { enabled: true, redaction: { default: 'mask' } } },
    });
    const text = `mail ${EMAIL}, card ${CARD}`;
    expect(firewall.redactText(text, 'chat')).toBe('mail <EMAIL>, card **** **** **** 4242');
    expect(firewall.redactText(text, 'replies')).toBe(
      `mail ${'*'.repeat(EMAIL.length)}, card **** **** **** 4242`,
    );
  });

  it('looks only for the types a path names, and not at all on a disabled path', () => {
    const firewall = new PiiFirewall({
      enabled: true,
      redaction: { default: 'type' },
      paths: { knowledge: { enabled: true, types: ['secret'] }, llm: { enabled: false } },
    });
    const text = `owner ${EMAIL} token ${TOKEN}`;
    expect(firewall.redactText(text, 'knowledge')).toBe(`owner ${EMAIL} token <SECRET>`);
    expect(firewall.redactText(text, 'llm')).toBe(text);
    expect(firewall.enabled('llm')).toBe(false);
    expect(firewall.redactText(text, 'logs')).toBe('owner <EMAIL> token <SECRET>');
  });

  it('gives stable pseudonyms in hash mode and refuses hash mode without a salt', () => {
    const firewall = new PiiFirewall({
      enabled: true,
      salt: 'a-salt-of-16-chars+',
      redaction: { default: 'hash' },
    });
    const first = firewall.redactText(`from ${EMAIL}`, 'events');
    expect(first).toMatch(/^from <EMAIL:[0-9a-f]{8}>$/);
    expect(firewall.redactText(`from ${EMAIL.toUpperCase()}`, 'events')).toBe(first);
    expect(() => new PiiFirewall({ enabled: true, redaction: { default: 'hash' } })).toThrow(/salt/);
    // A disabled firewall never applies its policy, so it cannot fail on one.
    expect(() => new PiiFirewall({ enabled: false, redaction: { default: 'hash' } })).not.toThrow();
  });

  it('redacts strings at any depth and returns the same reference when there is nothing to redact', () => {
    const firewall = PiiFirewall.standard();
    const clean = { service: 'payments', replicas: 3, tags: ['a', 'b'], at: new Date(0) };
    expect(firewall.redactValue(clean, 'audit')).toBe(clean);
    const dirty = { service: 'payments', details: { note: [`card ${CARD}`], ok: true }, when: clean.at };
    const redacted = firewall.redactValue(dirty, 'audit');
    expect(redacted).toEqual({
      service: 'payments',
      details: { note: ['card <CREDIT_CARD>'], ok: true },
      when: clean.at,
    });
    expect(dirty.details.note[0]).toBe(`card ${CARD}`);
    const cyclic: Record<string, unknown> = { note: `to ${EMAIL}` };
    cyclic.self = cyclic;
    expect((firewall.redactValue(cyclic, 'logs') as Record<string, unknown>).note).toBe('to <EMAIL>');
  });

  it('keeps the class of an error and screens its message and stack', () => {
    class ConnectError extends Error {
      constructor(message: string) {
        super(message);
        this.name = 'ConnectError';
      }
    }
    const err = new ConnectError(`cannot log in with token ${TOKEN}`);
    const redacted = PiiFirewall.standard().redactValue(err, 'logs');
    expect(redacted).toBeInstanceOf(ConnectError);
    expect(redacted.name).toBe('ConnectError');
    expect(redacted.message).toBe('cannot log in with token <SECRET>');
    expect(redacted.stack).not.toContain(TOKEN);
    expect(err.message).toContain(TOKEN);
  });

  it('counts findings per path and type, never values', () => {
    const firewall = PiiFirewall.standard();
    firewall.redactText(`${EMAIL} ${TOKEN}`, 'chat');
    firewall.redactText(`${EMAIL}`, 'chat');
    expect(firewall.findingCounts()).toEqual(
      expect.arrayContaining([
        { path: 'chat', type: 'email', count: 2 },
        { path: 'chat', type: 'secret', count: 1 },
      ]),
    );
    expect(JSON.stringify(firewall.findingCounts())).not.toContain('jane');
  });

  it('describes findings by kind and number', () => {
    expect(describeFindings([{ type: 'secret' }])).toBe('a secret (a token, key or password)');
    expect(describeFindings([{ type: 'secret' }, { type: 'email' }, { type: 'email' }])).toBe(
      '2 email addresses and a secret (a token, key or password)',
    );
    expect(describeFindings([{ type: 'phone' }, { type: 'iban' }, { type: 'ip_address' }])).toBe(
      'a phone number, an IBAN and an IP address',
    );
  });

  it('is configured from quality.firewall: on by default, knowledge limited to secrets and financial ids', () => {
    const config = testConfig();
    expect(config.quality.firewall).toMatchObject({
      enabled: true,
      threshold: 0.5,
      redaction: { default: 'type' },
    });
    const firewall = buildFirewall(config.quality.firewall);
    expect(firewall.redactText(`owner ${EMAIL} card ${CARD}`, 'knowledge')).toBe(
      `owner ${EMAIL} card <CREDIT_CARD>`,
    );
    const hashing = (raw: Record<string, any>) =>
      (raw.quality = { firewall: { redaction: { default: 'hash' } } });
    expect(() => testConfig(hashing)).toThrow(/OPSBOT_PII_SALT/);
    const salted = testConfig(hashing, { OPSBOT_PII_SALT: '0123456789abcdef0123' });
    expect(buildFirewall(salted.quality.firewall).redactText(EMAIL, 'chat')).toMatch(/^<EMAIL:[0-9a-f]{8}>$/);
  });
});

describe('the firewall on each path', () => {
  it('chat: the dialogue, the session and the turn log see the screened text; the reply warns', async () => {
    const seen: string[] = [];
    const dialogue = {
      async respond(turn: InboundTurn, session: SessionState) {
        seen.push(turn.text);
        return {
          // A reply that quotes what it was told, and names a customer: the replies path screens it.
          reply: textReply(`You said: ${turn.text}. The customer is ${EMAIL}.`),
          nlu: { text: turn.text, intent: 'greeting', confidence: 1, entities: [] },
          session: { ...session, lastService: turn.text },
          kind: 'answered',
        };
      },
    } as unknown as DialogueManager;
    const sessions = new MemorySessionStore(3600);
    const log = lines();
    const assistant = new Assistant({
      dialogue,
      sessions,
      logger: createLogger('info', log.stream),
      firewall: PiiFirewall.standard(),
    });
    const result = await assistant.handle({
      channel: 'web',
      user: { id: 'web:u', name: 'U', authenticated: true },
      conversationId: 'c1',
      text: `hello, my slack token is ${TOKEN}`,
    });
    expect(seen).toEqual(['hello, my slack token is <SECRET>']);
    expect(JSON.stringify(await sessions.get('web:c1'))).toContain('<SECRET>');
    expect(JSON.stringify(await sessions.get('web:c1'))).not.toContain(TOKEN);
    expect(result.reply.text).toBe(
      '⚠️ Your message contained a secret (a token, key or password). I replaced it before storing, logging or ' +
        'acting on anything. Treat that secret as leaked: rotate it, and delete your message if you can.\n\n' +
        'You said: hello, my slack token is <SECRET>. The customer is <EMAIL>.',
    );
    expect(result.nlu.text).not.toContain(TOKEN);
    const turnLine = JSON.parse(log.text().trim());
    expect(turnLine).toMatchObject({ event: 'turn', piiRedacted: ['secret'] });
    expect(log.text()).not.toContain(TOKEN);
  });

  it('chat: a clean message gets no warning', async () => {
    const dialogue = {
      respond: async (turn: InboundTurn, session: SessionState) => ({
        reply: textReply('hi'),
        nlu: { text: turn.text, intent: 'greeting', confidence: 1, entities: [] },
        session,
        kind: 'answered',
      }),
    } as unknown as DialogueManager;
    const assistant = new Assistant({
      dialogue,
      sessions: new MemorySessionStore(3600),
      logger: createLogger('silent'),
      firewall: PiiFirewall.standard(),
    });
    const result = await assistant.handle({
      channel: 'web',
      user: { id: 'web:u', name: 'U', authenticated: true },
      conversationId: 'c2',
      text: 'hello there, order 4421-7781 shipped at 2026-11-20T10:00:00Z',
    });
    expect(result.reply.text).toBe('hi');
  });

  it('logs: every argument of a log call, an error included, goes through the logs path', () => {
    const firewall = PiiFirewall.standard();
    const log = lines();
    const logger = createLogger('info', log.stream, { scrub: (v) => firewall.redactValue(v, 'logs') });
    logger.error({ err: new Error(`auth failed for ${TOKEN}`), user: EMAIL }, `retrying for ${EMAIL}`);
    logger.child({ component: 'x' }).warn(`card ${CARD} declined`);
    const out = log.text();
    expect(out).not.toContain(TOKEN);
    expect(out).not.toContain(EMAIL);
    expect(out).not.toContain(CARD);
    const [first, second] = out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(first).toMatchObject({
      msg: 'retrying for <EMAIL>',
      user: '<EMAIL>',
      err: { type: 'Error', message: 'auth failed for <SECRET>' },
    });
    expect(second).toMatchObject({ msg: 'card <CREDIT_CARD> declined', component: 'x' });
  });

  it('audit: records are screened before they are hashed, and the chain still verifies', async () => {
    const firewall = PiiFirewall.standard();
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'opsbot-fw-audit-')), 'audit.log');
    const log = new HashChainedAuditLog({
      file,
      redact: (entry) => firewall.redactValue(entry, 'audit'),
    });
    log.record({
      action: 'saga.run',
      phase: 'started',
      actor: 'api:olivia',
      roles: ['operator'],
      correlationId: 'c-1',
      details: { params: { email: EMAIL, note: `token ${TOKEN}` } },
    });
    await log.close();
    const text = readFileSync(file, 'utf8');
    expect(text).toContain('"email":"<EMAIL>"');
    expect(text).not.toContain(EMAIL);
    expect(text).not.toContain(TOKEN);
    expect(await verifyAuditLog(file)).toMatchObject({ ok: true, records: 1 });
  });

  it('replies: a notification is screened before any sender sees it', async () => {
    const firewall = PiiFirewall.standard();
    const sent: string[] = [];
    const notifier = new Notifier({}, (reply) => firewall.redactValue(reply, 'replies'));
    notifier.register({
      channel: 'web',
      send: async (_target, reply) => {
        sent.push(JSON.stringify(reply));
        return { channel: 'web', conversation: 'ops' };
      },
    });
    await notifier.notify({ channel: 'web', room: 'ops' }, textReply(`alert: login from ${EMAIL}`));
    expect(sent).toEqual([JSON.stringify(textReply('alert: login from <EMAIL>'))]);
  });

  it("events: a rule's redact transform rewrites findings and replaces a field with none", () => {
    const table = compileRules(
      [
        {
          id: 'crm',
          transforms: [{ redact: ['customer.email', 'customer.name', 'note'] }],
          targets: [{ topic: 'crm' }],
        },
      ],
      { redact: eventFieldRedactor(PiiFirewall.standard()) },
    );
    const [route] = table.route({
      type: 'customer.updated',
      data: { customer: { email: EMAIL, name: 'Jane Example', tier: 'gold' }, note: `card ${CARD}`, n: 1 },
    } as never);
    expect(route?.event.data).toEqual({
      customer: { email: '<EMAIL>', name: '[REDACTED]', tier: 'gold' },
      note: 'card <CREDIT_CARD>',
      n: 1,
    });
    const off = compileRules(
      [{ id: 'crm', transforms: [{ redact: ['note'] }], targets: [{ topic: 'crm' }] }],
      { redact: eventFieldRedactor(PiiFirewall.off()) },
    );
    expect(off.route({ type: 'x', data: { note: 'anything' } } as never)[0]?.event.data).toEqual({
      note: '[REDACTED]',
    });
  });

  it('knowledge: what the firewall finds never reaches a chunk or a vector file', async () => {
    const docs = mkdtempSync(path.join(tmpdir(), 'opsbot-fw-docs-'));
    const out = mkdtempSync(path.join(tmpdir(), 'opsbot-fw-index-'));
    writeFileSync(
      path.join(docs, 'creds.md'),
      `# Database credentials\n\nThe owners are at ${EMAIL}. The old key is ${TOKEN}; revoke it after rotation.\n`,
    );
    const firewall = buildFirewall(testConfig().quality.firewall);
    await buildIndex({
      sources: [docs],
      out,
      provider: new HashingEmbeddingProvider(),
      redact: (text) => firewall.redactText(text, 'knowledge'),
    });
    const files = readdirSync(out, { recursive: true, withFileTypes: true }).filter((d) => d.isFile());
    const stored = files
      .map((d) => readFileSync(path.join(d.parentPath, d.name)).toString('latin1'))
      .join('\n');
    expect(stored).toContain('revoke it after rotation');
    expect(stored).toContain('<SECRET>');
    expect(stored).not.toContain(TOKEN);
    // Team addresses stay searchable: the knowledge path looks for secrets and financial ids only.
    expect(stored).toContain(EMAIL);
  });
});
