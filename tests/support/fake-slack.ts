import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parse as parseQuery } from 'node:querystring';
import { text } from 'node:stream/consumers';
import { WebSocket, WebSocketServer } from 'ws';

/** One request the bot made to Slack: a Web API method (`chat.postMessage`) or a `response_url` post. */
export interface SlackCall {
  method: string;
  body: Record<string, any>;
  at: number;
}

export const FAKE_BOT_USER = 'UBOT0001';
export const FAKE_TEAM = 'T0000001';

/**
 * A local stand-in for Slack's Web API and response URLs, on an ephemeral loopback port. It answers like
 * Slack (auth.test names the bot, chat.postMessage returns a ts) and records what the bot sent.
 */
export async function fakeSlack(): Promise<{
  apiUrl: string;
  responseUrl(id: string): string;
  calls: SlackCall[];
  /** Answers the next `count` calls of `method` with 429 and this Retry-After (seconds). */
  rateLimit(method: string, retryAfterSeconds: number, count?: number): void;
  waitFor(predicate: (calls: SlackCall[]) => boolean, timeoutMs?: number): Promise<SlackCall[]>;
  /** Sends a Socket Mode envelope to the connected app and resolves with its ack (`{envelope_id, payload?}`). */
  deliver(type: string, payload: Record<string, any>): Promise<Record<string, any>>;
  close(): Promise<void>;
}> {
  const calls: SlackCall[] = [];
  const limits = new Map<string, { retryAfter: number; remaining: number }>();
  let ts = 1_700_000_000;
  const server: Server = createServer(async (req, res) => {
    const raw = await text(req);
    const url = new URL(req.url ?? '/', 'http://fake');
    const method = url.pathname.startsWith('/api/')
      ? url.pathname.slice('/api/'.length)
      : `response_url${url.pathname.slice('/response'.length)}`;
    const limit = limits.get(method);
    if (limit && limit.remaining > 0) {
      limit.remaining -= 1;
      calls.push({ method: `${method} (429)`, body: {}, at: Date.now() });
      res.writeHead(429, { 'retry-after': String(limit.retryAfter), 'content-type': 'application/json' });
      return res.end('{"ok":false,"error":"ratelimited"}');
    }
    calls.push({ method, body: parseBody(raw, req.headers['content-type']), at: Date.now() });
    res.setHeader('content-type', 'application/json');
    if (method === 'auth.test') {
      return res.end(
        JSON.stringify({ ok: true, user_id: FAKE_BOT_USER, bot_id: 'BBOT0001', team_id: FAKE_TEAM }),
      );
    }
    if (method === 'apps.connections.open') {
      return res.end(JSON.stringify({ ok: true, url: `ws://127.0.0.1:${port()}/socket` }));
    }
    if (method === 'chat.postMessage') {
      ts += 1;
      return res.end(JSON.stringify({ ok: true, channel: 'C1', ts: `${ts}.000100` }));
    }
    res.end('{"ok":true}');
  });
  // Socket Mode: the app opens a WebSocket here, Slack says hello, then sends envelopes it expects acked.
  const sockets = new WebSocketServer({ server, path: '/socket' });
  const acks = new Map<string, (ack: Record<string, any>) => void>();
  sockets.on('connection', (ws) => {
    ws.send(JSON.stringify({ type: 'hello', num_connections: 1, connection_info: { app_id: 'A0000001' } }));
    ws.on('message', (data) => {
      const ack = JSON.parse(data.toString());
      acks.get(ack.envelope_id)?.(ack);
    });
  });
  let envelopes = 0;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = () => (server.address() as AddressInfo).port;
  const base = `http://127.0.0.1:${port()}`;

  return {
    apiUrl: `${base}/api/`,
    responseUrl: (id) => `${base}/response/${id}`,
    calls,
    rateLimit(method, retryAfterSeconds, count = 1) {
      limits.set(method, { retryAfter: retryAfterSeconds, remaining: count });
    },
    async waitFor(predicate, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      while (!predicate(calls)) {
        if (Date.now() > deadline) {
          throw new Error(`timed out; Slack saw: ${calls.map((c) => c.method).join(', ') || 'nothing'}`);
        }
        await new Promise((r) => setTimeout(r, 10));
      }
      return calls;
    },
    deliver(type, payload) {
      const envelopeId = `env-${++envelopes}`;
      const acked = new Promise<Record<string, any>>((resolve) => acks.set(envelopeId, resolve));
      const frame = JSON.stringify({
        envelope_id: envelopeId,
        type,
        payload,
        accepts_response_payload: false,
      });
      for (const ws of sockets.clients) if (ws.readyState === WebSocket.OPEN) ws.send(frame);
      return acked;
    },
    async close() {
      // A graceful close lets the app's Socket Mode client finish its close handshake instead of waiting it out.
      await Promise.all(
        [...sockets.clients].map(
          (ws) =>
            new Promise<void>((resolve) => {
              ws.once('close', () => resolve());
              ws.close(1001);
              setTimeout(() => {
                ws.terminate();
                resolve();
              }, 1000).unref();
            }),
        ),
      );
      sockets.close();
      await new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
    },
  };
}

function parseBody(raw: string, contentType: string | undefined): Record<string, any> {
  if (raw === '') return {};
  if (contentType?.includes('application/json')) return JSON.parse(raw);
  const form = parseQuery(raw) as Record<string, any>;
  // The Web API client sends structured arguments (blocks) as JSON strings inside the form.
  for (const key of ['blocks', 'attachments']) {
    if (typeof form[key] === 'string') form[key] = JSON.parse(form[key]);
  }
  return form;
}

/** Signs a request body the way Slack does: v0= HMAC-SHA256 of "v0:{timestamp}:{body}". */
export function slackHeaders(
  body: string,
  secret: string,
  contentType: string,
  timestamp = Math.floor(Date.now() / 1000),
): Record<string, string> {
  const signature = createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex');
  return {
    'content-type': contentType,
    'x-slack-request-timestamp': String(timestamp),
    'x-slack-signature': `v0=${signature}`,
  };
}

export function formBody(fields: Record<string, string>): string {
  return new URLSearchParams(fields).toString();
}
