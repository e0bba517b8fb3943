import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Redis from 'ioredis';
import { parse as parseYaml } from 'yaml';
import { startServe, writeServeConfig, type ServeProcess } from '../support/serve-process';

/**
 * The firewall on every path of a real `opsbot serve`: secrets and personal data sent in chat, written in a
 * knowledge document, carried in a saga's parameters and in a routed event must not reach the logs, the audit
 * log, session state (in Redis), the knowledge index, a language model's prompt or a webhook. Every value is
 * synthetic and unique to this file, so finding one anywhere means it leaked.
 */
const OPERATOR_KEY = 'pii-firewall-operator-key-0123456789';
const CHAT_GITHUB_TOKEN = 'ghp_Zq8vR2mW5tY7uI9oP1aS3dF6gH4jK0lXcVbN';
const CHAT_PASSWORD = 'Tr0ub4dor&3-firewall-e2e';
const CHAT_EMAIL = 'leaky.reporter@example.org';
const DOC_AWS_KEY = 'AKIAZ7FIREWALLE2E4QX';
const DOC_DB_PASSWORD = 'rotate-me-e2e-9f3k2j';
const DOC_EMAIL = 'db-owners.e2e@example.com';
const SAGA_EMAIL = 'ada.onboarding.e2e@example.net';
const EVENT_EMAIL = 'customer.e2e@example.co.uk';
const EVENT_CARD = '4111 1111 1111 1111';
const EVERY_VALUE = [
  CHAT_GITHUB_TOKEN,
  CHAT_PASSWORD,
  CHAT_EMAIL,
  DOC_AWS_KEY,
  DOC_DB_PASSWORD,
  DOC_EMAIL,
  SAGA_EMAIL,
  EVENT_EMAIL,
  EVENT_CARD,
];
const SESSION_PREFIX = `opsbot-test:pii-${process.pid}:`;

interface Recorder {
  url: string;
  bodies: string[];
  close(): Promise<void>;
}

/** A loopback HTTP server that keeps every request body and answers with `reply(body)`. */
async function recorder(reply: (body: string) => unknown): Promise<Recorder> {
  const bodies: string[] = [];
  const server: Server = createServer((req: IncomingMessage, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      bodies.push(body);
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(reply(body)));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    bodies,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** An OpenAI-compatible chat completion that cites the first passage. */
function completion(): unknown {
  return {
    id: 'chatcmpl-e2e',
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: 'e2e-model',
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: 'Rotate the credentials as the runbook says [1].' },
        finish_reason: 'stop',
      },
    ],
    usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
  };
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const file = path.join(dir, name);
    return statSync(file).isDirectory() ? filesUnder(file) : [file];
  });
}

function leaksIn(text: string): string[] {
  return EVERY_VALUE.filter((value) => text.includes(value));
}

describe('the PII and secrets firewall in a running opsbot', () => {
  let opsbot: ServeProcess;
  let llm: Recorder;
  let webhook: Recorder;
  let redis: Redis;
  let stateDir: string;
  let indexDir: string;

  beforeAll(async () => {
    llm = await recorder(() => completion());
    webhook = await recorder(() => ({ ok: true }));
    redis = new Redis('redis://127.0.0.1:6379', { lazyConnect: true, maxRetriesPerRequest: 1 });
    await redis.connect();
    const docs = mkdtempSync(path.join(tmpdir(), 'opsbot-pii-docs-'));
    writeFileSync(
      path.join(docs, 'orders-db-credentials.md'),
      [
        '---',
        'title: Rotating the orders database credentials',
        'services: [orders]',
        '---',
        '# Rotating the orders database credentials',
        '',
        `Ask the owners at ${DOC_EMAIL} before you rotate anything.`,
        '',
        `The old deploy user still has access key id ${DOC_AWS_KEY} and password=${DOC_DB_PASSWORD}; revoke both`,
        'after the new credentials are live, then restart orders so its pool reconnects.',
        '',
      ].join('\n'),
    );
    const configFile = writeServeConfig((raw) => {
      raw.auth = { apiKeys: [{ id: 'op', key: OPERATOR_KEY, user: { id: 'olivia', name: 'Olivia' } }] };
      raw.policy.users['api:olivia'] = ['operator'];
      raw.sessions = { store: 'redis', redisUrl: 'redis://127.0.0.1:6379', keyPrefix: SESSION_PREFIX };
      raw.knowledge = {
        ...raw.knowledge,
        sources: [docs],
        autoBuild: true,
        llm: { baseUrl: `${llm.url}/v1`, model: 'e2e-model' },
      };
      raw.eventbus = {
        rules: [
          {
            id: 'customer-updates-to-crm',
            match: { type: 'customer.updated' },
            transforms: [{ redact: ['email', 'card', 'name'] }],
            targets: [{ webhook: { url: `${webhook.url}/crm`, timeoutMs: 2000 } }],
          },
        ],
      };
    });
    const written = parseYaml(readFileSync(configFile, 'utf8'));
    stateDir = written.stateDir;
    indexDir = written.knowledge.indexDir;
    opsbot = await startServe(configFile);
  }, 90_000);

  afterAll(async () => {
    await opsbot?.kill();
    const keys = await redis.keys(`${SESSION_PREFIX}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
    await Promise.all([llm?.close(), webhook?.close()]);
  }, 30_000);

  const api = async (method: string, route: string, body?: unknown) => {
    const res = await fetch(`${opsbot.url}${route}`, {
      method,
      headers: { authorization: `Bearer ${OPERATOR_KEY}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as any };
  };
  const chat = (text: string, conversation: string) => api('POST', '/api/chat', { text, conversation });

  async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined): Promise<T> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const value = await probe();
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  it('screens chat before anything sees it and warns the sender without repeating what was found', async () => {
    const { status, body } = await chat(
      `is payments healthy? I pasted my token ${CHAT_GITHUB_TOKEN} and password: ${CHAT_PASSWORD} by mistake, mail ${CHAT_EMAIL}`,
      'pii-chat-1',
    );
    expect(status).toBe(200);
    expect(body.nlu.intent).toBe('system_status');
    expect(body.nlu.text).toContain('<SECRET>');
    expect(body.nlu.text).toContain('<EMAIL>');
    expect(body.reply.text).toMatch(
      /^⚠️ Your message contained an email address and 2 secrets \(tokens, keys or passwords\)\. .*Treat those secrets as leaked: rotate them/,
    );
    expect(body.reply.blocks[0]).toEqual({ type: 'section', text: expect.stringMatching(/^⚠️/) });
    expect(leaksIn(JSON.stringify(body))).toEqual([]);
    // The rest of the message was still answered.
    expect(body.reply.text).toMatch(/payments/);
  });

  it('indexes knowledge without its secrets and sends a language model no personal data', async () => {
    await waitFor('the knowledge index', async () => {
      const ready = await fetch(`${opsbot.url}/readyz`).then((res) => res.json() as Promise<any>);
      const index = ready.components?.find((c: any) => c.name === 'knowledge index (RAG)');
      return index?.state === 'ok' ? true : undefined;
    });
    const { body } = await chat('how do I rotate the orders database credentials?', 'pii-chat-3');
    expect(body.nlu.intent).toBe('troubleshoot');
    expect(body.reply.text).toContain('Rotate the credentials as the runbook says');
    expect(llm.bodies.length).toBeGreaterThan(0);
    const prompt = llm.bodies.join('\n');
    expect(prompt).toContain('revoke both');
    // The index dropped the key and password; the llm path dropped the owners' address the index keeps.
    expect(prompt).toContain('<SECRET>');
    expect(prompt).toContain('<EMAIL>');
    expect(leaksIn(prompt)).toEqual([]);
    const index = filesUnder(indexDir)
      .map((file) => readFileSync(file).toString('latin1'))
      .join('\n');
    expect(index).toContain('revoke both');
    expect(index).not.toContain(DOC_AWS_KEY);
    expect(index).not.toContain(DOC_DB_PASSWORD);
  }, 60_000);

  it('records a saga with personal data in its parameters without it in the audit log', async () => {
    const started = await api('POST', '/api/v1/sagas/start', {
      saga: 'user-onboarding',
      params: { email: SAGA_EMAIL, name: 'Ada Lovelace' },
    });
    expect(started.status).toBe(202);
    const auditFile = path.join(stateDir, 'audit', 'audit.log');
    const audit = await waitFor('the saga in the audit log', () => {
      const text = readFileSync(auditFile, 'utf8');
      return text.includes(started.body.run.id) && text.includes('<EMAIL>') ? text : undefined;
    });
    expect(leaksIn(audit)).toEqual([]);
    const verified = await api('GET', '/api/v1/sagas/' + started.body.run.id);
    expect(verified.status).toBe(200);
  });

  it('redacts the fields a routing rule names before the event leaves for a webhook', async () => {
    const published = await api('POST', '/api/v1/events', {
      type: 'customer.updated',
      source: 'users',
      subject: 'cus_9KQ2',
      data: { email: EVENT_EMAIL, card: `card ${EVENT_CARD}`, name: 'Jane Example', plan: 'pro' },
    });
    expect(published.status).toBe(202);
    const delivered = await waitFor('the webhook delivery', () => webhook.bodies[0]);
    const event = JSON.parse(delivered);
    expect(event.data).toEqual({
      email: '<EMAIL>',
      card: 'card <CREDIT_CARD>',
      // Nothing the firewall knows is in a name, and a listed field never passes as it is.
      name: '[REDACTED]',
      plan: 'pro',
    });
  });

  it('leaves no value in the logs, the sessions, the state folder or the index', async () => {
    // Everything above is written (the audit log syncs within 100 ms, the logs are buffered).
    await new Promise((resolve) => setTimeout(resolve, 500));
    const logs = JSON.stringify(opsbot.logs);
    expect(logs).toContain('"piiRedacted"');
    expect(leaksIn(logs)).toEqual([]);
    const audit = readFileSync(path.join(stateDir, 'audit', 'audit.log'), 'utf8');
    expect(leaksIn(audit)).toEqual([]);
    // The conversations above, as Redis holds them (tests/quality/pii-firewall checks a session that keeps
    // the turn's text).
    const keys = await redis.keys(`${SESSION_PREFIX}*`);
    expect(keys.length).toBeGreaterThanOrEqual(2);
    const sessions = (await Promise.all(keys.map((key) => redis.get(key)))).join('\n');
    expect(leaksIn(sessions)).toEqual([]);
    // Run journals keep a saga's parameters to run it (the onboarding address), and the event store keeps the
    // event as published: both are the business's own data. Nothing typed in chat or read from a document is.
    const chatAndDocs = [CHAT_GITHUB_TOKEN, CHAT_PASSWORD, CHAT_EMAIL, DOC_AWS_KEY, DOC_DB_PASSWORD];
    for (const file of [...filesUnder(stateDir), ...filesUnder(indexDir)]) {
      const text = readFileSync(file).toString('latin1');
      expect({ file, leaks: chatAndDocs.filter((v) => text.includes(v)) }).toEqual({ file, leaks: [] });
    }
  });
});
