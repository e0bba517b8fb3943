import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify as stringifyYaml } from 'yaml';
import { eventBusTestConfig } from '../support/event-bus-server';
import { closedPort, demoConfigData, loopbackHttpServer, testServer } from '../support/runtime';

/**
 * `opsbot events …` as a user runs it: the built CLI in its own process, against a real server with the
 * event bus, authenticating with an API key from the environment.
 */
const ROOT = path.resolve(__dirname, '..', '..');
const BIN = path.join(ROOT, 'bin', 'opsbot.js');
const OPERATOR_KEY = 'cli-operator-key-0123456789abc';
const VIEWER_KEY = 'cli-viewer-key-0123456789abcde';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Asynchronous, unlike tests/e2e/cli.test.ts: the server answering the CLI runs in this process, and a
 * synchronous spawn would stop it. Every run also checks that the key it was given is not in its output.
 */
async function opsbot(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  const fullEnv = {
    ...process.env,
    NO_COLOR: '1',
    OPSBOT_CONFIG: path.join(ROOT, 'opsbot.config.yaml'),
    OPSBOT_API_KEY: OPERATOR_KEY,
    ...env,
  };
  const run = await new Promise<Run>((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { cwd: ROOT, encoding: 'utf8', env: fullEnv, timeout: 30_000 },
      (err, stdout, stderr) =>
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout, stderr }),
    );
  });
  for (const key of [OPERATOR_KEY, VIEWER_KEY]) expect(`${run.stdout}${run.stderr}`).not.toContain(key);
  return run;
}

describe('opsbot events CLI', () => {
  let server: Awaited<ReturnType<typeof testServer>>;
  const events = (args: string[], env: NodeJS.ProcessEnv = {}) =>
    opsbot(['events', ...args, '--url', server.url], env);

  beforeAll(async () => {
    const config = eventBusTestConfig({ operator: OPERATOR_KEY, viewer: VIEWER_KEY });
    server = await testServer(config, { start: true });
  }, 30_000);
  afterAll(async () => {
    await server?.close();
  });

  it('publishes an event, then finds it by correlation id as text and as JSON, and gets it by id', async () => {
    const published = await events([
      'publish',
      'order.created',
      '--source',
      '/services/orders',
      '--subject',
      'order/77',
      '--correlation-id',
      'order-77',
      '--data',
      '{"orderId":77,"total":12}',
    ]);
    expect(published).toMatchObject({ code: 0, stderr: '' });
    const id = /^accepted (\S+)\n$/.exec(published.stdout)?.[1] as string;
    expect(id).toBeDefined();

    const text = await events(['query', '--correlation-id', 'order-77']);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(
      new RegExp(
        `^\\d{4}-\\d\\d-\\d\\dT\\S+Z order\\.created /services/orders order/77 ${id} \\{"orderId":77,"total":12\\}\\n$`,
      ),
    );
    const json = await events(['query', '--correlation-id', 'order-77', '--json']);
    expect(JSON.parse(json.stdout).events.map((e: any) => e.id)).toEqual([id]);

    const got = await events(['get', id]);
    expect(got.code).toBe(0);
    expect(got.stdout).toContain(`\n  "id": "${id}"`);
    expect(JSON.parse(got.stdout)).toMatchObject({
      id,
      specversion: '1.0',
      data: { orderId: 77, total: 12 },
    });
    expect(await events(['get', 'nope'])).toEqual({
      code: 2,
      stdout: '',
      stderr: 'opsbot: no event nope among the recent events\n',
    });
  }, 60_000);

  it('shortens long data in a query line, and publishes {} when --data is not given', async () => {
    await events([
      'publish',
      'note.added',
      '--source',
      '/tests',
      '--data',
      JSON.stringify({ text: 'x'.repeat(500) }),
    ]);
    await events(['publish', 'note.empty', '--source', '/tests']);
    const long = await events(['query', '--type', 'note.added']);
    expect(long.stdout.trim()).toMatch(/ \{"text":"x+…$/);
    expect(long.stdout.length).toBeLessThan(300);
    const empty = await events(['query', '--type', 'note.empty', '--json']);
    expect(JSON.parse(empty.stdout).events.map((e: any) => e.data)).toEqual([{}]);
  }, 60_000);

  it('lists the routing rules, and finds the configured server without --url (0.0.0.0 means loopback)', async () => {
    const listed = await events(['rules', 'list']);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/^big-orders \(config\) order\.created .*total > 100.*finance\.orders\n$/);

    const dir = mkdtempSync(path.join(tmpdir(), 'opsbot-cli-events-'));
    const file = path.join(dir, 'opsbot.config.yaml');
    const raw = demoConfigData();
    raw.server = { host: '0.0.0.0', port: Number(new URL(server.url).port) };
    writeFileSync(file, stringifyYaml(raw));
    const configured = await opsbot(['events', 'rules', 'list', '--json'], { OPSBOT_CONFIG: file });
    expect(configured.code).toBe(0);
    expect(JSON.parse(configured.stdout).rules.map((r: any) => r.id)).toEqual(['big-orders']);
  }, 60_000);

  it('lists, shows and replays a dead letter; a failed replay exits 1', async () => {
    expect(await events(['dlq', 'list'])).toEqual({ code: 0, stdout: 'no dead letters\n', stderr: '' });

    // A routed webhook nobody listens on: the router dead-letters the event after its two attempts.
    const added = await fetch(`${server.url}/api/v1/routing/rules`, {
      method: 'POST',
      headers: { authorization: `Bearer ${OPERATOR_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        id: 'dead-end',
        match: { type: 'audit.exported' },
        targets: [{ webhook: { url: 'http://127.0.0.1:9/x', timeoutMs: 200 } }],
      }),
    });
    expect(added.status).toBe(201);
    expect((await events(['rules', 'list'])).stdout).toMatch(
      /\ndead-end \(api\) audit\.exported → webhook 127\.0\.0\.1:9\n$/,
    );
    expect(
      await events(['publish', 'audit.exported', '--source', '/tests', '--data', '{"batch":7}']),
    ).toMatchObject({ code: 0 });
    let letters: any[] = [];
    for (let i = 0; i < 200 && letters.length === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      letters = (
        await (
          await fetch(`${server.url}/api/v1/dlq`, { headers: { authorization: `Bearer ${VIEWER_KEY}` } })
        ).json()
      ).deadLetters;
    }
    expect(letters).toHaveLength(1);
    const id = letters[0].id as string;

    const listed = await events(['dlq', 'list', '--reason', 'route_failed']);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(
      new RegExp(
        `^${id} audit\\.exported route_failed webhook http://127\\.0\\.0\\.1:9/x 2 attempts: .+\\n$`,
      ),
    );
    expect((await events(['dlq', 'list', '--reason', 'invalid'])).stdout).toBe('no dead letters\n');
    expect(JSON.parse((await events(['dlq', 'list', '--json'])).stdout).deadLetters).toEqual([
      expect.objectContaining({ id, ruleId: 'dead-end', attempts: 2 }),
    ]);

    const shown = await events(['dlq', 'show', id], { OPSBOT_API_KEY: VIEWER_KEY });
    expect(shown.code).toBe(0);
    expect(JSON.parse(shown.stdout)).toMatchObject({
      id,
      reason: 'route_failed',
      event: { data: { batch: 7 } },
    });

    const replayed = await events(['dlq', 'replay', '--id', id]);
    expect(replayed.code).toBe(1);
    expect(replayed.stdout).toMatch(new RegExp(`^replayed 0, failed 1\\nfailed ${id}: .+\\n$`));
    const json = await events(['dlq', 'replay', '--id', id, '--json']);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toEqual({ replayed: [], failed: [{ id, error: expect.any(String) }] });
  }, 60_000);

  it('exits 2 with one line for bad input and for what the server refuses', async () => {
    const oneLine = { code: 2, stdout: '', stderr: expect.stringMatching(/^opsbot: [^\n]+\n$/) };
    expect(await events(['dlq', 'replay'])).toEqual({
      ...oneLine,
      stderr: 'opsbot: dlq replay needs exactly one of --id <id>, --type <type> or --all\n',
    });
    expect(await events(['dlq', 'replay', '--id', 'x', '--all'])).toEqual(oneLine);
    expect(await events(['dlq', 'replay', '--type', 'order.created', '--id', 'x'])).toEqual(oneLine);
    expect(await events(['publish', 'order.created', '--source', '/x', '--data', '{bad'])).toEqual({
      ...oneLine,
      stderr: expect.stringMatching(/^opsbot: --data: not JSON: [^\n]+\n$/),
    });
    expect(await events(['publish', 'Bad Type', '--source', '/x'])).toEqual({
      ...oneLine,
      stderr: expect.stringMatching(/^opsbot: invalid event: type: must be dotted/),
    });
    expect(
      await events(['publish', 'order.created', '--source', '/x'], { OPSBOT_API_KEY: VIEWER_KEY }),
    ).toEqual({
      ...oneLine,
      stderr: expect.stringMatching(/^opsbot: this needs the permission events\.publish, which your role/),
    });
    expect(await events(['query', '--api-key', `${OPERATOR_KEY}x`])).toEqual({
      ...oneLine,
      stderr: 'opsbot: unknown API key\n',
    });
    expect(await events(['dlq', 'show', 'nope'])).toEqual({
      ...oneLine,
      stderr: 'opsbot: no dead letter nope\n',
    });
  }, 60_000);

  it('exits 1 with one line when the server cannot be reached or fails', async () => {
    const port = await closedPort();
    expect(await opsbot(['events', 'query', '--url', `http://127.0.0.1:${port}`])).toEqual({
      code: 1,
      stdout: '',
      stderr: `opsbot: cannot reach opsbot at http://127.0.0.1:${port} (is opsbot serve running?)\n`,
    });
    const failing = await loopbackHttpServer((res) => {
      res.writeHead(503, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'store_unavailable', message: 'the store is down' } }));
    }, '');
    try {
      expect(await opsbot(['events', 'rules', 'list', '--url', failing.url])).toEqual({
        code: 1,
        stdout: '',
        stderr: 'opsbot: the store is down\n',
      });
    } finally {
      await failing.close();
    }
  }, 60_000);
});
