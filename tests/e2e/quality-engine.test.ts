import { testConfig, testServer } from '../support/runtime';

/**
 * The quality engine as the shipped configuration runs it: order events are routed to it (`orders-to-quality`)
 * and checked against demo/quality/order-rules.yaml; chat and GET /api/v1/quality report what it saw, and the
 * PII firewall's counts, without a value from any event.
 */
const OPERATOR_KEY = 'quality-operator-key-0123456789';
const VIEWER_KEY = 'quality-viewer-key-0123456789ab';

function order(n: number, overrides: Record<string, unknown> = {}) {
  return {
    type: 'order.created',
    source: '/services/orders',
    subject: `ord-${30000 + n}`,
    data: {
      orderId: `ord-${30000 + n}`,
      customer: { id: `cus_${n}`, email: `buyer${n}@example.com` },
      amountCents: 2500,
      currency: 'EUR',
      items: [{ sku: 'SKU-MUG-02', quantity: 1 }],
      ...overrides,
    },
  };
}

describe('the quality engine on the event bus', () => {
  let server: Awaited<ReturnType<typeof testServer>>;

  beforeAll(async () => {
    server = await testServer(
      testConfig((raw) => {
        raw.auth = {
          apiKeys: [
            { id: 'op', key: OPERATOR_KEY, user: { id: 'ops-ci', name: 'Ops CI' } },
            { id: 'view', key: VIEWER_KEY, user: { id: 'dash', name: 'Dashboard' } },
          ],
        };
        raw.policy.users['api:ops-ci'] = ['operator'];
        raw.policy.users['api:dash'] = ['viewer'];
      }),
    );
    await server.runtime.eventBus?.start();
  });
  afterAll(async () => server?.close());

  const call = async (method: string, route: string, body?: unknown, key = OPERATOR_KEY) => {
    const res = await fetch(`${server.url}${route}`, {
      method,
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as any };
  };

  it('validates routed order events and reports counts, fields and event ids, never values', async () => {
    const events = [
      ...Array.from({ length: 8 }, (_, i) => order(i)),
      order(8, { amountCents: 0 }),
      order(9, { currency: 'XXX', customer: { id: 'cus_9', email: 'not-an-email' } }),
    ];
    const published = await call('POST', '/api/v1/events', events);
    expect(published.status).toBe(202);
    const deadline = Date.now() + 10_000;
    let report: any;
    for (;;) {
      report = await call('GET', '/api/v1/quality?type=order', undefined, VIEWER_KEY);
      if (report.body.eventTypes[0]?.events === 10 || Date.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(report.status).toBe(200);
    const [created] = report.body.eventTypes;
    expect(created).toMatchObject({
      type: 'order.created',
      events: 10,
      checked: 10,
      invalid: 2,
      validPercent: 80,
    });
    expect(created.byCheck).toEqual(
      expect.arrayContaining([
        { check: 'range', field: 'amountCents', count: 1 },
        { check: 'enum', field: 'currency', count: 1 },
        { check: 'format', field: 'customer.email', count: 1 },
      ]),
    );
    expect(created.recentViolations).toHaveLength(3);
    expect(JSON.stringify(report.body)).not.toContain('not-an-email');
    expect(JSON.stringify(report.body)).not.toContain('XXX');

    const chat = await call('POST', '/api/chat', {
      text: 'any data quality issues in orders?',
      conversation: 'dq-1',
    });
    expect(chat.body.nlu.intent).toBe('data_quality');
    expect(chat.body.reply.text).toMatch(
      /^order\.created: 10 events, 80% valid; 2 invalid \((?:\d \w+ [\w.]+(?:, )?){3}\)\./,
    );
    expect(chat.body.reply.blocks).toContainEqual(
      expect.objectContaining({ type: 'chart', title: 'invalid order.created events per 60 s' }),
    );
  });

  it('refuses the report to a caller without quality.read', async () => {
    const res = await fetch(`${server.url}/api/v1/quality`);
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ error: { code: 'forbidden' } });
  });

  it('counts what the firewall redacted, by path and type, in chat and in the report', async () => {
    await call('POST', '/api/chat', {
      text: 'is payments up? my key is AKIAZ7QUALITYE2E4QXW',
      conversation: 'dq-2',
    });
    const report = await call('GET', '/api/v1/quality', undefined, VIEWER_KEY);
    expect(report.body.pii).toEqual(expect.arrayContaining([{ path: 'chat', type: 'secret', count: 1 }]));
    const chat = await call('POST', '/api/chat', { text: 'data quality report', conversation: 'dq-3' });
    expect(chat.body.reply.text).toMatch(/PII firewall since start: chat 1 secret\./);
    const ready = await (await fetch(`${server.url}/readyz`)).json();
    expect(ready.components).toContainEqual(
      expect.objectContaining({
        name: 'quality engine',
        state: 'ok',
        detail: expect.stringMatching(
          /^PII firewall on chat, replies, logs, audit, events, knowledge, llm; 1 event types? watched against demo\/quality\/order-rules\.yaml$/,
        ),
      }),
    );
  });
});
