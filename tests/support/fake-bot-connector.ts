import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { text } from 'node:stream/consumers';

/** What the bot sent to the Bot Connector: replies, card updates and proactive posts. */
export interface ConnectorCall {
  method: string;
  conversation: string;
  /** The activity addressed: replyToId for a reply, the updated activity for an update; absent for a new post. */
  activityId?: string;
  body: any;
}

/** A message the connector no longer has: updating it fails, as for a deleted or very old message. */
export const GONE_MESSAGE = 'deleted-card-message';

/**
 * A local stand-in for the Bot Connector service that the bot posts to (an activity's serviceUrl), on an
 * ephemeral loopback port. It accepts replies, updates and new posts, and records them.
 */
export async function fakeBotConnector(): Promise<{
  url: string;
  calls: ConnectorCall[];
  close(): Promise<void>;
}> {
  const calls: ConnectorCall[] = [];
  let sent = 0;
  const server = createServer(async (req, res) => {
    const body = await text(req);
    const match = /^\/v3\/conversations\/([^/]+)\/activities(?:\/([^/]+))?$/.exec(req.url ?? '');
    if (!match?.[1]) {
      res.writeHead(404).end();
      return;
    }
    calls.push({
      method: req.method ?? '',
      conversation: decodeURIComponent(match[1]),
      activityId: match[2] && decodeURIComponent(match[2]),
      body: body ? JSON.parse(body) : undefined,
    });
    if (req.method === 'PUT' && match[2] === GONE_MESSAGE) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"code":"NotFound"}}');
      return;
    }
    sent += 1;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: `sent-${sent}` }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    calls,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
