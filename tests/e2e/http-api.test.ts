import { signToken } from '../../bot/server/signed-token';
import { loopbackHttpServer, testConfig, testServer } from '../support/runtime';

const SECRET = 'a-test-secret-that-is-long-enough-0123456789';

describe('HTTP API', () => {
  let server: Awaited<ReturnType<typeof testServer>>;
  let health: Awaited<ReturnType<typeof loopbackHttpServer>>;

  beforeAll(async () => {
    health = await loopbackHttpServer((res) => res.end('{"status":"ok"}'));
    server = await testServer(
      testConfig((raw) => {
        raw.services.payments.environments.production.healthUrl = health.url;
        raw.auth = {
          tokenSecret: SECRET,
          apiKeys: [{ id: 'ci', key: 'ci-key-0123456789abcdef', user: { id: 'ci-bot', name: 'CI bot' } }],
        };
        raw.policy.users['web:olivia'] = ['operator'];
      }),
    );
  });
  afterAll(async () => {
    await server.close();
    await health.close();
  });

  const chat = (body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${server.url}/api/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

  it('answers a chat turn with the reply and the NLU result', async () => {
    const res = await chat({
      text: 'is payments healthy?',
      user: { id: 'u1', name: 'Uma' },
      conversation: 'c1',
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const body = await res.json();
    expect(body.nlu).toMatchObject({ text: 'is payments healthy?', intent: 'system_status' });
    expect(body.nlu.entities).toEqual([
      { type: 'service', value: 'payments', text: 'payments', start: 3, end: 11 },
    ]);
    expect(body.reply.text).toMatch(/^payments \(production\) is healthy: HTTP 200 in \d+ ms/);
    expect(body.reply.blocks).toContainEqual({
      type: 'status',
      badges: [expect.objectContaining({ label: 'payments', state: 'ok' })],
    });
  });

  it('keeps the conversation between requests: a missing entity is asked for and the next turn fills it', async () => {
    const headers = {
      authorization: `Bearer ${signToken({ sub: 'olivia', name: 'Olivia', ttlSeconds: 600 }, SECRET)}`,
    };
    const first = await (await chat({ text: 'scale payments', conversation: 'scale-1' }, headers)).json();
    expect(first.reply.text).toBe('To how many replicas?');
    const second = await (await chat({ text: '5', conversation: 'scale-1' }, headers)).json();
    expect(second.reply.text).toMatch(/^Please confirm: scale payments in production to 5 replicas\./);
    expect(second.reply.blocks).toContainEqual(
      expect.objectContaining({
        type: 'buttons',
        buttons: expect.arrayContaining([expect.objectContaining({ actionId: 'dialogue.confirm' })]),
      }),
    );
    const third = await (await chat({ text: 'yes', conversation: 'scale-1' }, headers)).json();
    expect(third.reply.text).toMatch(
      /^I could not (?:restart|scale) payments in production: .*Nothing was changed\./,
    );
  });

  it('gives anonymous callers the guest role whatever user they claim to be', async () => {
    const body = await (
      await chat({ text: 'restart payments', user: { id: 'olivia' }, conversation: 'g1' })
    ).json();
    expect(body.reply.text).toMatch(
      /can't do that for you: this needs the permission service\.restart.*\(guest\)/,
    );
  });

  it('takes identity from an API key and refuses a body user that contradicts it', async () => {
    const ok = await chat(
      { text: 'help', conversation: 'k1' },
      { authorization: 'Bearer ci-key-0123456789abcdef' },
    );
    expect(ok.status).toBe(200);
    expect((await ok.json()).reply.text).toMatch(/role: viewer/);
    const mismatch = await chat(
      { text: 'help', user: { id: 'olivia' }, conversation: 'k1' },
      { authorization: 'Bearer ci-key-0123456789abcdef' },
    );
    expect(mismatch.status).toBe(403);
    expect((await mismatch.json()).error.code).toBe('identity_mismatch');
  });

  it.each([
    ['an unknown API key', 'Bearer not-a-real-key-000000'],
    [
      'a token signed with another secret',
      `Bearer ${signToken({ sub: 'x', name: 'x', ttlSeconds: 60 }, 'another-secret-0123456789-0123456789')}`,
    ],
    [
      'an expired token',
      `Bearer ${signToken({ sub: 'x', name: 'x', ttlSeconds: 60 }, SECRET, Date.now() - 3600_000)}`,
    ],
    ['a malformed header', 'Basic abc'],
  ])('refuses %s with 401', async (_what, authorization) => {
    const res = await chat({ text: 'help' }, { authorization });
    expect(res.status).toBe(401);
    expect((await res.json()).error.code).toBe('unauthorized');
  });

  describe('bad input', () => {
    it.each([
      ['malformed JSON', '{"text": ', 400, 'invalid_json'],
      ['a missing text', { user: { id: 'u' } }, 400, 'invalid_request'],
      ['an empty text', { text: '   ' }, 400, 'invalid_request'],
      ['a text that is not a string', { text: 42 }, 400, 'invalid_request'],
      ['a JSON array', '[1,2]', 400, 'invalid_request'],
      ['a bad conversation id', { text: 'hi', conversation: 'a b/c' }, 400, 'invalid_request'],
      ['a body over 64 KB', { text: 'x'.repeat(70 * 1024) }, 413, 'payload_too_large'],
    ])('answers %s with a JSON error', async (_what, body, status, code) => {
      const res = await chat(body);
      expect(res.status).toBe(status);
      expect(res.headers.get('content-type')).toMatch(/application\/json/);
      const json = await res.json();
      expect(json.error.code).toBe(code);
      expect(typeof json.error.message).toBe('string');
    });

    it('refuses a non-JSON content type with 415', async () => {
      const res = await fetch(`${server.url}/api/chat`, {
        method: 'POST',
        headers: { 'content-type': 'text/plain' },
        body: 'hi',
      });
      expect(res.status).toBe(415);
      expect((await res.json()).error.code).toBe('unsupported_media_type');
      const latin1 = await fetch(`${server.url}/api/chat`, {
        method: 'POST',
        headers: { 'content-type': 'application/json; charset=latin1' },
        body: '{"text":"hi"}',
      });
      expect(latin1.status).toBe(415);
      expect((await latin1.json()).error.message).toBe('unsupported charset latin1; send UTF-8');
    });

    it('refuses text over 4,000 characters politely', async () => {
      const res = await chat({ text: 'why is checkout slow '.repeat(200) });
      expect(res.status).toBe(422);
      const json = await res.json();
      expect(json.error.code).toBe('text_too_long');
      expect(json.error.message).toMatch(
        /^Sorry, that message is 4,200 characters long and I can read at most 4,000\./,
      );
    });

    it('answers unknown routes with 404 JSON', async () => {
      for (const [method, route] of [
        ['GET', '/nope'],
        ['POST', '/api/chatty'],
        ['DELETE', '/api/chat'],
      ]) {
        const res = await fetch(`${server.url}${route}`, { method });
        expect(res.status).toBe(404);
        expect((await res.json()).error.code).toBe('not_found');
      }
    });

    it('keeps serving after all of that', async () => {
      const res = await chat({ text: 'hello' });
      expect(res.status).toBe(200);
      expect((await res.json()).nlu.intent).toBe('greeting');
    });
  });

  it('reports liveness, readiness with components, and Prometheus metrics', async () => {
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${server.url}/readyz`);
    expect(ready.status).toBe(200);
    const readiness = await ready.json();
    expect(readiness.status).toBe('ready');
    expect(readiness.components).toContainEqual(
      expect.objectContaining({ name: 'session store', state: 'ok' }),
    );
    expect(readiness.components).toContainEqual(
      expect.objectContaining({
        name: 'event bus',
        state: 'ok',
        detail: expect.stringMatching(/^memory, topic opsbot\.events, /),
      }),
    );
    expect(readiness.components).toContainEqual(
      expect.objectContaining({
        name: 'orchestrator',
        state: 'ok',
        detail: expect.stringMatching(
          /^18 runbooks \(\d+ with steps\), 3 sagas, 0 running here; store file; /,
        ),
      }),
    );
    expect(readiness.components).toContainEqual(
      expect.objectContaining({
        name: 'predictive scaler',
        state: 'ok',
        detail: 'no services under a scaling policy (scaler.services)',
      }),
    );
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(
      /opsbot_turns_total\{channel="api",intent="system_status",outcome="answered"\} [1-9]/,
    );
    expect(metrics).toMatch(
      /opsbot_turn_duration_seconds_bucket\{le="0.005",channel="api",intent="greeting"\}/,
    );
    expect(metrics).toMatch(
      /opsbot_http_request_duration_seconds_count\{route="\/api\/chat",method="POST",status="200"\}/,
    );
  });

  it('serves the chat page and the embeddable widget', async () => {
    const page = await fetch(`${server.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toMatch(/script-src 'self'/);
    expect(await page.text()).toMatch(/<script[^>]+src="\/widget\.js"/);
    const widget = await fetch(`${server.url}/widget.js`);
    expect(widget.status).toBe(200);
    expect(widget.headers.get('content-type')).toMatch(/javascript/);
  });
});
