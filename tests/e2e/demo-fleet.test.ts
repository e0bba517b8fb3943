import { Writable } from 'node:stream';
import { createLogger } from '../../bot/core/logger';
import { signToken } from '../../bot/server/signed-token';
import { SERVICE_NAMES } from '../../demo/fleet/service-names';
import { validateBlockKit } from '../support/block-kit-validator';
import { fakeSlack, FAKE_TEAM, formBody, slackHeaders } from '../support/fake-slack';
import { freePorts, testConfig, testServer } from '../support/runtime';
import { connectWs } from '../support/ws-client';

/**
 * The demo fleet as a user meets it: opsbot started with the demo on runs the eight catalog services as
 * real processes, and the web chat (the widget's WebSocket and the chat API) and Slack restart, scale and
 * report on them. Needs the build (npm test builds first): the fleet runs dist/demo/fleet/*.js.
 */
const OPERATOR_KEY = 'operator-key-0123456789abcdef';
const VIEWER_KEY = 'viewer-key-0123456789abcdef00';
const TOKEN_SECRET = 'demo-fleet-token-secret-0123456789abcdef';
const SLACK_SIGNING_SECRET = 'slack-signing-secret-for-tests-0123';
/** Where Slack would reach opsbot through a proxy that strips /ops; the test fetches the same path directly. */
const PUBLIC_URL = 'https://opsbot.example.test/ops';

describe('demo fleet through the web chat, the chat API and Slack', () => {
  let server: Awaited<ReturnType<typeof testServer>>;
  let slack: Awaited<ReturnType<typeof fakeSlack>>;
  const logLines: Record<string, any>[] = [];
  let ports: Record<string, number>;

  beforeAll(async () => {
    slack = await fakeSlack();
    const names = SERVICE_NAMES;
    const free = await freePorts(names.length);
    ports = Object.fromEntries(names.map((n, i) => [n, free[i] as number]));
    const config = testConfig(
      (raw) => {
        for (const name of names) {
          raw.services[name].environments.production = {
            healthUrl: `http://127.0.0.1:${ports[name]}/health`,
            metricsUrl: `http://127.0.0.1:${ports[name]}/metrics`,
          };
        }
        raw.services.orders.replicas = { min: 1, max: 4 };
        raw.demo = { enabled: true, load: { enabled: true, ratePerSecond: 30, dayLengthSeconds: 60 } };
        raw.metrics = { source: 'scrape', scrape: { intervalSeconds: 0.5 } };
        raw.platform = { environments: { production: { driver: 'local' } }, verifyTimeoutSeconds: 20 };
        raw.health = { timeoutMs: 1000, cacheSeconds: 0 };
        raw.auth = {
          apiKeys: [
            { id: 'op', key: OPERATOR_KEY, user: { id: 'olivia', name: 'Olivia' } },
            { id: 'view', key: VIEWER_KEY, user: { id: 'victor', name: 'Victor' } },
          ],
        };
        raw.auth.tokenSecret = TOKEN_SECRET;
        raw.policy.users['api:olivia'] = ['operator'];
        raw.policy.users['web:wendy'] = ['operator'];
        raw.server = { publicUrl: PUBLIC_URL };
      },
      {
        SLACK_SIGNING_SECRET,
        SLACK_BOT_TOKEN: 'xoxb-test-token',
        SLACK_API_URL: slack.apiUrl,
      },
    );
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const line of chunk.toString().split('\n').filter(Boolean)) logLines.push(JSON.parse(line));
        done();
      },
    });
    server = await testServer(config, { logger: createLogger('info', sink), start: true });
  }, 60_000);

  afterAll(async () => {
    await server?.close();
    await slack?.close();
  }, 30_000);

  async function say(text: string, conversation: string, key = OPERATOR_KEY) {
    const res = await fetch(`${server.url}/api/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({ text, conversation }),
    });
    expect(res.status).toBe(200);
    return (await res.json()).reply as { text: string; blocks: any[] };
  }

  async function info(service: string): Promise<{ pid: number; replica: string }> {
    const res = await fetch(`http://127.0.0.1:${ports[service]}/admin/info`, {
      headers: { connection: 'close' },
    });
    return (await res.json()) as { pid: number; replica: string };
  }

  it('shows every demo service healthy with its replicas', async () => {
    const reply = await say('status of everything', 'status-1');
    expect(reply.text).toMatch(/^8 of 8 services in production are healthy\./);
    const badges = reply.blocks.find((b) => b.type === 'status').badges;
    expect(badges.find((b: any) => b.label === 'payments').detail).toMatch(/HTTP 200 .* 1\/1 replicas ready/);
  });

  it('"restart payments" in the web chat restarts the process: a new pid, healthy again, and audited', async () => {
    const before = await info('payments');
    const token = signToken({ sub: 'wendy', name: 'Wendy', ttlSeconds: 600 }, TOKEN_SECRET);
    const widget = await connectWs(
      `${server.url.replace('http', 'ws')}/ws?conversation=restart-1&token=${token}`,
    );
    expect((await widget.next()).user).toEqual({ name: 'Wendy', roles: ['operator'] });
    widget.ws.send(JSON.stringify({ type: 'message', id: 'm1', text: 'restart payments' }));
    const confirm = (await widget.next()).reply;
    expect(confirm.text).toMatch(/^Please confirm: restart payments in production\./);
    // The widget's Confirm button, clicked as a person would.
    const confirmButton = confirm.blocks.find((b: any) => b.type === 'buttons').buttons[0];
    expect(confirmButton.label).toMatch(/confirm/i);
    widget.ws.send(
      JSON.stringify({
        type: 'action',
        id: 'm2',
        actionId: confirmButton.actionId,
        value: confirmButton.value,
      }),
    );
    const done = await widget.next();
    widget.close();
    expect(done.inReplyTo).toBe('m2');
    expect(done.reply.text).toMatch(
      /^Restarted payments in production\. Verified after [\d.]+ s: 1\/1 replica ready and the health check passes\./,
    );
    const after = await info('payments');
    expect(after.pid).not.toBe(before.pid);
    const health = await fetch(`http://127.0.0.1:${ports.payments}/health`);
    expect(health.status).toBe(200);
    const audit = logLines.filter((l) => l.event === 'audit' && l.service === 'payments');
    expect(audit.map((l) => l.phase)).toEqual(['started', 'succeeded']);
    expect(audit[1]).toMatchObject({
      actor: 'web:wendy',
      roles: ['operator'],
      service: 'payments',
      environment: 'production',
      driver: 'local',
      details: expect.objectContaining({ verified: true, pidsBefore: [before.pid], pidsAfter: [after.pid] }),
      correlationId: expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
  }, 60_000);

  it('restarts through the chat API too, with the API caller audited', async () => {
    const before = await info('notifications');
    expect((await say('restart notifications', 'restart-api-1')).text).toMatch(/^Please confirm/);
    const done = await say('yes', 'restart-api-1');
    expect(done.text).toMatch(/^Restarted notifications in production\. Verified/);
    expect((await info('notifications')).pid).not.toBe(before.pid);
    const audit = logLines.filter((l) => l.event === 'audit' && l.service === 'notifications');
    expect(audit.map((l) => [l.phase, l.actor])).toEqual([
      ['started', 'api:olivia'],
      ['succeeded', 'api:olivia'],
    ]);
  }, 60_000);

  it('"scale orders to 3" runs three replicas that all serve traffic through the service port', async () => {
    await say('scale orders to 3', 'scale-1');
    const done = await say('yes', 'scale-1');
    expect(done.text).toMatch(
      /^Scaled orders in production from 1 to 3 replicas\. Verified after [\d.]+ s: 3\/3 replicas ready/,
    );
    const seen = new Set<number>();
    for (let i = 0; i < 30 && seen.size < 3; i++) seen.add((await info('orders')).pid);
    expect(seen.size).toBe(3);
    const status = await say('status of orders', 'scale-2');
    expect(status.text).toMatch(/3\/3 replicas ready/);
  }, 60_000);

  it('refuses replicas outside the catalog limits and changes nothing', async () => {
    const reply = await say('scale orders to 9', 'scale-3');
    expect(reply.text).toBe("orders allows 1–4 replicas, so I can't scale it to 9. To how many replicas?");
    const status = await say('status of orders', 'scale-4');
    expect(status.text).toMatch(/3\/3 replicas ready/);
  });

  it('does not let a viewer restart anything', async () => {
    const reply = await say('restart payments', 'viewer-1', VIEWER_KEY);
    expect(reply.text).toMatch(/this needs the permission service\.restart.*\(viewer\)/);
  });

  it('serialises two concurrent restarts of one service', async () => {
    await say('restart inventory', 'race-a');
    await say('restart inventory', 'race-b');
    const [a, b] = await Promise.all([say('yes', 'race-a'), say('yes', 'race-b')]);
    const texts = [a.text, b.text];
    expect(texts.every((t) => /^Restarted inventory in production\..*Verified/.test(t))).toBe(true);
    expect(
      texts.some((t) => t.includes('it waited for an earlier change to this service to finish first')),
    ).toBe(true);
    const phases = logLines
      .filter((l) => l.event === 'audit' && l.service === 'inventory')
      .map((l) => l.phase);
    // One restart's start and finish, then the other's: never two starts in a row.
    expect(phases).toEqual(['started', 'succeeded', 'started', 'succeeded']);
  }, 90_000);

  it('answers metrics with numbers from the running services and a chart', async () => {
    // The load generator has been sending traffic since start-up; give the scraper a few rounds.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const reply = await say('throughput of gateway over the last 5 minutes', 'metrics-1');
    expect(reply.text).toMatch(/^gateway \(production\), last 5 minutes: throughput: now [\d.]+ req\/s/);
    const chart = reply.blocks.find((b) => b.type === 'chart');
    expect(chart).toMatchObject({ title: 'throughput of gateway, last 5 minutes' });
  }, 30_000);

  it('shows a metrics chart in Slack as an image block whose picture opsbot serves', async () => {
    const body = formBody({
      token: 'legacy',
      team_id: FAKE_TEAM,
      channel_id: 'C0METRICS',
      user_id: 'UVIEW001',
      user_name: 'viewer',
      command: '/ops',
      text: 'latency of gateway over the last 5 minutes',
      api_app_id: 'A0000001',
      response_url: slack.responseUrl('chart'),
      trigger_id: '1.2.3',
    });
    const ack = await fetch(`${server.url}/slack/events`, {
      method: 'POST',
      headers: slackHeaders(body, SLACK_SIGNING_SECRET, 'application/x-www-form-urlencoded'),
      body,
    });
    expect(ack.status).toBe(200);
    const calls = await slack.waitFor((c) => c.some((x) => x.method === 'response_url/chart'), 10_000);
    const answer = calls.find((x) => x.method === 'response_url/chart')!.body;
    expect(validateBlockKit(answer as any)).toEqual([]);
    const image = answer.blocks.find((b: any) => b.type === 'image');
    expect(image).toMatchObject({
      image_url: expect.stringMatching(
        /^https:\/\/opsbot\.example\.test\/ops\/charts\/[A-Za-z0-9_-]{22}\.png$/,
      ),
      alt_text: expect.stringMatching(/latency of gateway, last 5 minutes: .+ now .+\(min .+, max .+\)$/),
    });
    const picture = await fetch(`${server.url}${new URL(image.image_url).pathname.slice('/ops'.length)}`);
    expect(picture.status).toBe(200);
    expect(picture.headers.get('content-type')).toBe('image/png');
    const png = Buffer.from(await picture.arrayBuffer());
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    expect(png.readUInt32BE(16)).toBeGreaterThan(100); // width from the IHDR chunk: a chart, not a pixel

    const unknown = await fetch(`${server.url}/charts/AAAAAAAAAAAAAAAAAAAAAA.png`);
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ error: { code: 'not_found' } });
  }, 30_000);

  it('shows a crashed service as down in system status', async () => {
    await fetch(`http://127.0.0.1:${ports.search}/admin/fault`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'crash' }),
    });
    let reply = { text: '', blocks: [] as any[] };
    for (let i = 0; i < 40 && !/is down/.test(reply.text); i++) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      reply = await say('is search healthy?', 'crash-1');
    }
    expect(reply.text).toMatch(/^search \(production\) is down: .*0\/1 replicas ready/);
    const events = reply.blocks.find((b) => b.type === 'list');
    expect(events.items.some((item: string) => /Exited/.test(item))).toBe(true);
    const everything = await say('status of everything', 'crash-2');
    expect(everything.text).toMatch(/^7 of 8 services in production are healthy\. Not healthy: search down/);
  }, 30_000);
});
