import { PermanentActionError } from '../../engines/orchestrator/action';
import { createHttpAction, MAX_RESPONSE_BYTES } from '../../engines/orchestrator/actions/http-action';
import { actionContext, catalogService, startServer, testCatalog, type TestServer } from './actions-support';

describe('http action', () => {
  const servers: TestServer[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => server.close()));
  });

  async function serve(...args: Parameters<typeof startServer>): Promise<TestServer> {
    const server = await startServer(...args);
    servers.push(server);
    return server;
  }

  function httpFor(server: TestServer) {
    const catalog = testCatalog({
      payments: catalogService(`${server.url}/health`, { aliases: ['pay'] }),
    });
    return createHttpAction({ catalog });
  }

  it('sends a mutation to the service with the same Idempotency-Key on every attempt', async () => {
    let answered = 0;
    const server = await serve((_req, res) => {
      answered += 1;
      res.statusCode = answered === 1 ? 503 : 201;
      res.setHeader('content-type', 'application/json');
      res.end(answered === 1 ? '{"error":"busy"}' : '{"id":"ch_1","amount":42}');
    });
    const http = httpFor(server);
    const inputs = {
      method: 'POST' as const,
      service: 'pay',
      path: '/payments/charge',
      body: { amount: 42 },
    };

    const first = http.execute(inputs, actionContext({ idempotencyKey: 'run-9:charge', attempt: 1 }));
    await expect(first).rejects.toThrow(/POST http:\/\/127\.0\.0\.1:\d+\/payments\/charge answered 503/);
    await expect(first).rejects.not.toBeInstanceOf(PermanentActionError);
    const second = await http.execute(inputs, actionContext({ idempotencyKey: 'run-9:charge', attempt: 2 }));

    expect(second).toEqual({ status: 201, body: { id: 'ch_1', amount: 42 } });
    expect(server.requests.map((r) => [r.method, r.url, r.headers['idempotency-key']])).toEqual([
      ['POST', '/payments/charge', 'run-9:charge'],
      ['POST', '/payments/charge', 'run-9:charge'],
    ]);
    expect(server.requests[1]?.headers['content-type']).toBe('application/json');
    expect(JSON.parse(server.requests[1]?.body ?? '')).toEqual({ amount: 42 });
  });

  it('sends no Idempotency-Key with a GET, and keeps a text body as text', async () => {
    const server = await serve((_req, res) => res.end('pong'));
    const output = await httpFor(server).execute({ url: `${server.url}/api/ping?x=1` }, actionContext());
    expect(output).toEqual({ status: 200, body: 'pong' });
    expect(server.requests[0]?.headers['idempotency-key']).toBeUndefined();
    expect(server.requests[0]?.url).toBe('/api/ping?x=1');
  });

  it('fails for good on a 4xx, retryably on 429, and succeeds on a status the step expects', async () => {
    const statuses = [404, 429, 404, 200];
    const server = await serve((_req, res) => {
      res.statusCode = statuses.shift() ?? 500;
      res.end('no such order');
    });
    const http = httpFor(server);
    const inputs = { method: 'DELETE' as const, service: 'payments', path: '/orders/7' };

    const notFound = http.execute(inputs, actionContext());
    await expect(notFound).rejects.toBeInstanceOf(PermanentActionError);
    await expect(notFound).rejects.toThrow('answered 404: no such order');
    const throttled = http.execute(inputs, actionContext());
    await expect(throttled).rejects.toThrow('answered 429');
    await expect(throttled).rejects.not.toBeInstanceOf(PermanentActionError);
    await expect(http.execute({ ...inputs, expectStatus: [200, 404] }, actionContext())).resolves.toEqual({
      status: 404,
      body: 'no such order',
    });
    const unexpected = http.execute({ ...inputs, expectStatus: 204 }, actionContext());
    await expect(unexpected).rejects.toThrow('answered 200');
    await expect(unexpected).rejects.toBeInstanceOf(PermanentActionError);
  });

  it('stops when the step signal aborts, rejecting with its reason', async () => {
    const controller = new AbortController();
    const server = await serve(() => controller.abort(new Error('step timed out')));
    const pending = httpFor(server).execute(
      { url: `${server.url}/slow` },
      actionContext({ signal: controller.signal }),
    );
    await expect(pending).rejects.toThrow('step timed out');
    expect(server.requests).toHaveLength(1);
  });

  it('reports a refused connection as retryable', async () => {
    const server = await serve((_req, res) => res.end());
    const url = `${server.url}/x`;
    await servers.pop()?.close();
    const refused = httpFor(server).execute({ method: 'POST', url }, actionContext());
    await expect(refused).rejects.toThrow(/^POST http:\/\/127\.0\.0\.1:\d+\/x: connection refused$/);
    await expect(refused).rejects.not.toBeInstanceOf(PermanentActionError);
  });

  it('cuts a large body at 64 KB and keeps it as text', async () => {
    const server = await serve((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ blob: 'x'.repeat(3 * MAX_RESPONSE_BYTES) }));
    });
    const output = await httpFor(server).execute({ url: `${server.url}/big` }, actionContext());
    expect(output.truncated).toBe(true);
    expect(output.body).toHaveLength(MAX_RESPONSE_BYTES);
    expect(String(output.body).startsWith('{"blob":"xxx')).toBe(true);
  });

  it('refuses, for good, what it cannot send and a path that would leave the service', async () => {
    const server = await serve((_req, res) => res.end());
    const http = httpFor(server);
    for (const inputs of [
      { service: 'payments', path: '//evil.example/x' },
      { service: 'ledger', path: '/x' },
      { service: 'payments', environment: 'staging', path: '/x' },
      { url: 'ftp://example.com/file' },
      { service: 'payments', path: '/x', body: { a: 1 } },
    ]) {
      await expect(http.execute(inputs, actionContext())).rejects.toBeInstanceOf(PermanentActionError);
    }
    expect(server.requests).toHaveLength(0);
  });

  it('describes the request for a plan without sending it', async () => {
    const server = await serve((_req, res) => res.end());
    const http = httpFor(server);
    expect(http.describe({ method: 'POST', service: 'pay', path: '/payments/charge' })).toEqual({
      summary: 'POST payments /payments/charge',
      services: ['payments'],
      environment: 'production',
    });
    expect(http.describe({ url: 'https://user:secret@hooks.example.com/in?token=abc' })).toEqual({
      summary: 'GET https://hooks.example.com/in',
      services: [],
    });
    expect(server.requests).toHaveLength(0);
  });
});
