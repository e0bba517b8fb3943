import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ServiceCatalog } from '../../bot/config/catalog';
import type { EnvironmentName, ServiceConfig } from '../../bot/config/schema';
import type { ActionContext } from '../../engines/orchestrator/action';
import type { StepRun, WorkflowRun } from '../../engines/orchestrator/run';

/** A catalog service running in production only, at `healthUrl`. */
export function catalogService(healthUrl: string, extra: Partial<ServiceConfig> = {}): ServiceConfig {
  return {
    description: '',
    aliases: [],
    owners: ['team'],
    environments: { production: { healthUrl } },
    replicas: { min: 1, max: 10 },
    ...extra,
  };
}

export function testCatalog(services: Record<string, ServiceConfig>): ServiceCatalog {
  return new ServiceCatalog({
    services,
    environments: { production: { aliases: ['prod'] }, staging: { aliases: ['stg'] } },
    defaultEnvironment: 'production' as EnvironmentName,
  });
}

export function testRun(overrides: Partial<WorkflowRun> = {}): WorkflowRun {
  const now = new Date().toISOString();
  return {
    id: 'run-1',
    kind: 'runbook',
    definitionId: 'test',
    title: 'Test',
    params: {},
    status: 'running',
    steps: [],
    actor: 'terminal:tester',
    roles: ['operator'],
    trigger: { type: 'cli' },
    correlationId: 'corr-1',
    createdAt: now,
    updatedAt: now,
    version: 1,
    ...overrides,
  };
}

/** The context of one attempt of step `stepId` (default "s1"), started `startedAt` (default now). */
export function actionContext(
  overrides: Partial<ActionContext> & { startedAt?: string; run?: WorkflowRun } = {},
): ActionContext {
  const { startedAt, ...rest } = overrides;
  const stepId = rest.stepId ?? 's1';
  const idempotencyKey = rest.idempotencyKey ?? 'run-1:s1';
  const step: StepRun = {
    id: stepId,
    action: 'test',
    mutating: true,
    status: 'running',
    attempts: rest.attempt ?? 1,
    idempotencyKey,
    startedAt: startedAt ?? new Date().toISOString(),
  };
  return {
    run: rest.run ?? testRun({ steps: [step] }),
    stepId,
    idempotencyKey,
    attempt: 1,
    signal: new AbortController().signal,
    ...rest,
  };
}

export interface TestServer {
  url: string;
  requests: { method: string; url: string; headers: IncomingMessage['headers']; body: string }[];
  close(): Promise<void>;
}

/** A real HTTP server on an ephemeral loopback port; `handle` answers each request after its body is read. */
export async function startServer(
  handle: (req: IncomingMessage, res: ServerResponse, body: string) => void,
): Promise<TestServer> {
  const requests: TestServer['requests'] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      handle(req, res, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
