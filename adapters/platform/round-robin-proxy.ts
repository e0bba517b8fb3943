import net from 'node:net';

/**
 * How long a backend may take to accept a connection before the next one is tried. Locally a backend
 * accepts or refuses at once; one that does neither (a stopped process with a full backlog) must not hold
 * the client until the kernel's own timeout, minutes later.
 */
const CONNECT_TIMEOUT_MS = 2_000;

interface Backend {
  host: string;
  port: number;
  /** host:port, how connections are counted per backend. */
  key: string;
}

/**
 * A TCP front for a service's replicas: each accepted connection is piped to the next backend of the pool,
 * round-robin. Balancing is per connection, not per request, as kube-proxy balances a Kubernetes Service:
 * a keep-alive client stays on one replica for as long as it keeps its connection, and only new
 * connections see a changed pool. That keeps the proxy a byte pipe, which speaks any protocol and never
 * buffers or rewrites a request.
 */
export class RoundRobinProxy {
  private readonly server: net.Server;
  private backends: Backend[] = [];
  private cursor = 0;
  private readonly clients = new Set<net.Socket>();
  /** Connections open or being opened, per backend key. */
  private readonly open = new Map<string, number>();
  private readonly drainWaiters = new Map<string, Set<() => void>>();

  constructor(
    private readonly host: string,
    private readonly port: number,
  ) {
    this.server = net.createServer((client) => this.accept(client));
  }

  /** The pool new connections are spread over: base URLs ("http://127.0.0.1:4100") or "host:port". */
  setBackends(backends: readonly string[]): void {
    this.backends = backends.map(parseBackend);
  }

  /** Resolves with the port it listens on: the one it was given, or the one the system chose for 0. */
  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.port, this.host, () => {
        this.server.off('error', reject);
        resolve((this.server.address() as net.AddressInfo).port);
      });
    });
  }

  /**
   * Resolves once no connection to `backend` is open, or after `timeoutMs`: a replica leaving the pool
   * finishes the requests it already has before it is told to stop. The timeout bounds the wait for
   * keep-alive clients, which would otherwise hold it for as long as they like.
   */
  drained(backend: string, timeoutMs: number): Promise<void> {
    const { key } = parseBackend(backend);
    if (!this.open.get(key)) return Promise.resolve();
    return new Promise((resolve) => {
      const waiters = this.drainWaiters.get(key) ?? new Set<() => void>();
      this.drainWaiters.set(key, waiters);
      const done = () => {
        clearTimeout(timer);
        waiters.delete(done);
        if (waiters.size === 0) this.drainWaiters.delete(key);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      waiters.add(done);
    });
  }

  /** Stops accepting and cuts every open connection, so closing never waits on a client. */
  close(): Promise<void> {
    for (const client of this.clients) client.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: net.Socket): void {
    const pool = this.backends;
    if (pool.length === 0) {
      // A reset tells the client at once that nothing serves here; holding the connection would only make
      // it wait out its own timeout.
      client.resetAndDestroy();
      return;
    }
    this.clients.add(client);
    let upstream: net.Socket | undefined;
    // A client's error is its own business; 'close' follows it and tidies up.
    client.on('error', () => undefined);
    client.on('close', () => {
      this.clients.delete(client);
      upstream?.destroy();
    });

    const first = this.cursor++ % pool.length;
    // Each backend is tried once, from the next in turn: a replica that just died can still be in the pool
    // (its exit not yet noticed, or a process alive whose listener is gone until its next health check),
    // and its refusal should cost the client nothing.
    const connect = (attempt: number): void => {
      const backend = pool[(first + attempt) % pool.length] as Backend;
      const socket = net.connect({ host: backend.host, port: backend.port });
      upstream = socket;
      this.opened(backend.key);
      let connected = false;
      socket.setTimeout(CONNECT_TIMEOUT_MS, () => socket.destroy(new Error('connect timed out')));
      socket.once('connect', () => {
        connected = true;
        socket.setTimeout(0);
        client.pipe(socket);
        socket.pipe(client);
      });
      socket.on('error', () => {
        // Once bytes flowed, the request cannot be replayed elsewhere: the client must see the failure.
        if (connected) client.resetAndDestroy();
      });
      socket.once('close', () => {
        this.closed(backend.key);
        if (connected) {
          if (!client.destroyed) client.end();
        } else if (!client.destroyed) {
          if (attempt + 1 < pool.length) connect(attempt + 1);
          else client.resetAndDestroy();
        }
      });
    };
    connect(0);
  }

  private opened(key: string): void {
    this.open.set(key, (this.open.get(key) ?? 0) + 1);
  }

  private closed(key: string): void {
    const left = (this.open.get(key) ?? 1) - 1;
    if (left > 0) {
      this.open.set(key, left);
      return;
    }
    this.open.delete(key);
    for (const done of this.drainWaiters.get(key) ?? []) done();
  }
}

const DEFAULT_PORTS: Record<string, string> = { 'http:': '80', 'https:': '443' };

function parseBackend(address: string): Backend {
  const url = new URL(address.includes('://') ? address : `tcp://${address}`);
  const port = Number(url.port || DEFAULT_PORTS[url.protocol]);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (!host || !Number.isInteger(port) || port <= 0) throw new TypeError(`not a backend address: ${address}`);
  return { host, port, key: `${host}:${port}` };
}
