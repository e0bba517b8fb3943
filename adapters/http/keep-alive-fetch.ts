import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

/** Enough sockets per host for a burst of replies, few enough not to look like an attack to the platform. */
const MAX_SOCKETS_PER_HOST = 64;

/**
 * A `fetch` for the platform clients (Slack's Web API client and bolt's response_url poster) on node:http
 * with keep-alive agents. Node's built-in fetch spent a fifth of opsbot's CPU under load in bench:adapters
 * (web streams, abort signals, per-request objects); this does the same requests for a fraction of it.
 * It covers what those clients send — string or form bodies — and hands anything else (multipart
 * uploads, Request objects) to the built-in fetch. Like the clients' own use of fetch, it does not follow
 * redirects: Slack's API and response URLs answer directly.
 */
export function createKeepAliveFetch(): typeof fetch {
  const agents = {
    'http:': new HttpAgent({ keepAlive: true, maxSockets: MAX_SOCKETS_PER_HOST }),
    'https:': new HttpsAgent({ keepAlive: true, maxSockets: MAX_SOCKETS_PER_HOST }),
  };
  return async (input, init) => {
    const body = init?.body;
    const simpleBody =
      body === undefined || body === null || typeof body === 'string' || body instanceof URLSearchParams;
    if (!(typeof input === 'string' || input instanceof URL) || !simpleBody) return fetch(input, init);
    const url = new URL(input);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return fetch(input, init);

    const headers = new Headers(init?.headers);
    const payload = body === undefined || body === null ? undefined : Buffer.from(String(body), 'utf8');
    if (body instanceof URLSearchParams && !headers.has('content-type')) {
      headers.set('content-type', 'application/x-www-form-urlencoded;charset=UTF-8');
    }
    if (payload) headers.set('content-length', String(payload.length));
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;

    const [res, bodyBytes] = await new Promise<[IncomingMessage, Buffer]>((resolve, reject) => {
      const req = send(url, {
        method: init?.method ?? 'GET',
        headers: Object.fromEntries(headers),
        agent: agents[url.protocol as 'http:' | 'https:'],
        signal: init?.signal ?? undefined,
      });
      req.once('error', reject);
      req.once('response', (response: IncomingMessage) => {
        // Plain events rather than `for await`: the stream's async iterator costs more than the request.
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.once('end', () => resolve([response, Buffer.concat(chunks)]));
        response.once('error', reject);
      });
      req.end(payload);
    });
    const responseHeaders = new Headers();
    for (const [name, value] of Object.entries(res.headers)) {
      if (Array.isArray(value)) value.forEach((v) => responseHeaders.append(name, v));
      else if (value !== undefined) responseHeaders.set(name, value);
    }
    const status = res.statusCode ?? 502;
    // A Response with status 204 or 304 must not have a body.
    const noBody = status === 204 || status === 304 || init?.method === 'HEAD';
    return new Response(noBody ? null : bodyBytes, {
      status,
      statusText: res.statusMessage,
      headers: responseHeaders,
    });
  };
}
