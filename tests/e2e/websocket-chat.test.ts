import WebSocket from 'ws';
import { signToken } from '../../bot/server/signed-token';
import { closedPort, testConfig, testServer } from '../support/runtime';
import { connectWs as connect } from '../support/ws-client';

const SECRET = 'a-test-secret-that-is-long-enough-0123456789';

describe('WebSocket chat at /ws', () => {
  let server: Awaited<ReturnType<typeof testServer>>;
  let wsUrl: string;

  beforeAll(async () => {
    const nothingListens = await closedPort();
    server = await testServer(
      testConfig((raw) => {
        raw.services.orders.environments.production.healthUrl = `http://127.0.0.1:${nothingListens}/health`;
        raw.auth = { tokenSecret: SECRET };
        raw.policy.users['web:olivia'] = ['operator'];
      }),
    );
    wsUrl = server.url.replace('http://', 'ws://') + '/ws';
  });
  afterAll(() => server.close());

  it('greets an anonymous visitor as a guest and answers in widget JSON', async () => {
    const client = await connect(`${wsUrl}?conversation=ws-anon-1`);
    expect(await client.next()).toEqual({
      type: 'welcome',
      conversationId: 'ws-anon-1',
      user: { name: 'guest', roles: ['guest'] },
    });
    client.ws.send(JSON.stringify({ type: 'message', id: 'm1', text: 'help' }));
    const reply = await client.next();
    expect(reply).toMatchObject({ type: 'reply', inReplyTo: 'm1' });
    expect(reply.reply.blocks[1]).toMatchObject({ type: 'list', ordered: false });
    expect(reply.reply.text).toMatch(/Check the health of services/);
    expect(reply.reply.text).not.toMatch(/Restart a service/);
    client.close();
  });

  it('runs the confirmation flow with a button click for an authenticated operator', async () => {
    const token = signToken({ sub: 'olivia', name: 'Olivia', ttlSeconds: 600 }, SECRET);
    const client = await connect(`${wsUrl}?conversation=ws-op-1&token=${token}`);
    expect((await client.next()).user).toEqual({ name: 'Olivia', roles: ['operator'] });
    client.ws.send(JSON.stringify({ type: 'message', id: 'm1', text: 'is orders healthy?' }));
    expect((await client.next()).reply.text).toMatch(/^orders \(production\) is down: connection refused/);
    client.ws.send(JSON.stringify({ type: 'message', id: 'm2', text: 'restart it' }));
    const confirm = await client.next();
    expect(confirm.reply.text).toMatch(/^Please confirm: restart orders in production\./);
    const buttons = confirm.reply.blocks.find((b: any) => b.type === 'buttons').buttons;
    client.ws.send(
      JSON.stringify({ type: 'action', id: 'm3', actionId: buttons[1].actionId, value: buttons[1].value }),
    );
    const cancelled = await client.next();
    expect(cancelled).toMatchObject({ inReplyTo: 'm3' });
    expect(cancelled.reply.text).toBe('Cancelled: restart orders in production. Nothing was changed.');
    client.close();
  });

  it('answers bad frames with an error frame and keeps the connection', async () => {
    const client = await connect(`${wsUrl}?conversation=ws-bad-1`);
    await client.next();
    client.ws.send('not json');
    expect(await client.next()).toMatchObject({ type: 'error', error: { code: 'invalid_request' } });
    client.ws.send(JSON.stringify({ type: 'message', id: 'long', text: 'x'.repeat(4001) }));
    const refused = await client.next();
    expect(refused).toMatchObject({ type: 'reply', inReplyTo: 'long' });
    expect(refused.reply.text).toMatch(/^Sorry, that message is 4,001 characters long/);
    client.ws.send(JSON.stringify({ type: 'message', id: 'm9', text: 'hi' }));
    expect((await client.next()).reply.text).toMatch(/^Hi! I'm opsbot/);
    client.close();
  });

  it('refuses a bad token and unknown paths at the upgrade', async () => {
    for (const url of [
      `${wsUrl}?token=bad.token.here`,
      server.url.replace('http://', 'ws://') + '/elsewhere',
    ]) {
      const ws = new WebSocket(url);
      const status = await new Promise<number>((resolve) =>
        ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0)),
      );
      expect([401, 404]).toContain(status);
    }
  });
});
