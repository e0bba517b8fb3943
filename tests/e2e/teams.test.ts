import type { ConversationAddress } from '../../adapters/teams/conversation-references';
import { createLogger } from '../../bot/core/logger';
import { ServerMetrics } from '../../bot/server/metrics';
import { startServer } from '../../bot/server/server';
import { fakeBotConnector, GONE_MESSAGE, type ConnectorCall } from '../support/fake-bot-connector';
import { testConfig, testRuntime, testServer } from '../support/runtime';

const BOT = { id: '28:opsbot-bot-id', name: 'opsbot' };
const ALICE = { id: '29:alice-teams-id', aadObjectId: 'aad-alice', name: 'Alice Example' };
const BOB = { id: '29:bob-teams-id', aadObjectId: 'aad-bob', name: 'Bob Example' };
const PERSONAL = { id: 'a:personal-alice', conversationType: 'personal', tenantId: 'tenant-1' };
const GROUP = {
  id: '19:group-chat@thread.v2',
  conversationType: 'groupChat',
  isGroup: true,
  tenantId: 'tenant-1',
};
const CHANNEL_ID = '19:ops-channel@thread.tacv2';
const CHANNEL_THREAD = {
  id: `${CHANNEL_ID};messageid=1700000000001`,
  conversationType: 'channel',
  isGroup: true,
  tenantId: 'tenant-1',
};
const MENTION = '<at>opsbot</at>';
const mentionEntity = { type: 'mention', mentioned: BOT, text: MENTION };

/** Every Action.Execute / Action.Submit anywhere in a card, in order. */
function cardActions(node: unknown): any[] {
  if (Array.isArray(node)) return node.flatMap(cardActions);
  if (typeof node !== 'object' || node === null) return [];
  const own = /^Action\.(Execute|Submit)$/.test(String((node as any).type)) ? [node] : [];
  return [...own, ...Object.values(node).flatMap(cardActions)];
}

function cardOf(activity: any): any {
  const attachment = activity.attachments?.find(
    (a: any) => a.contentType === 'application/vnd.microsoft.card.adaptive',
  );
  return attachment?.content;
}

/** The Confirm button of a reply's card, as the given kind of action. */
function confirmAction(reply: ConnectorCall, type: 'Action.Submit' | 'Action.Execute'): any {
  return cardActions(cardOf(reply.body)).find(
    (a) => a.type === type && a.data?.opsbot?.actionId === 'dialogue.confirm',
  );
}

describe('Microsoft Teams channel', () => {
  let connector: Awaited<ReturnType<typeof fakeBotConnector>>;
  let server: Awaited<ReturnType<typeof testServer>>;
  let config: ReturnType<typeof testConfig>;
  let sequence = 0;

  beforeAll(async () => {
    connector = await fakeBotConnector();
    config = testConfig((raw) => {
      raw.teams = { enabled: true };
      // Without an app id nothing is authenticated, so the anonymous role must be allowed to restart.
      raw.policy.anonymousRole = 'operator';
    });
    server = await testServer(config);
  });
  afterAll(async () => {
    await server.close();
    await connector.close();
  });
  beforeEach(() => {
    connector.calls.length = 0;
  });

  const activity = (fields: Record<string, unknown>) => ({
    type: 'message',
    id: `activity-${++sequence}`,
    channelId: 'msteams',
    serviceUrl: connector.url,
    timestamp: new Date().toISOString(),
    from: ALICE,
    recipient: BOT,
    conversation: PERSONAL,
    ...fields,
  });

  /** The invoke Teams sends when someone presses an Action.Execute button. */
  const invoke = (execute: any, fields: Record<string, unknown>) =>
    activity({
      type: 'invoke',
      name: 'adaptiveCard/action',
      value: {
        action: { type: 'Action.Execute', verb: execute.verb, data: execute.data },
        trigger: 'manual',
      },
      ...fields,
    });

  const post = (body: unknown, url = server.url, headers: Record<string, string> = {}) =>
    fetch(`${url}/api/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

  /** Sends a message and returns the one reply the bot posted for it. */
  async function say(fields: Record<string, unknown>): Promise<ConnectorCall> {
    const sent = activity(fields);
    const before = connector.calls.length;
    const res = await post(sent);
    expect(res.status).toBe(200);
    const replies = connector.calls.slice(before).filter((c) => c.method === 'POST');
    expect(replies).toHaveLength(1);
    const [reply] = replies as [ConnectorCall];
    expect(reply).toMatchObject({ conversation: (sent.conversation as any).id, activityId: sent.id });
    return reply;
  }

  it('answers a personal chat with a reply to the message carrying text and an Adaptive Card', async () => {
    const reply = await say({ text: 'what can you do?' });
    expect(reply.body).toMatchObject({
      type: 'message',
      replyToId: expect.stringMatching(/^activity-/),
      from: BOT,
      recipient: expect.objectContaining({ id: ALICE.id }),
    });
    expect(reply.body.text).toMatch(/^Here's what you can do \(role: operator\)/);
    expect(cardOf(reply.body)).toMatchObject({ type: 'AdaptiveCard' });
  });

  it('strips its @mention in a group chat, and a bare mention means help', async () => {
    const help = await say({ text: 'help' });
    const bare = await say({ conversation: GROUP, text: `${MENTION} `, entities: [mentionEntity] });
    expect(bare.body.text).toBe(help.body.text);

    const restart = await say({
      conversation: GROUP,
      text: `${MENTION} restart payments`,
      entities: [mentionEntity],
    });
    expect(restart.body.text).toMatch(/^Please confirm: restart payments in production\./);
  });

  it('keeps the turns of a channel thread in one conversation', async () => {
    const first = await say({
      conversation: CHANNEL_THREAD,
      text: `${MENTION} restart`,
      entities: [mentionEntity],
    });
    expect(first.body.text).toBe('Which service should I restart?');
    const second = await say({
      conversation: CHANNEL_THREAD,
      text: `${MENTION} payments`,
      entities: [mentionEntity],
    });
    expect(second.body.text).toMatch(/^Please confirm: restart payments in production\./);
  });

  it('puts the action data on the card buttons, as Action.Execute with an Action.Submit fallback', async () => {
    const reply = await say({ conversation: { ...PERSONAL, id: 'a:buttons' }, text: 'restart payments' });
    const actions = cardActions(cardOf(reply.body));
    const confirm = actions.filter((a) => a.data?.opsbot?.actionId === 'dialogue.confirm');
    expect(confirm).toContainEqual(
      expect.objectContaining({
        type: 'Action.Execute',
        verb: 'opsbot.action',
        data: { opsbot: { actionId: 'dialogue.confirm', value: 'yes', label: 'Confirm' } },
      }),
    );
    expect(confirm).toContainEqual(
      expect.objectContaining({
        type: 'Action.Submit',
        data: expect.objectContaining({
          opsbot: { actionId: 'dialogue.confirm', value: 'yes', label: 'Confirm' },
        }),
      }),
    );
  });

  it('shows a runbook plan card whose Approve the requester may not press, and another person may, once', async () => {
    const conversation = { ...GROUP, id: '19:approvals@thread.v2' };
    const plan = await say({
      conversation,
      text: `${MENTION} run runbook service-down for payments`,
      entities: [mentionEntity],
    });
    const approve = cardActions(cardOf(plan.body)).find(
      (a) => a.type === 'Action.Submit' && a.data?.opsbot?.actionId === 'orchestrator.approve',
    );
    expect(approve.data.opsbot.value).toMatch(/^[0-9a-f]{8}$/);
    const orchestrator = server.runtime.orchestrator!.service;
    const [run] = await orchestrator.list({ definitionId: 'service-down' });
    expect(run).toMatchObject({
      status: 'awaiting_approval',
      thread: { channel: 'teams', conversation: conversation.id },
    });

    // Alice asked for it: her Approve is answered with a message, and the card keeps its buttons.
    let before = connector.calls.length;
    await post(activity({ conversation, value: approve.data, replyToId: 'plan-card-1' }));
    const refusal = connector.calls.slice(before).filter((c) => c.method === 'POST');
    expect(refusal.map((c) => c.body.text)).toEqual([expect.stringMatching(/someone else to approve/)]);
    expect(connector.calls.slice(before).some((c) => c.method === 'PUT')).toBe(false);

    // Bob approves: the card is replaced by who chose what, and the run starts.
    before = connector.calls.length;
    await post(activity({ conversation, from: BOB, value: approve.data, replyToId: 'plan-card-1' }));
    const update = connector.calls.slice(before).find((c) => c.method === 'PUT');
    expect(JSON.stringify(cardOf(update?.body))).toContain('Bob Example chose');
    const ended = await orchestrator.wait(run!.id, { timeoutMs: 60_000 });
    expect(ended.status).not.toBe('awaiting_approval');
    expect((await orchestrator.list({ definitionId: 'service-down' })).length).toBe(1);
  }, 90_000);

  it('runs an Action.Submit click through the dialogue and replaces the clicked card with the outcome', async () => {
    const conversation = { ...PERSONAL, id: 'a:submit-click' };
    const question = await say({ conversation, text: 'restart payments' });
    const submit = confirmAction(question, 'Action.Submit');

    const before = connector.calls.length;
    const res = await post(activity({ conversation, value: submit.data, replyToId: 'card-message-1' }));
    expect(res.status).toBe(200);
    const [update, ...more] = connector.calls.slice(before);
    expect(more).toEqual([]);
    expect(update).toMatchObject({
      method: 'PUT',
      conversation: conversation.id,
      activityId: 'card-message-1',
    });
    expect(update?.body.text).toMatch(
      /^I could not (?:restart|scale) payments in production: .*Nothing was changed\./,
    );
    const card = cardOf(update?.body);
    expect(JSON.stringify(card)).toContain('Alice Example chose **Confirm**');
    expect(JSON.stringify(card)).toMatch(/I could not restart payments in production/);
    expect(cardActions(card)).toEqual([]);
  });

  it('answers a click with a reply when the clicked card cannot be updated', async () => {
    const conversation = { ...PERSONAL, id: 'a:submit-lost-card' };
    const question = await say({ conversation, text: 'restart payments' });
    const submit = confirmAction(question, 'Action.Submit');

    const before = connector.calls.length;
    const sent = activity({ conversation, value: submit.data, replyToId: GONE_MESSAGE });
    expect((await post(sent)).status).toBe(200);
    const calls = connector.calls.slice(before);
    expect(calls.map((c) => c.method)).toEqual(['PUT', 'POST']);
    expect(calls[1]).toMatchObject({ conversation: conversation.id, activityId: sent.id });
    expect(calls[1]?.body.text).toMatch(
      /^I could not (?:restart|scale) payments in production: .*Nothing was changed\./,
    );
  });

  it('answers an Action.Execute invoke with the updated card', async () => {
    const conversation = { ...PERSONAL, id: 'a:execute-click' };
    const question = await say({ conversation, text: 'restart payments' });
    const execute = confirmAction(question, 'Action.Execute');

    const before = connector.calls.length;
    const res = await post(invoke(execute, { conversation, replyToId: 'card-message-2' }));
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body).toMatchObject({
      statusCode: 200,
      type: 'application/vnd.microsoft.card.adaptive',
      value: { type: 'AdaptiveCard' },
    });
    const card = JSON.stringify(body.value);
    expect(card).toMatch(/I could not restart payments in production/);
    expect(card).toContain('Alice Example');
    expect(connector.calls.slice(before)).toEqual([]);
  });

  it('leaves the card alone when someone other than the requester clicks Confirm, and tells them why', async () => {
    const conversation = { ...GROUP, id: '19:refused-click@thread.v2' };
    const BOB = { id: '29:bob-teams-id', aadObjectId: 'aad-bob', name: 'Bob Example' };
    const question = await say({
      conversation,
      text: `${MENTION} restart payments`,
      entities: [mentionEntity],
    });
    const submit = confirmAction(question, 'Action.Submit');
    const execute = confirmAction(question, 'Action.Execute');

    const before = connector.calls.length;
    const sent = activity({ conversation, from: BOB, value: submit.data, replyToId: 'card-message-3' });
    expect((await post(sent)).status).toBe(200);
    const calls = connector.calls.slice(before);
    expect(calls.map((c) => c.method)).toEqual(['POST']);
    expect(calls[0]?.body.text).toMatch(/Only the person who made the request/);

    const refused = await post(invoke(execute, { conversation, from: BOB, replyToId: 'card-message-3' }));
    expect(await refused.json()).toMatchObject({
      statusCode: 200,
      type: 'application/vnd.microsoft.activity.message',
      value: expect.stringMatching(/Only the person who made the request/),
    });
  });

  it('handles a redelivered activity once', async () => {
    const sent = activity({ conversation: { ...PERSONAL, id: 'a:redelivery' }, text: 'hello' });
    const before = connector.calls.length;
    expect((await post(sent)).status).toBe(200);
    expect((await post(sent)).status).toBe(200);
    expect(connector.calls.slice(before)).toHaveLength(1);
  });

  it('answers a message that is too long with the reason rather than an error', async () => {
    const reply = await say({ text: 'x'.repeat(4001) });
    expect(reply.body.text).toMatch(/4,001 characters long and I can read at most 4,000/);
  });

  it('posts a proactive message into a conversation it has seen, and refuses one it has not', async () => {
    const conversation = { ...PERSONAL, id: 'a:proactive' };
    await say({ conversation, text: 'hello' });
    const before = connector.calls.length;
    const receipt = await server.runtime.notifier.notify(
      { channel: 'teams', conversation: conversation.id },
      { text: 'payments is degraded', blocks: [{ type: 'section', text: 'payments is degraded' }] },
    );
    const [posted, ...more] = connector.calls.slice(before);
    expect(more).toEqual([]);
    expect(posted).toMatchObject({ method: 'POST', conversation: conversation.id, activityId: undefined });
    expect(posted?.body).toMatchObject({ type: 'message', text: 'payments is degraded' });
    expect(cardOf(posted?.body)).toMatchObject({ type: 'AdaptiveCard' });
    expect(receipt).toEqual({
      channel: 'teams',
      conversation: conversation.id,
      messageId: expect.any(String),
    });

    await expect(
      server.runtime.notifier.notify(
        { channel: 'teams', conversation: 'a:never-seen' },
        { text: 'hi', blocks: [] },
      ),
    ).rejects.toMatchObject({ code: 'notify_target_unknown' });
  });

  it('can post a new message into the channel of a thread it has seen', async () => {
    await say({ conversation: CHANNEL_THREAD, text: `${MENTION} hello`, entities: [mentionEntity] });
    const before = connector.calls.length;
    await server.runtime.notifier.notify(
      { channel: 'teams', conversation: CHANNEL_ID },
      { text: 'deploy finished', blocks: [] },
    );
    expect(connector.calls.slice(before)).toEqual([
      expect.objectContaining({ method: 'POST', conversation: CHANNEL_ID, activityId: undefined }),
    ]);
  });

  it('stores one address per conversation, whoever speaks, without the speaker', async () => {
    const conversation = { ...GROUP, id: '19:many-speakers@thread.v2' };
    const store = server.runtime.records<ConversationAddress>('teams-conversations');
    const put = jest.spyOn(store, 'put');
    try {
      const BOB = { id: '29:bob-teams-id', aadObjectId: 'aad-bob', name: 'Bob Example' };
      for (const from of [ALICE, BOB, ALICE]) {
        await say({ conversation, from, text: `${MENTION} hello`, entities: [mentionEntity] });
      }
      expect(put).toHaveBeenCalledTimes(1);
    } finally {
      put.mockRestore();
    }
    expect(await store.get(conversation.id)).toEqual({
      bot: BOT,
      conversation,
      channelId: 'msteams',
      serviceUrl: connector.url,
    });
  });

  it('can notify a team it was installed in before anyone spoke there', async () => {
    const general = { id: '19:general@thread.tacv2', conversationType: 'channel', isGroup: true };
    const res = await post(
      activity({
        type: 'conversationUpdate',
        conversation: general,
        membersAdded: [BOT],
        channelData: { eventType: 'teamMemberAdded', team: { id: general.id } },
      }),
    );
    expect(res.status).toBe(200);
    expect(connector.calls).toEqual([]);
    await server.runtime.notifier.notify(
      { channel: 'teams', conversation: general.id },
      { text: 'opsbot is here', blocks: [] },
    );
    expect(connector.calls).toEqual([
      expect.objectContaining({ method: 'POST', conversation: general.id, activityId: undefined }),
    ]);
  });

  it('remembers conversations across a restart', async () => {
    const conversation = { ...PERSONAL, id: 'a:survives-restart' };
    await say({ conversation, text: 'hello' });
    const restarted = await testServer(config);
    try {
      const before = connector.calls.length;
      await restarted.runtime.notifier.notify(
        { channel: 'teams', conversation: conversation.id },
        { text: 'still here', blocks: [] },
      );
      expect(connector.calls.slice(before)).toEqual([
        expect.objectContaining({ method: 'POST', conversation: conversation.id }),
      ]);
    } finally {
      await restarted.close();
    }
  });

  it('reports itself in readiness as anonymous with the number of stored conversations', async () => {
    const body = await (await fetch(`${server.url}/readyz`)).json();
    expect(body.components).toContainEqual({
      name: 'teams',
      required: false,
      state: 'ok',
      detail: expect.stringMatching(/^anonymous \(local use only\), \d+ conversations? stored$/),
    });
  });

  it('reports a failing conversation store as its own state, without failing readiness or system status', async () => {
    const store = server.runtime.records<ConversationAddress>('teams-conversations');
    const size = jest.spyOn(store, 'size').mockRejectedValue(new Error('Connection is closed.'));
    try {
      const res = await fetch(`${server.url}/readyz`);
      expect(res.status).toBe(200);
      expect((await res.json()).components).toContainEqual({
        name: 'teams',
        required: false,
        state: 'critical',
        detail: 'Connection is closed.',
      });
      const status = await say({ conversation: { ...PERSONAL, id: 'a:status' }, text: 'system status' });
      expect(status.body.text).toMatch(/teams: Connection is closed\./);
    } finally {
      size.mockRestore();
    }
  });

  it('refuses malformed JSON and bodies that are not activities with 400', async () => {
    const malformed = await post('{"type": "message",');
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toEqual({
      error: { code: 'invalid_json', message: expect.any(String) },
    });
    const notActivity = await post({ hello: 'world' });
    expect(notActivity.status).toBe(400);
    expect((await notActivity.json()).error.code).toBe('invalid_request');
    expect(connector.calls).toEqual([]);
  });

  it('refuses to serve anonymous Teams on an address other than loopback, whatever --host says', async () => {
    const runtime = testRuntime(testConfig((raw) => (raw.teams = { enabled: true })));
    await expect(
      startServer(
        runtime,
        { metrics: new ServerMetrics(), logger: createLogger('silent') },
        { host: '0.0.0.0', port: 0 },
      ),
    ).rejects.toThrow(/only allowed on a loopback address, not 0\.0\.0\.0/);
    await runtime.close();
  });

  describe('with an app id', () => {
    let secured: Awaited<ReturnType<typeof testServer>>;

    beforeAll(async () => {
      secured = await testServer(
        testConfig((raw) => {
          raw.teams = { appId: '00000000-0000-0000-0000-000000000001', appPassword: 'not-a-real-secret' };
        }),
      );
    });
    afterAll(() => secured.close());

    it('refuses an unauthenticated activity with 401 and sends nothing', async () => {
      const res = await post(activity({ text: 'hello' }), secured.url);
      expect(res.status).toBe(401);
      expect(await res.json()).toEqual({ error: { code: 'unauthorized', message: expect.any(String) } });
      expect(connector.calls).toEqual([]);
    });

    it('refuses an activity whose token does not validate with 401', async () => {
      // botbuilder prints every failed validation to stderr; the test only needs the answer.
      const stderr = jest.spyOn(console, 'error').mockImplementation(() => {});
      try {
        const res = await post(activity({ text: 'hello' }), secured.url, {
          authorization: 'Bearer not.a.token',
        });
        expect(res.status).toBe(401);
        expect(await res.json()).toEqual({ error: { code: 'unauthorized', message: expect.any(String) } });
        expect(connector.calls).toEqual([]);
      } finally {
        stderr.mockRestore();
      }
    });

    it('reports that it validates JWTs for its app', async () => {
      const body = await (await fetch(`${secured.url}/readyz`)).json();
      expect(body.components).toContainEqual(
        expect.objectContaining({
          name: 'teams',
          detail: expect.stringMatching(/^JWT validated for app 00000000-0000-0000-0000-000000000001, /),
        }),
      );
    });
  });
});
