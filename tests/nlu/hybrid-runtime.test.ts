/** @jest-environment ./tests/support/onnx-environment.js */
import { testConfig, testServer } from '../support/runtime';

describe('nlu.engine: hybrid, end to end with the shipped model', () => {
  let server: Awaited<ReturnType<typeof testServer>>;
  beforeAll(async () => {
    server = await testServer(
      testConfig((raw) => {
        raw.nlu = { engine: 'hybrid' };
        raw.auth = {
          apiKeys: [{ id: 'ops', key: 'ops-key-0123456789abcdef', user: { id: 'ops', name: 'Ops' } }],
        };
        raw.policy.users['api:ops'] = ['operator'];
      }),
    );
  }, 60_000);
  afterAll(() => server.close());

  const chat = async (text: string, conversation: string) =>
    (
      await fetch(`${server.url}/api/chat`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer ops-key-0123456789abcdef' },
        body: JSON.stringify({ text, conversation }),
      })
    ).json();

  it('understands a phrasing no rule covers, through the classifier', async () => {
    // The rules alone read this as system_status; "bouncing" is how on-call engineers say restart.
    const body = await chat('stock on stg needs bouncing', 'h1');
    expect(body.nlu.intent).toBe('restart_service');
  }, 30_000);

  it('keeps exact commands on the rules', async () => {
    const body = await chat('restart payments in prod', 'h2');
    expect(body.nlu).toMatchObject({ intent: 'restart_service', confidence: expect.any(Number) });
    expect(body.nlu.confidence).toBeGreaterThanOrEqual(0.9);
    expect(body.reply.text).toMatch(/^Please confirm: restart payments in production/);
  });

  it('reports the classifier and the loaded model in readiness', async () => {
    const ready = await (await fetch(`${server.url}/readyz`)).json();
    expect(ready.components).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'nlu', detail: expect.stringMatching(/^hybrid/) }),
        expect.objectContaining({ name: 'predictors', state: 'ok', detail: '4 models loaded' }),
      ]),
    );
  });
});
