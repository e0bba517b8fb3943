import path from 'node:path';
import WebSocket from 'ws';
import { signToken } from '../../bot/server/signed-token';
import { testConfig, testServer } from '../support/runtime';

const SECRET = 'a-test-secret-that-is-long-enough-0123456789';
const REPO = path.resolve(__dirname, '..', '..');

describe('troubleshooting in the web chat, answered from the shipped runbooks', () => {
  let server: Awaited<ReturnType<typeof testServer>>;

  beforeAll(async () => {
    server = await testServer(
      testConfig((raw) => {
        raw.auth = { tokenSecret: SECRET };
        raw.knowledge.sources = [path.join(REPO, 'runbooks')];
      }),
    );
    // The real offline embedding model over the real runbooks, as `npm start` builds it.
    const report = await server.runtime.refreshKnowledge();
    expect(report?.documents).toBeGreaterThanOrEqual(12);
  }, 120000);
  afterAll(() => server.close());

  async function ask(text: string, token?: string): Promise<any> {
    const ws = new WebSocket(
      `${server.url.replace('http', 'ws')}/ws?conversation=t-${Date.now()}${token ? `&token=${token}` : ''}`,
    );
    const frames: any[] = [];
    await new Promise<void>((resolve, reject) => {
      ws.on('message', (d) => {
        frames.push(JSON.parse(d.toString()));
        if (frames.length === 1) ws.send(JSON.stringify({ type: 'message', id: 'q', text }));
        if (frames.length === 2) resolve();
      });
      ws.on('error', reject);
    });
    ws.close();
    return frames[1];
  }

  it('answers a symptom with the matching runbook, quoting it and citing it', async () => {
    const viewer = signToken({ sub: 'vera', name: 'Vera', ttlSeconds: 600 }, SECRET);
    const frame = await ask(
      'why are notification emails delayed by 20 minutes? the consumer is falling behind',
      viewer,
    );
    expect(frame.type).toBe('reply');
    const citations = frame.reply.blocks.find((b: any) => b.type === 'citations').citations;
    expect(citations[0]).toMatchObject({
      source: 'runbooks/notifications-backlog.md',
      title: expect.any(String),
      score: expect.any(String),
    });
    expect(frame.reply.text).toMatch(/^This matches the runbook .* \(notifications-backlog\)\./);
  });

  it('keeps the runbooks from anonymous guests, saying why', async () => {
    const frame = await ask('why are notification emails delayed?');
    expect(frame.reply.text).toMatch(/needs the permission knowledge\.read/);
  });
});
