import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { DEGRADED_ERROR_RATE, FaultInjector, parseFaultRequest, viewFault } from './fault-injection';
import { errorBody, HttpError, readJsonBody } from './http-json';
import { IDEMPOTENT_REPLAY_HEADER, IdempotencyStore } from './idempotency';
import { matchRoute } from './route-matching';
import { createDomainRoutes } from './service-domains';
import { UNMATCHED_ROUTE, ServiceMetrics } from './service-metrics';
import { isServiceName, SERVICE_NAMES } from './service-names';
import { SimulatedCpu } from './simulated-cpu';

export const DEFAULT_CAPACITY_RPS = 50;
const DEFAULT_HOST = '127.0.0.1';
const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';
/** Lets the 202 reach the caller before the process dies, as a real crash right after a request would. */
const CRASH_DELAY_MS = 50;
/** How long close() lets in-flight requests finish before it cuts the remaining connections. */
export const SHUTDOWN_GRACE_MS = 1500;
/** A domain request's own simulated work, before load slows it down. */
const MIN_WORK_MS = 1;
const MAX_WORK_MS = 5;
/**
 * Work time grows as 1 / (1 - load), as queueing does; capping the load keeps a saturated service at
 * twenty times its idle latency instead of infinitely slow.
 */
const MAX_LOAD_FOR_LATENCY = 0.95;

export interface DemoServiceOptions {
  /** One of SERVICE_NAMES: it decides the domain endpoints. */
  service: string;
  /** This process's replica id, e.g. "payments-1". */
  replica: string;
  /** 0 for an ephemeral port. */
  port: number;
  host?: string;
  /** The request rate at which the simulated CPU reads 100%. */
  capacityRps?: number;
  /** What a crash fault does once its 202 is sent; the process entry exits with code 1. */
  onCrash?: () => void;
}

export interface RunningDemoService {
  url: string;
  port: number;
  /** Stops accepting, lets in-flight requests finish (up to SHUTDOWN_GRACE_MS) and resolves once closed. */
  close(): Promise<void>;
}

type Reply = (status: number, body: unknown, headers?: Record<string, string>) => void;

/** One replica of a demo fleet service: domain endpoints plus /health, /metrics and fault injection. */
export async function startDemoService(options: DemoServiceOptions): Promise<RunningDemoService> {
  const { service, replica } = options;
  if (!isServiceName(service)) {
    throw new RangeError(`unknown service "${service}": expected one of ${SERVICE_NAMES.join(', ')}`);
  }
  if (replica.trim() === '') throw new RangeError('replica must not be empty');
  const startedAt = Date.now();
  const cpu = new SimulatedCpu(options.capacityRps ?? DEFAULT_CAPACITY_RPS);
  const metrics = new ServiceMetrics(service, replica, cpu);
  const faults = new FaultInjector();
  const idempotency = new IdempotencyStore();
  const routes = createDomainRoutes(service);
  const onCrash = options.onCrash ?? (() => process.exit(1));
  /** Requests a hang fault swallowed: nothing will ever answer them, so close() drops them at once. */
  const hung = new Set<ServerResponse>();
  let closing: Promise<void> | undefined;

  function send(res: ServerResponse, status: number, text: string, headers: Record<string, string>): void {
    res.writeHead(status, {
      ...headers,
      // Tells keep-alive clients to reconnect elsewhere instead of reusing a connection about to close.
      ...(closing ? { connection: 'close' } : {}),
      'content-length': String(Buffer.byteLength(text)),
    });
    res.end(text);
  }

  const jsonReply =
    (res: ServerResponse): Reply =>
    (status, body, headers = {}) =>
      send(res, status, JSON.stringify(body), { ...headers, 'content-type': JSON_CONTENT_TYPE });

  function health(reply: Reply): void {
    const fault = faults.current();
    const degraded = fault?.kind === 'errors' && fault.rate >= DEGRADED_ERROR_RATE;
    reply(degraded ? 503 : 200, {
      status: degraded ? 'degraded' : 'ok',
      service,
      replica,
      pid: process.pid,
      uptimeSeconds: Math.floor((Date.now() - startedAt) / 1000),
    });
  }

  async function adminFault(req: IncomingMessage, res: ServerResponse, reply: Reply): Promise<void> {
    if (req.method === 'DELETE') {
      faults.clear();
      reply(200, { cleared: true });
      return;
    }
    const active = faults.inject(parseFaultRequest(await readJsonBody(req)));
    if (active.kind === 'crash') res.once('finish', () => setTimeout(onCrash, CRASH_DELAY_MS));
    reply(202, { accepted: true, fault: viewFault(active) });
  }

  /** Simulated work that takes longer the busier the simulated CPU is. */
  function workMs(): number {
    const base = MIN_WORK_MS + Math.random() * (MAX_WORK_MS - MIN_WORK_MS);
    return base / (1 - Math.min(cpu.load(), MAX_LOAD_FOR_LATENCY));
  }

  async function domain(req: IncomingMessage, res: ServerResponse, path: string, query: URLSearchParams) {
    const started = performance.now();
    const method = req.method ?? 'GET';
    const match = matchRoute(routes, method, path);
    const route =
      match.kind === 'matched'
        ? match.route.template
        : match.kind === 'method_not_allowed'
          ? match.template
          : UNMATCHED_ROUTE;
    const reply = (status: number, text: string, headers: Record<string, string> = {}) => {
      send(res, status, text, { ...headers, 'content-type': JSON_CONTENT_TYPE });
      metrics.observeRequest(route, method, status, (performance.now() - started) / 1000);
    };
    cpu.recordRequest();
    if (match.kind === 'unmatched') {
      reply(404, JSON.stringify(errorBody('not_found', `no route for ${method} ${path}`)));
      return;
    }
    if (match.kind === 'method_not_allowed') {
      const message = `${route} accepts ${match.allowed.join(', ')}`;
      reply(405, JSON.stringify(errorBody('method_not_allowed', message)), {
        allow: match.allowed.join(', '),
      });
      return;
    }
    try {
      const body = method === 'POST' ? await readJsonBody(req) : undefined;
      const key = method === 'POST' ? idempotency.keyFor(req, path) : undefined;
      const fault = faults.current();
      if (fault?.kind === 'errors' && faults.picks(fault)) {
        reply(500, JSON.stringify({ error: 'injected fault' }));
        return;
      }
      if (fault?.kind === 'latency' && faults.picks(fault)) await delay(fault.latencyMs);
      await delay(workMs());
      // Looked up after the awaits: from here to remember() runs in one go, so two concurrent retries with
      // one key cannot both do the work.
      const stored = key === undefined ? undefined : idempotency.get(key);
      if (stored) {
        metrics.observeReplay(route);
        reply(stored.status, stored.text, { [IDEMPOTENT_REPLAY_HEADER]: 'true' });
        return;
      }
      const response = match.route.handle({ params: match.params, query, body });
      const text = JSON.stringify(response.body);
      if (key !== undefined) idempotency.remember(key, { status: response.status, text });
      reply(response.status, text);
    } catch (error) {
      if (!(error instanceof HttpError)) throw error;
      reply(error.status, JSON.stringify(errorBody(error.code, error.message)));
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (faults.current()?.kind === 'hang') {
      hung.add(res);
      res.once('close', () => hung.delete(res));
      return;
    }
    const url = req.url ?? '/';
    const queryAt = url.indexOf('?');
    const path = queryAt === -1 ? url : url.slice(0, queryAt);
    const query = new URLSearchParams(queryAt === -1 ? '' : url.slice(queryAt + 1));
    const reply = jsonReply(res);
    const only = (method: string, answer: () => void | Promise<void>) =>
      req.method === method
        ? answer()
        : reply(405, errorBody('method_not_allowed', `${path} accepts ${method}`), { allow: method });
    try {
      if (path === '/health') return only('GET', () => health(reply));
      if (path === '/metrics') {
        return only('GET', async () =>
          send(res, 200, await metrics.registry.metrics(), { 'content-type': metrics.registry.contentType }),
        );
      }
      if (path === '/admin/info') {
        return only('GET', () => {
          const fault = faults.current();
          reply(200, {
            service,
            replica,
            pid: process.pid,
            startedAt: new Date(startedAt).toISOString(),
            fault: fault ? viewFault(fault) : null,
          });
        });
      }
      if (path === '/admin/fault') {
        if (req.method !== 'POST' && req.method !== 'DELETE') {
          return reply(405, errorBody('method_not_allowed', `${path} accepts POST, DELETE`), {
            allow: 'POST, DELETE',
          });
        }
        return await adminFault(req, res, reply);
      }
      if (path.startsWith('/admin/')) return reply(404, errorBody('not_found', `no admin endpoint ${path}`));
      await domain(req, res, path, query);
    } catch (error) {
      if (error instanceof HttpError) return reply(error.status, errorBody(error.code, error.message));
      throw error;
    }
  }

  /**
   * Requests in progress per connection. Node's closeIdleConnections() misses a connection a client opened
   * but has not used yet, which would hold close() for the whole grace period; this count does not.
   */
  const requestsInProgress = new Map<Socket, number>();
  const server = createServer((req, res) => {
    const socket = req.socket;
    requestsInProgress.set(socket, (requestsInProgress.get(socket) ?? 0) + 1);
    res.once('close', () => {
      const inProgress = requestsInProgress.get(socket);
      // Absent once the connection itself has closed, which may come first.
      if (inProgress !== undefined) requestsInProgress.set(socket, inProgress - 1);
    });
    handle(req, res).catch((error: unknown) => {
      // A bug in a handler costs that one request, never the process.
      if (res.headersSent) res.destroy();
      else
        jsonReply(res)(
          500,
          errorBody('internal_error', error instanceof Error ? error.message : String(error)),
        );
    });
  });

  server.on('connection', (socket: Socket) => {
    requestsInProgress.set(socket, 0);
    socket.once('close', () => requestsInProgress.delete(socket));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? DEFAULT_HOST, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { address, port } = server.address() as AddressInfo;
  const host = address.includes(':') ? `[${address}]` : address;

  return {
    url: `http://${host}:${port}`,
    port,
    close() {
      closing ??= new Promise<void>((resolve) => {
        const force = setTimeout(() => server.closeAllConnections(), SHUTDOWN_GRACE_MS);
        server.close(() => {
          clearTimeout(force);
          resolve();
        });
        for (const res of hung) res.destroy();
        // Busy connections close after their response, which says `connection: close`.
        for (const [socket, inProgress] of requestsInProgress) if (inProgress === 0) socket.destroy();
      });
      return closing;
    },
  };
}
