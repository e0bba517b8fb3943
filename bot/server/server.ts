import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../core/logger';
import type { Runtime } from '../runtime';
import { createApp } from './app';
import { Authenticator } from './authenticator';
import type { ServerMetrics } from './metrics';
import { attachWebSocketChat } from './ws-chat';

export interface RunningServer {
  url: string;
  port: number;
  server: Server;
  close(): Promise<void>;
}

/** Starts HTTP and WebSocket chat on one port. Port 0 picks a free one (tests); the URL says which. */
export async function startServer(
  runtime: Runtime,
  deps: { metrics: ServerMetrics; logger: Logger },
  listen: { host: string; port: number },
): Promise<RunningServer> {
  const authenticator = new Authenticator(runtime.config.auth);
  const app = createApp({ runtime, authenticator, ...deps });
  const server = createServer(app);
  // Slow or idle clients must not hold sockets forever.
  server.headersTimeout = 15_000;
  server.requestTimeout = 30_000;
  server.keepAliveTimeout = 5_000;
  const wss = attachWebSocketChat(server, { runtime, authenticator, ...deps });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = listen.host.includes(':') ? `[${listen.host}]` : listen.host;
  return {
    url: `http://${host}:${port}`,
    port,
    server,
    async close() {
      for (const client of wss.clients) client.terminate();
      wss.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
