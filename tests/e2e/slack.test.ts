import { textReply } from '../../bot/core/message';
import { validateBlockKit } from '../support/block-kit-validator';
import {
  FAKE_BOT_USER,
  FAKE_TEAM,
  fakeSlack,
  formBody,
  slackHeaders,
  type SlackCall,
} from '../support/fake-slack';
import { testConfig, testServer } from '../support/runtime';

const SIGNING_SECRET = 'slack-signing-secret-for-tests-0123';
const OPERATOR = 'UOPS0001';
const VIEWER = 'UVIEW001';
const SECOND_OPERATOR = 'UOPS0002';

type FakeSlack = Awaited<ReturnType<typeof fakeSlack>>;

/** The first call of `method` the fake saw from call number `from` on, once there is one. */
async function waitForCall(slack: FakeSlack, method: string, from = 0, timeoutMs = 5000): Promise<SlackCall> {
  const calls = await slack.waitFor((c) => c.slice(from).some((x) => x.method === method), timeoutMs);
  return calls.slice(from).find((x) => x.method === method) as SlackCall;
}

describe('Slack', () => {
  let slack: FakeSlack;
  let server: Awaited<ReturnType<typeof testServer>>;
  let eventSeq = 0;

  beforeAll(async () => {
    slack = await fakeSlack();
    server = await testServer(
      testConfig(
        (raw) => {
          raw.policy.users[`slack:${OPERATOR}`] = ['operator'];
          raw.policy.users[`slack:${SECOND_OPERATOR}`] = ['operator'];
          raw.notifications = { targets: { oncall: { channel: 'slack', conversation: 'C0ONCALL' } } };
        },
        {
          SLACK_SIGNING_SECRET: SIGNING_SECRET,
          SLACK_BOT_TOKEN: 'xoxb-test-token',
          SLACK_API_URL: slack.apiUrl,
        },
      ),
    );
  });
  afterAll(async () => {
    await server.close();
    await slack.close();
  });

  const send = (body: string, contentType: string, headers: Record<string, string> = {}) =>
    fetch(`${server.url}/slack/events`, {
      method: 'POST',
      headers: { ...slackHeaders(body, SIGNING_SECRET, contentType), ...headers },
      body,
    });

  const slashCommand = (text: string, user = OPERATOR, channel = 'C0CMD001', responseId = 'cmd') =>
    send(
      formBody({
        token: 'legacy',
        team_id: FAKE_TEAM,
        channel_id: channel,
        user_id: user,
        user_name: user.toLowerCase(),
        command: '/ops',
        text,
        api_app_id: 'A0000001',
        response_url: slack.responseUrl(responseId),
        trigger_id: '1.2.3',
      }),
      'application/x-www-form-urlencoded',
    );

  const event = (evt: Record<string, unknown>, headers: Record<string, string> = {}, eventId?: string) => {
    const body = JSON.stringify({
      token: 'legacy',
      team_id: FAKE_TEAM,
      api_app_id: 'A0000001',
      type: 'event_callback',
      event_id: eventId ?? `Ev${++eventSeq}`,
      event_time: Math.floor(Date.now() / 1000),
      event: { event_ts: evt.ts, ...evt },
    });
    return send(body, 'application/json', headers);
  };

  /** Someone @mentions opsbot in a channel message. */
  const mention = (user: string, text: string, ts: string, channel: string) =>
    event({ type: 'app_mention', user, text: `<@${FAKE_BOT_USER}> ${text}`, ts, channel });

  /** Someone posts a message: in a DM channel (D…), or in a channel, where `thread` puts it in a thread. */
  const message = (user: string, text: string, ts: string, channel: string, thread?: string) =>
    event({
      type: 'message',
      channel_type: channel.startsWith('D') ? 'im' : 'channel',
      user,
      text,
      ts,
      channel,
      ...(thread ? { thread_ts: thread } : {}),
    });

  const click = (
    message: { ts: string; text: string; blocks: any[] },
    button: { action_id: string; value: string; block_id: string },
    user: string,
    channel: string,
    responseId = 'click',
  ) =>
    send(
      formBody({
        payload: JSON.stringify({
          type: 'block_actions',
          team: { id: FAKE_TEAM, domain: 'acme' },
          user: { id: user, username: user.toLowerCase(), name: user.toLowerCase(), team_id: FAKE_TEAM },
          api_app_id: 'A0000001',
          token: 'legacy',
          container: { type: 'message', message_ts: message.ts, channel_id: channel, is_ephemeral: false },
          trigger_id: '1.2.3',
          channel: { id: channel, name: 'ops' },
          message: { type: 'message', ts: message.ts, text: message.text, blocks: message.blocks },
          response_url: slack.responseUrl(responseId),
          actions: [
            {
              type: 'button',
              text: { type: 'plain_text', text: 'x' },
              action_ts: String(Date.now() / 1000),
              ...button,
            },
          ],
        }),
      }),
      'application/x-www-form-urlencoded',
    );

  const callsAfter = (start: number) => slack.calls.slice(start);
  const waitForPostIn = (channel: string, from: number) =>
    slack.waitFor((calls) =>
      calls.slice(from).some((c) => c.method === 'chat.postMessage' && c.body.channel === channel),
    );
  const buttonIn = (blocks: any[], actionId: string) => {
    const actions = blocks.find((b) => b.type === 'actions');
    const button = actions.elements.find((e: any) => e.action_id === actionId);
    return { action_id: button.action_id, value: button.value, block_id: actions.block_id };
  };

  it('answers url_verification with the challenge', async () => {
    const res = await send(
      JSON.stringify({ token: 'legacy', challenge: 'c-123', type: 'url_verification' }),
      'application/json',
    );
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ challenge: 'c-123' });
  });

  it.each([
    ['an unsigned request', () => ({ 'x-slack-signature': '', 'x-slack-request-timestamp': '' })],
    ['a request signed with another secret', () => slackHeaders('{}', 'wrong-secret', 'application/json')],
    [
      'a correctly signed request from ten minutes ago',
      () => slackHeaders('{}', SIGNING_SECRET, 'application/json', Math.floor(Date.now() / 1000) - 600),
    ],
  ])('refuses %s with 401 and a JSON error', async (_what, headers) => {
    const before = slack.calls.length;
    const res = await fetch(`${server.url}/slack/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers() },
      body: '{}',
    });
    expect(res.status).toBe(401);
    expect((await res.json()).error.code).toBe('unauthorized');
    expect(callsAfter(before)).toEqual([]);
  });

  it('acks /ops at once and answers through response_url with valid Block Kit', async () => {
    const start = slack.calls.length;
    const res = await slashCommand('help', OPERATOR, 'C0CMD001', 'help-1');
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('');
    const answer = await waitForCall(slack, 'response_url/help-1', start);
    expect(answer.body).toMatchObject({ response_type: 'in_channel', replace_original: false });
    expect(answer.body.text).toMatch(/role: operator/);
    expect(validateBlockKit(answer.body as any)).toEqual([]);
    expect(callsAfter(start).filter((c) => c.method.startsWith('chat.'))).toEqual([]);
  });

  it('keeps slash-command state per user and channel, and a Confirm click runs the confirmed action', async () => {
    await slashCommand('scale payments', OPERATOR, 'C0CMD002', 'scale-1');
    const asked = await waitForCall(slack, 'response_url/scale-1');
    expect(asked.body.text).toBe('To how many replicas?');

    await slashCommand('5', OPERATOR, 'C0CMD002', 'scale-2');
    const confirm = await waitForCall(slack, 'response_url/scale-2');
    expect(confirm.body.text).toMatch(/^Please confirm: scale payments in production to 5 replicas\./);
    const button = buttonIn(confirm.body.blocks, 'dialogue.confirm');
    expect(button.block_id).toBe(`opsbot/${FAKE_TEAM}/C0CMD002/u${OPERATOR}`);

    const message = { ts: '1700000999.000100', text: confirm.body.text, blocks: confirm.body.blocks };
    const res = await click(message, button, OPERATOR, 'C0CMD002', 'scale-click');
    expect(res.status).toBe(200);
    const update = await waitForCall(slack, 'chat.update');
    expect(update.body).toMatchObject({ channel: 'C0CMD002', ts: message.ts });
    expect(JSON.stringify(update.body.blocks)).toContain(`<@${OPERATOR}> chose *Confirm*`);
    expect(update.body.blocks.some((b: any) => b.type === 'actions')).toBe(false);
    const outcome = await waitForCall(slack, 'response_url/scale-click');
    expect(outcome.body.text).toMatch(
      /^I could not (?:restart|scale) payments in production: .*Nothing was changed\./,
    );
  });

  it('answers a mention in its thread and keeps the thread as one conversation, without a second mention', async () => {
    const start = slack.calls.length;
    await mention(OPERATOR, 'scale checkout', '1700001000.000100', 'C0CHAN01');
    const first = await waitForCall(slack, 'chat.postMessage', start);
    expect(first.body).toMatchObject({ channel: 'C0CHAN01', thread_ts: '1700001000.000100' });
    expect(first.body.text).toBe('To how many replicas?');

    const next = slack.calls.length;
    await message(OPERATOR, '3', '1700001001.000100', 'C0CHAN01', '1700001000.000100');
    const second = await waitForCall(slack, 'chat.postMessage', next);
    expect(second.body.thread_ts).toBe('1700001000.000100');
    expect(second.body.text).toMatch(/^Please confirm: scale checkout in production to 3 replicas\./);
    expect(validateBlockKit(second.body as any)).toEqual([]);
  });

  it('ignores channel chatter that is neither a mention nor in a thread it is part of, and keeps no record of it', async () => {
    const start = slack.calls.length;
    const claim = jest.spyOn(server.runtime.dedup, 'claim');
    await message(OPERATOR, 'restart payments', '1700002000.000100', 'C0CHAN01');
    await message(OPERATOR, 'help', '1700002001.000100', 'C0CHAN01', '1700001999.000100');
    await event({
      type: 'message',
      subtype: 'bot_message',
      bot_id: 'B999',
      text: 'help',
      ts: '1700002002.000100',
      channel: 'D0DIRECT',
    });
    // Answered after the messages above were handled: by then, anything they made opsbot post is posted.
    await message(OPERATOR, 'hello', '1700002003.000100', 'D0QUIET1');
    await waitForPostIn('D0QUIET1', start);
    expect(callsAfter(start).filter((c) => c.method.startsWith('chat.'))).toEqual([
      expect.objectContaining({
        method: 'chat.postMessage',
        body: expect.objectContaining({ channel: 'D0QUIET1' }),
      }),
    ]);
    // Only the answered message was claimed against retries.
    expect(claim).toHaveBeenCalledTimes(1);
    claim.mockRestore();
  });

  it('answers a direct message in the DM channel', async () => {
    const start = slack.calls.length;
    await message(VIEWER, 'hello', '1700003000.000100', 'D0DIRECT');
    const reply = await waitForCall(slack, 'chat.postMessage', start);
    expect(reply.body.channel).toBe('D0DIRECT');
    expect(reply.body.thread_ts).toBeUndefined();
  });

  it('handles a retried event once', async () => {
    const start = slack.calls.length;
    const evt = {
      type: 'app_mention',
      user: VIEWER,
      text: `<@${FAKE_BOT_USER}> help`,
      ts: '1700004000.000100',
      channel: 'C0CHAN02',
    };
    expect((await event(evt, {}, 'EvRetry1')).status).toBe(200);
    await waitForCall(slack, 'chat.postMessage', start);
    const retry = await event(
      evt,
      { 'x-slack-retry-num': '1', 'x-slack-retry-reason': 'http_timeout' },
      'EvRetry1',
    );
    expect(retry.status).toBe(200);
    // Answered after the retry was handled: by then, a second answer to the mention would be posted.
    await message(VIEWER, 'hello', '1700004001.000100', 'D0RETRY1');
    await waitForPostIn('D0RETRY1', start);
    expect(
      callsAfter(start)
        .filter((c) => c.method === 'chat.postMessage')
        .map((c) => c.body.channel),
    ).toEqual(['C0CHAN02', 'D0RETRY1']);
  });

  it('maps Slack users to roles: a viewer is refused a restart', async () => {
    await slashCommand('restart payments', VIEWER, 'C0CMD003', 'viewer-1');
    const reply = await waitForCall(slack, 'response_url/viewer-1');
    expect(reply.body.text).toMatch(
      /can't do that for you: this needs the permission service\.restart.*\(viewer\)/,
    );
  });

  it("keeps the buttons when someone else clicks the requester's Confirm, and tells only them", async () => {
    const start = slack.calls.length;
    await mention(OPERATOR, 'restart payments', '1700005000.000100', 'C0CHAN03');
    const prompt = await waitForCall(slack, 'chat.postMessage', start);
    const button = buttonIn(prompt.body.blocks, 'dialogue.confirm');
    const message = { ts: '1700005001.000100', text: prompt.body.text, blocks: prompt.body.blocks };

    const before = slack.calls.length;
    await click(message, button, VIEWER, 'C0CHAN03');
    const refusal = await waitForCall(slack, 'chat.postEphemeral', before);
    expect(refusal.body).toMatchObject({ channel: 'C0CHAN03', user: VIEWER });
    expect(refusal.body.text).toMatch(/Only the person who made the request/);
    expect(callsAfter(before).some((c) => c.method === 'chat.update')).toBe(false);
  });

  it('waits out a 429 with Retry-After and then delivers', async () => {
    slack.rateLimit('chat.postMessage', 1);
    const start = slack.calls.length;
    const sent = Date.now();
    await message(VIEWER, 'help', '1700006000.000100', 'D0LIMIT1');
    const delivered = await waitForCall(slack, 'chat.postMessage', start, 10_000);
    expect(callsAfter(start).map((c) => c.method)).toContain('chat.postMessage (429)');
    expect(delivered.at - sent).toBeGreaterThanOrEqual(1000);
  });

  it('shows a runbook plan with Approve / Deny: the requester may not approve it, another operator does, once', async () => {
    const start = slack.calls.length;
    await mention(OPERATOR, 'run runbook service-down for payments', '1700007000.000100', 'C0CHAN07');
    const planPost = await waitForCall(slack, 'chat.postMessage', start);
    expect(validateBlockKit(planPost.body as any)).toEqual([]);
    expect(planPost.body.text).toMatch(/service-down/);
    const approve = buttonIn(planPost.body.blocks, 'orchestrator.approve');
    expect(approve.value).toMatch(/^[0-9a-f]{8}$/);
    const message = { ts: '1700007001.000100', text: planPost.body.text, blocks: planPost.body.blocks };
    const orchestrator = server.runtime.orchestrator!.service;
    const [run] = await orchestrator.list({ definitionId: 'service-down' });
    expect(run).toMatchObject({
      status: 'awaiting_approval',
      actor: `slack:${OPERATOR}`,
      thread: { channel: 'slack', conversation: 'C0CHAN07', threadTs: '1700007000.000100' },
    });

    // The requester's own click is refused, to them alone, and the buttons stay.
    let before = slack.calls.length;
    await click(message, approve, OPERATOR, 'C0CHAN07');
    const refusal = await waitForCall(slack, 'chat.postEphemeral', before);
    expect(refusal.body).toMatchObject({ channel: 'C0CHAN07', user: OPERATOR });
    expect(refusal.body.text).toMatch(/someone else to approve/);
    expect(callsAfter(before).some((c) => c.method === 'chat.update')).toBe(false);

    // Another operator approves: the buttons are replaced by who chose, and the run starts.
    before = slack.calls.length;
    await click(message, approve, SECOND_OPERATOR, 'C0CHAN07');
    const update = await waitForCall(slack, 'chat.update', before);
    expect(JSON.stringify(update.body.blocks)).toContain(`<@${SECOND_OPERATOR}> chose`);
    const ended = await orchestrator.wait(run!.id, { timeoutMs: 60_000 });
    expect(['succeeded', 'failed', 'compensated']).toContain(ended.status);
    expect(ended.steps[0]?.status).not.toBe('pending');
    // Its progress lands in the thread it was asked in.
    await slack.waitFor((calls) =>
      calls
        .slice(before)
        .some(
          (c) =>
            c.method === 'chat.postMessage' &&
            c.body.thread_ts === '1700007000.000100' &&
            /step|run/i.test(c.body.text),
        ),
    );

    // A second click on the same approval runs nothing again.
    before = slack.calls.length;
    await click(message, approve, VIEWER, 'C0CHAN07');
    await click(message, approve, SECOND_OPERATOR, 'C0CHAN07');
    await slack.waitFor((calls) =>
      calls.slice(before).some((c) => c.method === 'chat.postMessage' && /already decided/.test(c.body.text)),
    );
    const runs = await orchestrator.list({ definitionId: 'service-down' });
    expect(runs).toHaveLength(1);
    expect((await orchestrator.get(run!.id))?.version).toBe(ended.version);
  }, 90_000);

  it('posts notifications to a configured channel', async () => {
    const start = slack.calls.length;
    const receipt = await server.runtime.notifier.notify(
      'oncall',
      textReply('CheckoutLatencyHigh is firing'),
    );
    const post = await waitForCall(slack, 'chat.postMessage', start);
    expect(post.body).toMatchObject({ channel: 'C0ONCALL', text: 'CheckoutLatencyHigh is firing' });
    expect(receipt).toMatchObject({
      channel: 'slack',
      conversation: 'C0ONCALL',
      messageId: expect.stringMatching(/^\d+\.\d+$/),
    });
  });
});

describe('Slack in Socket Mode', () => {
  let slack: FakeSlack;
  let server: Awaited<ReturnType<typeof testServer>>;

  beforeAll(async () => {
    slack = await fakeSlack();
    server = await testServer(
      testConfig(() => {}, {
        SLACK_SOCKET_MODE: 'true',
        SLACK_APP_TOKEN: 'xapp-test-token',
        SLACK_BOT_TOKEN: 'xoxb-test-token',
        SLACK_API_URL: slack.apiUrl,
      }),
    );
  });
  afterAll(async () => {
    await server.close();
    await slack.close();
  });

  it('connects out, serves no HTTP endpoint, and says so in /readyz', async () => {
    expect(slack.calls.map((c) => c.method)).toContain('apps.connections.open');
    const res = await fetch(`${server.url}/slack/events`, { method: 'POST', body: '{}' });
    expect(res.status).toBe(404);
    const ready = await (await fetch(`${server.url}/readyz`)).json();
    expect(ready.components).toContainEqual(
      expect.objectContaining({ name: 'slack', state: 'ok', detail: expect.stringMatching(/^Socket Mode/) }),
    );
  });

  it('acks a slash command envelope and answers through response_url', async () => {
    const ack = await slack.deliver('slash_commands', {
      team_id: FAKE_TEAM,
      channel_id: 'C0SOCK01',
      user_id: VIEWER,
      user_name: 'viewer',
      command: '/ops',
      text: 'hello',
      response_url: slack.responseUrl('socket-1'),
      trigger_id: '1.2.3',
    });
    expect(ack.envelope_id).toMatch(/^env-/);
    expect((await waitForCall(slack, 'response_url/socket-1')).body.text).toMatch(/opsbot/i);
  });

  it('answers a mention delivered over the socket in its thread', async () => {
    const start = slack.calls.length;
    await slack.deliver('events_api', {
      team_id: FAKE_TEAM,
      api_app_id: 'A0000001',
      type: 'event_callback',
      event_id: 'EvSocket1',
      event_time: Math.floor(Date.now() / 1000),
      event: {
        type: 'app_mention',
        user: VIEWER,
        text: `<@${FAKE_BOT_USER}> help`,
        ts: '1700009000.000100',
        channel: 'C0SOCK02',
        event_ts: '1700009000.000100',
      },
    });
    expect((await waitForCall(slack, 'chat.postMessage', start)).body).toMatchObject({
      channel: 'C0SOCK02',
      thread_ts: '1700009000.000100',
    });
  });
});
