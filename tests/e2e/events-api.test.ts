import { Writable } from 'node:stream';
import { createLogger } from '../../bot/core/logger';
import { eventBusTestConfig } from '../support/event-bus-server';
import { testServer } from '../support/runtime';

/**
 * The event bus over REST and in chat, on the embedded memory transport, as an integration would use it:
 * publish, query, get one, routing rules (with a bad one refused), the dead letter queue and replay.
 */
const OPERATOR_KEY = 'bus-operator-key-0123456789ab';
const VIEWER_KEY = 'bus-viewer-key-0123456789abcd';

describe('event bus REST API', () => {
  let server: Awaited<ReturnType<typeof testServer>>;
  const logLines: Record<string, any>[] = [];

  beforeAll(async () => {
    const config = eventBusTestConfig({ operator: OPERATOR_KEY, viewer: VIEWER_KEY });
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const line of chunk.toString().split('\n').filter(Boolean)) logLines.push(JSON.parse(line));
        done();
      },
    });
    server = await testServer(config, { logger: createLogger('info', sink), start: true });
  }, 30_000);
  afterAll(async () => {
    await server?.close();
  });

  function call(method: string, path: string, body?: unknown, key: string | undefined = OPERATOR_KEY) {
    return fetch(`${server.url}${path}`, {
      method,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(key ? { authorization: `Bearer ${key}` } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  }

  const order = (id: number, total: unknown) => ({
    type: 'order.created',
    source: '/services/orders',
    subject: `order/${id}`,
    correlationid: `order-${id}`,
    data: { orderId: id, total },
  });

  it('publishes one event or a batch (202), and finds them by type, subject mention and id', async () => {
    const one = await call('POST', '/api/v1/events', order(1234, 250));
    expect(one.status).toBe(202);
    const [result] = (await one.json()).results;
    expect(result).toMatchObject({ status: 'accepted', type: 'order.created' });
    const batch = await call('POST', '/api/v1/events', { events: [order(1, 5), order(2, 6)] });
    expect((await batch.json()).results).toHaveLength(2);

    const found = await call('GET', '/api/v1/events?mentions=1234', undefined, VIEWER_KEY);
    expect(found.status).toBe(200);
    expect((await found.json()).events.map((e: any) => e.id)).toEqual([result.id]);
    const latest = await (
      await call('GET', '/api/v1/events?type=order.*&limit=2', undefined, VIEWER_KEY)
    ).json();
    expect(latest.events.map((e: any) => e.data.orderId)).toEqual([2, 1]);
    const byId = await call('GET', `/api/v1/events/${result.id}`, undefined, VIEWER_KEY);
    expect(await byId.json()).toMatchObject({ id: result.id, specversion: '1.0', data: { total: 250 } });
    expect((await call('GET', '/api/v1/events/nope', undefined, VIEWER_KEY)).status).toBe(404);
  });

  it('answers bad input with 4xx JSON and publishes nothing', async () => {
    const bad = await call('POST', '/api/v1/events', { type: 'Bad Type', source: '/x', data: {} });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({
      error: { code: 'invalid_request', message: expect.stringMatching(/type: must be dotted/) },
    });
    expect((await call('POST', '/api/v1/events', [])).status).toBe(400);
    expect((await call('GET', '/api/v1/events?since=yesterday-ish')).status).toBe(400);
    expect((await call('GET', '/api/v1/events?limit=0')).status).toBe(400);
    const notJson = await fetch(`${server.url}/api/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${OPERATOR_KEY}`, 'content-type': 'text/plain' },
      body: 'hello',
    });
    expect(notJson.status).toBe(415);
    const badType = await call('GET', '/api/v1/events?type=Bad(', undefined, VIEWER_KEY);
    expect(badType.status).toBe(400);
    expect(await badType.json()).toMatchObject({
      error: { message: expect.stringMatching(/^type: "Bad\(" is neither/) },
    });
  });

  it('refuses callers without the permission, and anonymous callers', async () => {
    expect((await call('POST', '/api/v1/events', order(3, 1), VIEWER_KEY)).status).toBe(403);
    expect((await call('POST', '/api/v1/dlq/replay', { all: true }, VIEWER_KEY)).status).toBe(403);
    expect((await call('GET', '/api/v1/events', undefined, '')).status).toBe(403);
    expect((await call('GET', '/api/v1/events', undefined, 'wrong-key')).status).toBe(401);
  });

  it('lists, adds and removes routing rules; a bad rule is refused with the reason and changes nothing', async () => {
    const listed = await (await call('GET', '/api/v1/routing/rules', undefined, VIEWER_KEY)).json();
    expect(listed.rules).toEqual([
      expect.objectContaining({
        id: 'big-orders',
        origin: 'config',
        summary: expect.stringMatching(/order\.created .*total > 100.*topic finance\.orders/),
      }),
    ]);
    const bad = await call('POST', '/api/v1/routing/rules', {
      id: 'broken',
      match: { data: [{ field: 'total', gt: 'lots' }] },
      targets: [{ topic: 'x' }],
    });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({
      error: {
        code: 'rule_invalid',
        message: expect.stringMatching(/rule broken: match\.data\[0\]: "gt" needs a number/),
      },
    });
    const added = await call('POST', '/api/v1/routing/rules', {
      id: 'refunds-hook',
      match: { type: 'payment.refunded' },
      targets: [
        { webhook: { url: 'https://finance.example.com/hook', headers: { 'x-api-key': 'hunter2' } } },
      ],
    });
    expect(added.status).toBe(201);
    const body = await added.json();
    expect(JSON.stringify(body)).not.toContain('hunter2');
    expect(
      (await call('POST', '/api/v1/routing/rules', { id: 'refunds-hook', targets: [{ topic: 'y' }] })).status,
    ).toBe(409);
    expect((await call('DELETE', '/api/v1/routing/rules/big-orders')).status).toBe(409);
    expect((await call('DELETE', '/api/v1/routing/rules/refunds-hook')).status).toBe(204);
    expect((await call('DELETE', '/api/v1/routing/rules/refunds-hook')).status).toBe(404);
    const audit = logLines.filter((l) => l.event === 'audit' && String(l.action).startsWith('routing.'));
    expect(audit.map((l) => [l.action, l.actor])).toEqual([
      ['routing.rule_added', 'api:ops-ci'],
      ['routing.rule_removed', 'api:ops-ci'],
    ]);
  });

  it('shows dead letters in REST and chat, and replays them', async () => {
    // A routed webhook nobody answers: the router dead-letters the event after its attempts.
    await call('POST', '/api/v1/routing/rules', {
      id: 'dead-end',
      match: { type: 'audit.exported' },
      targets: [{ webhook: { url: 'http://127.0.0.1:9/nowhere', timeoutMs: 200 } }],
    });
    await call('POST', '/api/v1/events', { type: 'audit.exported', source: '/tests', data: { batch: 7 } });
    let letters: any[] = [];
    for (let i = 0; i < 100 && letters.length === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      letters = (await (await call('GET', '/api/v1/dlq?reason=route_failed', undefined, VIEWER_KEY)).json())
        .deadLetters;
    }
    expect(letters).toEqual([
      expect.objectContaining({
        reason: 'route_failed',
        ruleId: 'dead-end',
        attempts: 2,
        target: 'webhook http://127.0.0.1:9/nowhere',
      }),
    ]);
    const one = await (await call('GET', `/api/v1/dlq/${letters[0].id}`, undefined, VIEWER_KEY)).json();
    expect(one.event.data).toEqual({ batch: 7 });

    const chat = await call('POST', '/api/chat', {
      text: "what's in the dead letter queue?",
      conversation: 'dlq-1',
    });
    const reply = (await chat.json()).reply;
    expect(reply.text).toMatch(
      /^The dead letter queue holds 1 event:\n[0-9a-f]{8} audit\.exported \(route failed, webhook http:\/\/127\.0\.0\.1:9\/nowhere, 2 attempts\)/,
    );

    const chatAs = async (text: string, conversation: string, key = OPERATOR_KEY) =>
      (await (await call('POST', '/api/chat', { text, conversation }, key)).json()).reply.text as string;
    expect(await chatAs('replay the dead letters', 'replay-viewer', VIEWER_KEY)).toMatch(
      /this needs the permission events\.replay/,
    );
    expect(await chatAs('replay the dead letters', 'replay-1')).toMatch(
      /^Please confirm: replay the dead letters\./,
    );
    expect(await chatAs('yes', 'replay-1')).toMatch(
      /^Replayed 0 dead letters\. 1 could not be replayed and stay in the queue:\n[0-9a-f]{8}: /,
    );
    const replayAudit = logLines.filter((l) => l.event === 'audit' && l.action === 'events.replay');
    expect(replayAudit.map((l) => [l.phase, l.actor, l.details.type ?? l.details.id])).toEqual([
      ['started', 'api:ops-ci', 'all'],
      ['failed', 'api:ops-ci', 'all'],
    ]);

    const short = String(letters[0].id).slice(0, 8);
    expect(await chatAs(`show dead letter ${short}`, 'inspect-1', VIEWER_KEY)).toMatch(
      new RegExp(
        `^Dead letter ${letters[0].id}: audit\\.exported from /tests, route failed\\.\\nWhere: webhook http://127\\.0\\.0\\.1:9/nowhere\\nAttempts: 2\\n`,
      ),
    );
    expect(await chatAs('show dead letter 0badf00d', 'inspect-2', VIEWER_KEY)).toBe(
      'There is no dead letter 0badf00d.',
    );
    expect(await chatAs(`replay dead letter ${short}`, 'replay-one')).toBe(
      `Please confirm: replay dead letter ${short}. Reply yes or no.`,
    );
    expect(await chatAs('yes', 'replay-one')).toMatch(/^Replayed 0 dead letters\. 1 could not be replayed/);

    expect((await call('POST', '/api/v1/dlq/replay', {})).status).toBe(400);
    const replay = await (await call('POST', '/api/v1/dlq/replay', { id: letters[0].id })).json();
    // Still nobody there: the replay fails, says why, and the dead letter stays.
    expect(replay).toEqual({ replayed: [], failed: [{ id: letters[0].id, error: expect.any(String) }] });
    expect((await (await call('GET', '/api/v1/dlq', undefined, VIEWER_KEY)).json()).deadLetters).toHaveLength(
      1,
    );
    await call('DELETE', '/api/v1/routing/rules/dead-end');
    const gone = await (await call('POST', '/api/v1/dlq/replay', { all: true })).json();
    expect(gone.failed[0].error).toMatch(/rule dead-end no longer sends this event/);
  });

  it('finds events in chat: "find events for order 1234" and "show the last 2 order.created events"', async () => {
    const say = async (text: string) =>
      (await (await call('POST', '/api/chat', { text, conversation: `events-${text.length}` })).json()).reply
        .text as string;
    expect(await say('find events for order 1234')).toMatch(
      /^The latest events for order 1234, newest first:\n.* order\.created from \/services\/orders \(order\/1234, correlation order-1234\): \{"orderId":1234,"total":250\}$/,
    );
    const last = await say('show the last 2 order.created events');
    expect(last.split('\n')).toHaveLength(3);
    expect(last).toMatch(/^The latest 2 order\.created events, newest first:/);
  });
});
