import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isLoopback } from '../config/load';
import { ConfigError } from '../core/errors';
import type { Logger } from '../core/logger';
import type { Runtime } from '../runtime';
import { createApp } from './app';
import { Authenticator } from './authenticator';
import { createChannelAdapters } from './channels';
import type { ServerMetrics } from './metrics';
import { WebRooms } from './web-rooms';
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
  const { teams } = runtime.config;
  // The configuration check covers server.host; `serve --host` can still move the bind address.
  if (teams.enabled && !teams.appId && !isLoopback(listen.host)) {
    throw new ConfigError(
      `Teams without an app id is anonymous and only allowed on a loopback address, not ${listen.host}; set MICROSOFT_APP_ID`,
    );
  }
  const authenticator = new Authenticator(runtime.config.auth);
  const channels = createChannelAdapters(runtime, deps.logger);
  for (const channel of channels) runtime.addComponent(channel.component);
  const app = createApp({ runtime, authenticator, ...deps, channels });
  const server = createServer(app);
  // Slow or idle clients must not hold sockets forever.
  server.headersTimeout = 15_000;
  server.requestTimeout = 30_000;
  server.keepAliveTimeout = 5_000;
  const rooms = new WebRooms();
  const wss = attachWebSocketChat(server, { runtime, authenticator, ...deps, rooms });
  runtime.notifier.register(rooms);

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  for (const channel of channels) {
    await channel.start();
    if (channel.sender) runtime.notifier.register(channel.sender);
  }
  const { port } = server.address() as AddressInfo;
  const host = listen.host.includes(':') ? `[${listen.host}]` : listen.host;
  return {
    url: `http://${host}:${port}`,
    port,
    server,
    async close() {
      runtime.notifier.unregister(rooms.channel);
      for (const channel of channels) {
        if (channel.sender) runtime.notifier.unregister(channel.sender.channel);
        await channel.stop();
      }
      for (const client of wss.clients) client.terminate();
      wss.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
