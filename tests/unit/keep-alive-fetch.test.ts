import { createKeepAliveFetch } from '../../adapters/http/keep-alive-fetch';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

describe('keep-alive fetch for the platform clients', () => {
  const seen: { method?: string; headers: Record<string, unknown>; body: string }[] = [];
  let server: Server;
  let base: string;
  const keepAliveFetch = createKeepAliveFetch();

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        seen.push({ method: req.method, headers: req.headers, body });
        if (req.url === '/empty') return res.writeHead(204).end();
        if (req.url === '/limited') {
          return res
            .writeHead(429, { 'retry-after': '3', 'content-type': 'application/json' })
            .end('{"ok":false}');
        }
        res.writeHead(200, { 'content-type': 'application/json', 'set-cookie': ['a=1', 'b=2'] });
        res.end(JSON.stringify({ ok: true, echo: body }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );

  it('sends a form body with its content type and length, and reads a JSON answer', async () => {
    const res = await keepAliveFetch(`${base}/api/chat.postMessage`, {
      method: 'POST',
      headers: { authorization: 'Bearer xoxb-1' },
      body: new URLSearchParams({ channel: 'C1', text: 'héllo & bye' }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('set-cookie')).toBe('a=1, b=2');
    expect(await res.json()).toEqual({ ok: true, echo: 'channel=C1&text=h%C3%A9llo+%26+bye' });
    const request = seen.at(-1)!;
    expect(request.method).toBe('POST');
    expect(request.headers).toMatchObject({
      authorization: 'Bearer xoxb-1',
      'content-type': 'application/x-www-form-urlencoded;charset=UTF-8',
      'content-length': String(Buffer.byteLength('channel=C1&text=h%C3%A9llo+%26+bye')),
    });
  });

  it('passes statuses and headers through: a 429 keeps its Retry-After, a 204 has no body', async () => {
    const limited = await keepAliveFetch(`${base}/limited`, { method: 'POST', body: '{}' });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('3');
    const empty = await keepAliveFetch(`${base}/empty`);
    expect(empty.status).toBe(204);
    expect(await empty.text()).toBe('');
  });

  it('rejects when the server cannot be reached, like fetch', async () => {
    await expect(keepAliveFetch('http://127.0.0.1:1/x')).rejects.toThrow(/ECONNREFUSED/);
  });

  it('honours an abort signal', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(keepAliveFetch(`${base}/x`, { signal: controller.signal })).rejects.toThrow(/abort/i);
  });
});
