import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { parseConfig } from '../../bot/config/load';
import type { OpsbotConfig } from '../../bot/config/schema';
import { createLogger, type Logger } from '../../bot/core/logger';
import { createRuntime, type Runtime } from '../../bot/runtime';
import { ServerMetrics } from '../../bot/server/metrics';
import { startServer, type RunningServer } from '../../bot/server/server';

export const DEMO_CONFIG_PATH = path.resolve(__dirname, '..', '..', 'opsbot.config.yaml');

/** The shipped demo config as plain data, for tests to adjust before validating it like start-up does. */
export function demoConfigData(): Record<string, any> {
  return parseYaml(readFileSync(DEMO_CONFIG_PATH, 'utf8')) as Record<string, any>;
}

export function testConfig(
  adjust: (raw: Record<string, any>) => void = () => {},
  env: NodeJS.ProcessEnv = {},
): OpsbotConfig {
  const raw = demoConfigData();
  raw.log = { level: 'silent' };
  // Tests never read or build the developer's index: each runtime gets an empty folder of its own.
  raw.knowledge = { indexDir: mkdtempSync(path.join(tmpdir(), 'opsbot-test-index-')), autoBuild: false };
  raw.stateDir = mkdtempSync(path.join(tmpdir(), 'opsbot-test-state-'));
  // The rules, whose answers these tests pin exactly; tests/nlu runs the shipped model with engine: hybrid.
  raw.nlu = { engine: 'rules' };
  // No demo fleet unless a test asks for one: it would take the shipped ports 7101-7108.
  raw.demo = { enabled: false };
  // Nor the background engines that act on services: a test that wants them turns them on.
  raw.maintenance = { enabled: false };
  raw.scaler = { services: {} };
  adjust(raw);
  return parseConfig(stringifyYaml(raw), 'test config', env);
}

export function testRuntime(config: OpsbotConfig = testConfig()): Runtime {
  return createRuntime({ config, file: 'test config' }, { logger: createLogger('silent') });
}

export async function testServer(
  config: OpsbotConfig = testConfig(),
  options: { logger?: Logger; start?: boolean } = {},
): Promise<RunningServer & { runtime: Runtime }> {
  const metrics = new ServerMetrics();
  const logger = options.logger ?? createLogger('silent');
  const runtime = createRuntime({ config, file: 'test config' }, { logger, metrics, runsPlatforms: true });
  // Local services (the demo fleet) and the metrics scraper run only where a test asks for them.
  if (options.start) await runtime.start();
  const server = await startServer(runtime, { metrics, logger }, { host: '127.0.0.1', port: 0 });
  return {
    ...server,
    runtime,
    async close() {
      await server.close();
      await runtime.close();
    },
  };
}

/** A real HTTP server on an ephemeral loopback port: a service's health endpoint, a third-party page, … */
export async function loopbackHttpServer(
  handler: (res: import('node:http').ServerResponse) => void,
  urlPath = '/health',
): Promise<{ url: string; server: Server; close(): Promise<void> }> {
  const server = createServer((_req, res) => handler(res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${urlPath}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A loopback port nothing listens on: bound, noted, released. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** `count` distinct loopback ports free at the time of asking, for services a test starts on fixed ports. */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: count }, async () => {
      const server = createServer();
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return server;
    }),
  );
  const ports = servers.map((s) => (s.address() as AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  return ports;
}
