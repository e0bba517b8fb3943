import net from 'node:net';
import { ConfigError, ErrorCode } from '../../bot/core/errors';
import { KeyedSerialQueue } from '../../bot/core/keyed-serial-queue';
import {
  DriverError,
  type PlatformDriver,
  type PlatformEvent,
  type ServiceStatus,
} from '../../bot/platform/platform-driver';
import { baseUrl, LocalReplica, type ReplicaState } from './local-replica';
import { RoundRobinProxy } from './round-robin-proxy';

const DEFAULT_HOST = '127.0.0.1';
const DEFAULT_HEALTH_PATH = '/health';
const HEALTH_INTERVAL_MS = 1_000;
/** A replica not ready this long after it was spawned is taken for one that never will be. */
const START_TIMEOUT_MS = 15_000;
/** Between SIGTERM and SIGKILL: time for a service to finish its requests and close what it holds. */
const STOP_GRACE_MS = 5_000;
const LOG_LINES = 200;
const EVENTS_KEPT = 100;
/**
 * How long a replica leaving the pool may go on serving the connections it has before it is stopped.
 * Short requests finish well within it; keep-alive clients could hold it for ever, and a rolling restart
 * waits on it once per replica.
 */
const DRAIN_TIMEOUT_MS = 2_000;
/** How many of a failed replica's last lines an error carries to the user. */
const OUTPUT_TAIL_LINES = 20;
/** The port the system handed out may already be promised to a replica still starting: pick again. */
const PORT_PICK_ATTEMPTS = 5;
/**
 * What replicas inherit from opsbot's environment: enough to find programs and behave (PATH, locale, home).
 * Nothing else: opsbot's tokens and keys are not theirs. A service needing more gets it in its spec's env.
 */
const INHERITED_ENV = ['PATH', 'HOME', 'USER', 'LANG', 'LC_ALL', 'TZ', 'TMPDIR'];

/** A service the local driver runs: its replicas are processes of `command`, behind one front port. */
export interface LocalServiceSpec {
  name: string;
  /** Program and arguments, spawned without a shell. Each replica reads the port to listen on from PORT. */
  command: readonly [string, ...string[]];
  /** The service's stable front port on the host, where it is reached whatever its replicas; 0 picks one. */
  port: number;
  /** Default 127.0.0.1: a demo fleet is no business of the network's. */
  host?: string;
  /** Default /health; a replica is ready once it answers 2xx there. */
  healthPath?: string;
  env?: Record<string, string>;
  cwd?: string;
  /** Replicas to start with; default 1. */
  replicas?: number;
}

export interface LocalDriverOptions {
  healthIntervalMs?: number;
  startTimeoutMs?: number;
  stopGraceMs?: number;
  /** Lines of output kept per service, for logs(). */
  logLines?: number;
  /** Events kept per service. */
  eventsKept?: number;
  now?: () => Date;
}

interface Service {
  spec: LocalServiceSpec;
  host: string;
  proxy: RoundRobinProxy;
  frontPort?: number;
  desired: number;
  /** Live replicas, plus those that exited on their own until the next restart or scale replaces them. */
  replicas: LocalReplica[];
  /** Never reused, so a replacement is told apart from the replica it replaced. */
  replicasSpawned: number;
  logs: string[];
  events: PlatformEvent[];
}

/**
 * Runs each service as supervised local processes behind a round-robin TCP front on its stable port: the
 * platform of opsbot's demo fleet on a laptop. Each replica listens on a port of its own, which
 * `replicaUrls` gives to whoever scrapes each one.
 *
 * The supervisor reports and never heals: a replica that exits stays 'exited', with an Exited event, and
 * is not restarted. Whether to restart is a decision — the maintenance controller runs the restart runbook
 * under policy, with its limits and approvals — and a supervisor restarting on its own would take that
 * decision away, hide a crash loop and make the failure the demo shows disappear by itself.
 */
export class LocalDriver implements PlatformDriver {
  readonly kind = 'local';
  private readonly services = new Map<string, Service>();
  private readonly healthIntervalMs: number;
  private readonly startTimeoutMs: number;
  private readonly stopGraceMs: number;
  private readonly logLines: number;
  private readonly eventsKept: number;
  private readonly now: () => Date;
  /** Ports handed to replicas that may not listen on them yet, so no two are given the same. */
  private readonly ports = new Set<number>();
  /** Each service's operations, one after the other. */
  private readonly operations = new KeyedSerialQueue();
  private phase: 'new' | 'started' | 'closed' = 'new';

  constructor(specs: LocalServiceSpec[], options: LocalDriverOptions = {}) {
    this.healthIntervalMs = options.healthIntervalMs ?? HEALTH_INTERVAL_MS;
    this.startTimeoutMs = options.startTimeoutMs ?? START_TIMEOUT_MS;
    this.stopGraceMs = options.stopGraceMs ?? STOP_GRACE_MS;
    this.logLines = options.logLines ?? LOG_LINES;
    this.eventsKept = options.eventsKept ?? EVENTS_KEPT;
    this.now = options.now ?? (() => new Date());
    for (const spec of specs) {
      if (this.services.has(spec.name))
        throw new ConfigError(`the local service ${spec.name} is listed twice`);
      const desired = spec.replicas ?? 1;
      if (!Number.isInteger(desired) || desired < 0) {
        throw new ConfigError(`the local service ${spec.name} asks for ${desired} replicas`);
      }
      // A host taken from a URL comes bracketed when it is IPv6 ("[::1]"); sockets want it bare.
      const host = (spec.host ?? DEFAULT_HOST).replace(/^\[(.*)\]$/, '$1');
      this.services.set(spec.name, {
        spec,
        host,
        proxy: new RoundRobinProxy(host, spec.port),
        desired,
        replicas: [],
        replicasSpawned: 0,
        logs: [],
        events: [],
      });
    }
  }

  /**
   * Opens every service's front, then starts the initial replicas, resolving once each is ready or failed
   * to start. A replica that fails is reported (a StartFailed event, its status) and the others go on: one
   * broken service should not keep the rest of the fleet down. A front that cannot listen (its port is
   * taken: another demo is running) fails the whole start, with nothing left running.
   */
  async start(): Promise<void> {
    if (this.phase !== 'new')
      throw new DriverError(ErrorCode.DriverFailed, 'the local driver was started before');
    this.phase = 'started';
    const services = [...this.services.values()];
    try {
      await Promise.all(services.map((service) => this.listen(service)));
    } catch (err) {
      this.phase = 'closed';
      await Promise.all(services.map((service) => service.proxy.close()));
      throw err;
    }
    await Promise.all(
      services.map((service) =>
        this.exclusive(service, async () => {
          await this.startReplicas(service, service.desired);
        }),
      ),
    );
  }

  /** Whether this driver runs `service`: the metrics scraper asks before reading its replicas. */
  manages(service: string): boolean {
    return this.services.has(service);
  }

  /** The service's front: where it is reached, whichever replicas serve. */
  frontUrl(service: string): string {
    const { host, frontPort, spec } = this.service(service);
    if (frontPort === undefined) {
      throw new DriverError(ErrorCode.DriverFailed, `the front of ${spec.name} is not listening`);
    }
    return baseUrl(host, frontPort);
  }

  /** Base URLs of the ready replicas, each reached directly rather than through the front. */
  replicaUrls(service: string): string[] {
    return this.service(service)
      .replicas.filter((replica) => replica.state === 'ready')
      .map((replica) => replica.url);
  }

  async list(): Promise<string[]> {
    return [...this.services.keys()].sort();
  }

  async status(service: string): Promise<ServiceStatus> {
    const { spec, desired, replicas } = this.service(service);
    const ready = replicas.filter((replica) => replica.state === 'ready').length;
    const status: ServiceStatus = {
      service: spec.name,
      state: desired === 0 || ready === 0 ? 'down' : ready >= desired ? 'running' : 'degraded',
      replicas: { desired, ready },
      instances: replicas.map((replica) => replica.instance()),
    };
    if (desired === 0) {
      status.detail = 'scaled to 0';
    } else if (ready < desired) {
      const others = replicas
        .filter((replica) => replica.state !== 'ready')
        .map((replica) => `${replica.id} ${replica.state}${replica.detail ? ` (${replica.detail})` : ''}`);
      status.detail = [`${ready} of ${desired} replicas ready`, ...others].join('; ');
    }
    return status;
  }

  /**
   * A rolling restart: each replica is replaced by a new one, which must be ready before the old one leaves
   * the pool, so a service that was serving never stops. Replicas that exited are replaced first, up to the
   * desired count. If a new replica does not become ready it is stopped, the one it was to replace keeps
   * serving, and the restart fails saying how far it got.
   */
  async restart(service: string): Promise<void> {
    const target = this.service(service);
    await this.exclusive(target, async () => {
      this.assertStarted();
      this.forgetExited(target);
      const previous = [...target.replicas];
      const missing = target.desired - previous.length;
      const done: string[] = [];
      if (missing > 0) {
        const failures = await this.startReplicas(target, missing);
        const [failure] = failures;
        if (failure) {
          for (const { replica } of failures) this.remove(target, replica);
          const kept = previous.length > 0 ? '; none of its running replicas was stopped' : '';
          throw new DriverError(
            codeOf(failure.error),
            `restarting ${target.spec.name}: ${failures.map((f) => f.error.message).join('; ')}${kept}`,
            failure.error.output,
          );
        }
        const added = target.replicas.filter((replica) => !previous.includes(replica));
        done.push(`started ${added.map((replica) => replica.id).join(', ')} in place of exited replicas`);
      }
      const replacements: string[] = [];
      for (const [replaced, old] of previous.entries()) {
        const replacement = await this.spawn(target);
        try {
          await this.untilReady(target, replacement);
        } catch (err) {
          this.remove(target, replacement);
          const error = err as DriverError;
          const progress =
            replaced === 0
              ? 'nothing was changed'
              : `${replaced} of its ${previous.length} replicas were already replaced`;
          throw new DriverError(
            codeOf(error),
            `restarting ${target.spec.name}: ${error.message}; ${old.id} keeps running, ${progress}`,
            error.output,
          );
        }
        replacements.push(replacement.id);
        await this.retire(target, old);
      }
      if (previous.length > 0) {
        const from = previous.map((replica) => replica.id).join(', ');
        done.push(`replaced ${from} with ${replacements.join(', ')}`);
      }
      if (done.length > 0) this.record(target, 'normal', 'Restarted', done.join('; '));
    });
  }

  /**
   * Sets the desired count, then starts the missing replicas together, or stops the excess. The count is
   * kept even when new replicas fail to start, as a Deployment keeps its spec: status then shows the
   * service degraded, with why, and the error says which failed.
   */
  async scale(service: string, replicas: number): Promise<void> {
    if (!Number.isInteger(replicas) || replicas < 0) {
      throw new DriverError(ErrorCode.DriverFailed, `replicas must be a whole number, not ${replicas}`);
    }
    const target = this.service(service);
    await this.exclusive(target, async () => {
      this.assertStarted();
      this.forgetExited(target);
      const from = target.desired;
      target.desired = replicas;
      if (from !== replicas) {
        this.record(target, 'normal', 'Scaled', `scaled from ${from} to ${replicas} replicas`);
      }
      const live = target.replicas.length;
      if (replicas > live) {
        const failures = await this.startReplicas(target, replicas - live);
        const [failure] = failures;
        if (failure) {
          throw new DriverError(
            codeOf(failure.error),
            `${failures.length} of ${replicas - live} new replicas of ${target.spec.name} did not start: ${failures
              .map((f) => f.error.message)
              .join('; ')}`,
            failure.error.output,
          );
        }
      } else if (replicas < live) {
        await Promise.all(
          this.excess(target, live - replicas).map((replica) => this.retire(target, replica)),
        );
      }
    });
  }

  async events(service: string, limit: number): Promise<PlatformEvent[]> {
    return lastOf(this.service(service).events, limit);
  }

  async logs(service: string, lines: number): Promise<string[]> {
    return lastOf(this.service(service).logs, lines);
  }

  /** Closes every front and stops every replica, SIGTERM then SIGKILL after the grace period. */
  async close(): Promise<void> {
    if (this.phase === 'closed') return;
    this.phase = 'closed';
    await Promise.all(
      [...this.services.values()].map(async (service) => {
        await service.proxy.close();
        await Promise.all(service.replicas.map((replica) => replica.stop(this.stopGraceMs)));
      }),
    );
  }

  private service(name: string): Service {
    const service = this.services.get(name);
    if (!service) {
      throw new DriverError(ErrorCode.DriverFailed, `the local driver does not run a service called ${name}`);
    }
    return service;
  }

  private assertStarted(): void {
    if (this.phase !== 'started') {
      throw new DriverError(
        ErrorCode.DriverFailed,
        this.phase === 'new' ? 'the local driver has not been started' : 'the local driver is closed',
      );
    }
  }

  /**
   * Runs `operation` after every operation queued before it on the same service. Callers lock too, but two
   * interleaved rolling restarts would each retire replicas the other is replacing: the driver must be safe
   * on its own.
   */
  private exclusive(service: Service, operation: () => Promise<void>): Promise<void> {
    return this.operations.run(service.spec.name, operation);
  }

  private async listen(service: Service): Promise<void> {
    try {
      service.frontPort = await service.proxy.listen();
    } catch (err) {
      const why = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      throw new DriverError(
        ErrorCode.DriverFailed,
        `the front of ${service.spec.name} cannot listen on ${baseUrl(service.host, service.spec.port)}: ${why}`,
      );
    }
  }

  /** Spawns `count` replicas and waits for all of them; the failures are returned, the replicas kept. */
  private async startReplicas(
    service: Service,
    count: number,
  ): Promise<{ replica: LocalReplica; error: DriverError }[]> {
    const started: LocalReplica[] = [];
    for (let i = 0; i < count; i++) started.push(await this.spawn(service));
    const outcomes = await Promise.all(
      started.map((replica) =>
        this.untilReady(service, replica).then(
          () => undefined,
          (error: DriverError) => ({ replica, error }),
        ),
      ),
    );
    return outcomes.filter((outcome) => outcome !== undefined);
  }

  private async spawn(service: Service): Promise<LocalReplica> {
    const port = await this.pickPort(service.host);
    if (this.phase === 'closed') {
      this.ports.delete(port);
      throw new DriverError(ErrorCode.DriverFailed, 'the local driver is closed');
    }
    const { spec } = service;
    const id = `${spec.name}-${++service.replicasSpawned}`;
    const inherited = INHERITED_ENV.flatMap((name) => {
      const value = process.env[name];
      return value === undefined ? [] : [[name, value] as const];
    });
    const replica = new LocalReplica({
      id,
      command: spec.command,
      host: service.host,
      port,
      healthPath: spec.healthPath ?? DEFAULT_HEALTH_PATH,
      env: {
        ...Object.fromEntries(inherited),
        ...spec.env,
        PORT: String(port),
        SERVICE_NAME: spec.name,
        REPLICA_ID: id,
      },
      cwd: spec.cwd,
      healthIntervalMs: this.healthIntervalMs,
      now: this.now,
      onLine: (line) => pushBounded(service.logs, line, this.logLines),
      onChange: (changed, previous) => this.changed(service, changed, previous),
    });
    service.replicas.push(replica);
    replica.start();
    if (replica.pid !== undefined) {
      this.record(service, 'normal', 'Started', `started ${id} (pid ${replica.pid}) on port ${port}`, id);
    }
    return replica;
  }

  /**
   * Waits until the replica is ready. One that exits first was reported by `changed`; one still not ready
   * after the start timeout is stopped here and reported, its detail saying why it was stopped.
   */
  private async untilReady(service: Service, replica: LocalReplica): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timed out'>((resolve) => {
      timer = setTimeout(() => resolve('timed out'), this.startTimeoutMs);
    });
    try {
      if ((await Promise.race([replica.ready.then(() => 'ready' as const), timedOut])) === 'ready') return;
    } catch (err) {
      throw new DriverError(ErrorCode.DriverFailed, (err as Error).message, this.outputOf(service, replica));
    } finally {
      clearTimeout(timer);
    }
    const late = `did not become ready in ${this.startTimeoutMs} ms`;
    const why = `${replica.id} ${late}${replica.lastHealthFailure ? ` (${replica.lastHealthFailure})` : ''}`;
    this.record(service, 'warning', 'StartFailed', why, replica.id);
    await replica.stop(this.stopGraceMs, `${late}; stopped`);
    throw new DriverError(ErrorCode.DriverTimeout, why, this.outputOf(service, replica));
  }

  /** Takes the replica out of the pool, lets its open connections finish, then stops it. */
  private async retire(service: Service, replica: LocalReplica): Promise<void> {
    this.remove(service, replica);
    await service.proxy.drained(replica.url, DRAIN_TIMEOUT_MS);
    await replica.stop(this.stopGraceMs);
  }

  private remove(service: Service, replica: LocalReplica): void {
    service.replicas = service.replicas.filter((kept) => kept !== replica);
    this.updatePool(service);
  }

  /** Exited replicas stay in status until an operation replaces them: that is how an operator sees a crash. */
  private forgetExited(service: Service): void {
    service.replicas = service.replicas.filter((replica) => replica.state !== 'exited');
  }

  /**
   * The replicas a scale-down stops: those not ready first, then the newest, as a ReplicaSet chooses. A
   * replica that has served longest has proven itself and has warm caches; stopping one that serves
   * nothing costs nothing.
   */
  private excess(service: Service, count: number): LocalReplica[] {
    const notReadyFirst = (replica: LocalReplica) => (replica.state === 'ready' ? 1 : 0);
    return [...service.replicas]
      .reverse()
      .sort((a, b) => notReadyFirst(a) - notReadyFirst(b))
      .slice(0, count);
  }

  private changed(service: Service, replica: LocalReplica, previous: ReplicaState): void {
    const { id, detail } = replica;
    if (replica.state === 'ready') {
      const message = previous === 'starting' ? `${id} is ready` : `${id} passes its health check again`;
      this.record(service, 'normal', 'Ready', message, id);
    } else if (replica.state === 'unhealthy') {
      this.record(service, 'warning', 'Unhealthy', `${id}: ${detail}`, id);
    } else if (replica.state === 'exited') {
      this.ports.delete(replica.port);
      // A replica the driver stopped exited as asked; only one that went by itself is news.
      if (!replica.stopping) {
        const reason = previous === 'starting' ? 'StartFailed' : 'Exited';
        this.record(service, 'warning', reason, `${id} ${detail}`, id);
      }
    }
    this.updatePool(service);
  }

  private updatePool(service: Service): void {
    service.proxy.setBackends(this.replicaUrls(service.spec.name));
  }

  private record(
    service: Service,
    type: PlatformEvent['type'],
    reason: string,
    message: string,
    instance?: string,
  ): void {
    const event: PlatformEvent = { time: this.now().toISOString(), type, reason, message };
    if (instance) event.instance = instance;
    pushBounded(service.events, event, this.eventsKept);
  }

  /** The replica's last lines, from the service's log: why it failed, for the user. */
  private outputOf(service: Service, replica: LocalReplica): string {
    const prefix = `[${replica.id}] `;
    return lastOf(
      service.logs.filter((line) => line.startsWith(prefix)),
      OUTPUT_TAIL_LINES,
    ).join('\n');
  }

  private async pickPort(host: string): Promise<number> {
    for (let attempt = 0; attempt < PORT_PICK_ATTEMPTS; attempt++) {
      const port = await freePort(host);
      if (!this.ports.has(port)) {
        this.ports.add(port);
        return port;
      }
    }
    throw new DriverError(ErrorCode.DriverFailed, `no free port could be found on ${host}`);
  }
}

/** A port nothing listens on now, as the system picks one for port 0. */
function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        new DriverError(
          ErrorCode.DriverFailed,
          `no port can be opened on ${host}: ${err.code ?? err.message}`,
        ),
      ),
    );
    server.listen(0, host, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** DriverError's code, narrowed back from the ErrorCode it is stored as. */
function codeOf(error: DriverError): ErrorCode.DriverFailed | ErrorCode.DriverTimeout {
  return error.code === ErrorCode.DriverTimeout ? ErrorCode.DriverTimeout : ErrorCode.DriverFailed;
}

function pushBounded<T>(items: T[], item: T, max: number): void {
  items.push(item);
  if (items.length > max) items.splice(0, items.length - max);
}

function lastOf<T>(items: readonly T[], count: number): T[] {
  return count > 0 ? items.slice(-count) : [];
}
