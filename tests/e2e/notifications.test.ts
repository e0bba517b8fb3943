import { textReply } from '../../bot/core/message';
import { signToken } from '../../bot/server/signed-token';
import { testConfig, testServer } from '../support/runtime';
import { connectWs } from '../support/ws-client';

const SECRET = 'a-test-secret-that-is-long-enough-0123456789';
const token = (sub: string) => signToken({ sub, name: sub, ttlSeconds: 600 }, SECRET);

describe('notifications', () => {
  let server: Awaited<ReturnType<typeof testServer>>;
  let wsUrl: string;

  beforeAll(async () => {
    server = await testServer(
      testConfig((raw) => {
        raw.auth = { tokenSecret: SECRET };
        raw.policy.users['web:olivia'] = ['operator'];
        raw.notifications = {
          targets: {
            'war-room': { channel: 'web', room: 'war-room' },
            oncall: { channel: 'slack', conversation: 'C0ONCALL' },
          },
        };
      }),
    );
    wsUrl = server.url.replace('http://', 'ws://') + '/ws';
  });
  afterAll(() => server.close());

  const notify = (body: unknown, authorization?: string) =>
    fetch(`${server.url}/api/notify`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(authorization ? { authorization: `Bearer ${authorization}` } : {}),
      },
      body: JSON.stringify(body),
    });

  it('reaches every widget in a room, and only those, as widget JSON', async () => {
    const inRoom = await connectWs(`${wsUrl}?conversation=n1&room=war-room&token=${token('vera')}`);
    const elsewhere = await connectWs(`${wsUrl}?conversation=n2&room=other&token=${token('vera')}`);
    expect(await inRoom.next()).toMatchObject({ type: 'welcome', room: 'war-room' });
    expect(await elsewhere.next()).toMatchObject({ type: 'welcome', room: 'other' });

    const receipt = await server.runtime.notifier.notify('war-room', textReply('payments 5xx above 2%'));
    expect(receipt).toEqual({ channel: 'web', conversation: 'war-room', delivered: 1 });
    expect(await inRoom.next()).toEqual({
      type: 'notification',
      room: 'war-room',
      reply: { text: 'payments 5xx above 2%', blocks: [{ type: 'section', text: 'payments 5xx above 2%' }] },
    });
    // The other room's socket gets nothing: a chat turn's reply is its next frame.
    elsewhere.ws.send(JSON.stringify({ type: 'message', text: 'hello' }));
    expect((await elsewhere.next()).type).toBe('reply');
    inRoom.close();
    elsewhere.close();
  });

  it('keeps guests out of rooms but lets them chat', async () => {
    const guest = await connectWs(`${wsUrl}?conversation=n3&room=war-room`);
    const welcome = await guest.next();
    expect(welcome.type).toBe('welcome');
    expect(welcome.room).toBeUndefined();
    expect(await guest.next()).toMatchObject({
      type: 'error',
      error: { code: 'forbidden', message: expect.stringMatching(/notifications\.read/) },
    });
    const receipt = await server.runtime.notifier.notify('war-room', textReply('x'));
    expect(receipt.delivered).toBe(0);
    guest.close();
  });

  it('lets an operator post through POST /api/notify', async () => {
    const listener = await connectWs(`${wsUrl}?conversation=n4&room=war-room&token=${token('vera')}`);
    await listener.next();
    const res = await notify({ target: 'war-room', text: 'deploy freeze from 18:00' }, token('olivia'));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ receipt: { channel: 'web', conversation: 'war-room', delivered: 1 } });
    expect((await listener.next()).reply.text).toBe('deploy freeze from 18:00');
    const inline = await notify(
      { target: { channel: 'web', room: 'war-room' }, text: 'inline target' },
      token('olivia'),
    );
    expect(inline.status).toBe(200);
    expect((await listener.next()).reply.text).toBe('inline target');
    listener.close();
  });

  it.each([
    ['an anonymous caller', {}, undefined, 403, 'forbidden'],
    ['a viewer', { target: 'war-room', text: 'x' }, 'vera', 403, 'forbidden'],
    ['an unknown target', { target: 'nowhere', text: 'x' }, 'olivia', 404, 'notify_target_unknown'],
    [
      'a channel that is not running',
      { target: 'oncall', text: 'x' },
      'olivia',
      409,
      'channel_not_configured',
    ],
    ['an empty text', { target: 'war-room', text: '  ' }, 'olivia', 400, 'invalid_request'],
    [
      'a malformed target',
      { target: { channel: 'slack', conversation: 'general' }, text: 'x' },
      'olivia',
      400,
      'invalid_request',
    ],
  ])('refuses %s', async (_what, body, user, status, code) => {
    const res = await notify(body, user ? token(user) : undefined);
    expect(res.status).toBe(status);
    expect((await res.json()).error.code).toBe(code);
  });
});
