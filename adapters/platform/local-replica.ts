import { spawn } from 'node:child_process';
import http from 'node:http';
import type { Readable } from 'node:stream';
import type { ServiceInstance } from '../../bot/platform/platform-driver';

/** A health check slower than this failed: a replica that slow to say it is fine is not serving. */
const HEALTH_TIMEOUT_MS = 800;
/**
 * A starting replica is checked at least this often, whatever the health interval: a rolling restart waits
 * on each new replica's readiness, and one that is up should not sit out a whole interval unused.
 */
const STARTING_CHECK_MS = 200;
/** A line kept of a replica's output is cut here, so one that prints without newlines cannot grow it. */
const MAX_LINE_CHARS = 4_096;

export type ReplicaState = ServiceInstance['state'];

export interface ReplicaOptions {
  id: string;
  command: readonly [string, ...string[]];
  /** Where the replica was told to listen (its PORT); its health is checked there. */
  host: string;
  port: number;
  healthPath: string;
  /** The replica's whole environment: nothing of opsbot's own is added to it. */
  env: Record<string, string>;
  cwd?: string;
  healthIntervalMs: number;
  now: () => Date;
  /** Each line it prints on stdout or stderr, prefixed with its id. */
  onLine: (line: string) => void;
  /** Called after each change of `state`. */
  onChange: (replica: LocalReplica, previous: ReplicaState) => void;
}

/**
 * Process groups of replicas still running, killed when this process exits. An exit handler may only do
 * synchronous work, which a SIGKILL to each group is; it covers process.exit() and a normal end (a jest
 * worker's), so a test run or a demo that forgot close() leaves no service listening on the laptop.
 */
const liveGroups = new Set<number>();
let exitHandlerInstalled = false;

/**
 * One supervised process of a service. It is spawned in a process group of its own, so stopping it also
 * stops whatever it started (an `npm run` wrapper's node, a shell's children), and is health-checked over
 * HTTP: 'starting' until its health URL answers 2xx, then 'ready'; a ready one that fails a check is
 * 'unhealthy' until it passes again; 'exited' once its process is gone, for good.
 */
export class LocalReplica {
  readonly id: string;
  readonly port: number;
  readonly url: string;
  readonly startedAt: Date;
  state: ReplicaState = 'starting';
  detail?: string;
  pid?: number;
  /** Set once the driver stops it on purpose: its exit is then no news. */
  stopping = false;
  /** Why the last health check failed, for a replica that never became ready. */
  lastHealthFailure?: string;
  /** Resolves when it first becomes ready; rejects, saying why, if it exits before. */
  readonly ready: Promise<void>;
  private readonly exited: Promise<void>;
  private resolveReady!: () => void;
  private rejectReady!: (err: Error) => void;
  private resolveExited!: () => void;
  private checkTimer?: NodeJS.Timeout;
  private stopReason?: string;

  constructor(private readonly options: ReplicaOptions) {
    this.id = options.id;
    this.port = options.port;
    this.url = baseUrl(options.host, options.port);
    this.startedAt = options.now();
    this.ready = new Promise((resolve, reject) => {
      this.resolveReady = resolve;
      this.rejectReady = reject;
    });
    // Once the driver stopped waiting (the start timed out), nobody listens: a late rejection is no crash.
    this.ready.catch(() => undefined);
    this.exited = new Promise((resolve) => (this.resolveExited = resolve));
  }

  start(): void {
    const [program, ...args] = this.options.command;
    const child = spawn(program, args, {
      shell: false,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      windowsHide: true,
      env: this.options.env,
      ...(this.options.cwd ? { cwd: this.options.cwd } : {}),
    });
    const print = (line: string) => this.options.onLine(`[${this.id}] ${line}`);
    forEachLine(child.stdout, print);
    forEachLine(child.stderr, print);
    child.once('error', (err: NodeJS.ErrnoException) =>
      this.exit(`could not be started: ${err.code === 'ENOENT' ? `${program} was not found` : err.message}`),
    );
    child.once('exit', (code, signal) =>
      this.exit(code === null ? `was killed by ${signal}` : `exited with code ${code}`),
    );
    if (child.pid === undefined) return;
    this.pid = child.pid;
    liveGroups.add(child.pid);
    if (!exitHandlerInstalled) {
      process.on('exit', () => liveGroups.forEach((group) => signalGroup(group, 'SIGKILL')));
      exitHandlerInstalled = true;
    }
    this.scheduleCheck();
  }

  /**
   * SIGTERM to its group, SIGKILL after `graceMs`; resolves once it exited. `reason` becomes its detail,
   * for one stopped because it never became ready.
   */
  async stop(graceMs: number, reason?: string): Promise<void> {
    this.stopping = true;
    this.stopReason = reason;
    clearTimeout(this.checkTimer);
    if (this.state === 'exited') return;
    const pid = this.pid;
    let kill: NodeJS.Timeout | undefined;
    if (pid !== undefined) {
      signalGroup(pid, 'SIGTERM');
      kill = setTimeout(() => signalGroup(pid, 'SIGKILL'), graceMs);
    }
    // A process that failed to spawn has no pid, and its 'error' is on its way.
    await this.exited;
    clearTimeout(kill);
  }

  instance(): ServiceInstance {
    return {
      id: this.id,
      state: this.state,
      pid: this.pid,
      url: this.url,
      startedAt: this.startedAt.toISOString(),
      // A process is never restarted in place: a restart replaces it with a new instance, as a rollout
      // replaces pods, so, as for a fresh pod, its count stays 0.
      restarts: 0,
      detail: this.detail,
    };
  }

  private scheduleCheck(): void {
    const interval =
      this.state === 'starting'
        ? Math.min(this.options.healthIntervalMs, STARTING_CHECK_MS)
        : this.options.healthIntervalMs;
    this.checkTimer = setTimeout(() => void this.check(), interval);
  }

  private async check(): Promise<void> {
    const failure = await probe(`${this.url}${this.options.healthPath}`);
    if (this.stopping || this.state === 'exited') return;
    if (failure === undefined) {
      this.lastHealthFailure = undefined;
      this.become('ready', undefined);
      this.resolveReady();
    } else {
      this.lastHealthFailure = failure;
      // A starting replica failing its check is only not up yet; a ready one failing has a problem.
      if (this.state !== 'starting') this.become('unhealthy', failure);
    }
    this.scheduleCheck();
  }

  private become(state: ReplicaState, detail: string | undefined): void {
    const previous = this.state;
    this.detail = detail;
    if (previous === state) return;
    this.state = state;
    this.options.onChange(this, previous);
  }

  private exit(why: string): void {
    if (this.state === 'exited') return;
    clearTimeout(this.checkTimer);
    if (this.pid !== undefined) {
      // What it started in its group does not outlive it: a leftover child could hold its port or go on
      // writing to its files.
      signalGroup(this.pid, 'SIGKILL');
      liveGroups.delete(this.pid);
    }
    this.rejectReady(new Error(`${this.id} ${why}${this.pid === undefined ? '' : ' before it was ready'}`));
    this.resolveExited();
    this.become('exited', this.stopReason ?? why);
  }
}

export function baseUrl(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // The group is already gone: nothing left to signal.
  }
}

/** Resolves with why the health check failed, or undefined when it answered 2xx. */
function probe(url: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    let settled = false;
    const settle = (failure: string | undefined) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(failure);
    };
    const request = http.get(url, { agent: false }, (response) => {
      const status = response.statusCode ?? 0;
      response.on('error', () => settle(`health check broke off after status ${status}`));
      response.on('end', () =>
        settle(status >= 200 && status < 300 ? undefined : `health check answered ${status}`),
      );
      response.resume();
    });
    request.on('error', (err: NodeJS.ErrnoException) =>
      settle(`health check failed: ${err.code ?? err.message}`),
    );
    const timer = setTimeout(() => {
      settle(`health check took longer than ${HEALTH_TIMEOUT_MS} ms`);
      request.destroy();
    }, HEALTH_TIMEOUT_MS);
  });
}

function forEachLine(stream: Readable, onLine: (line: string) => void): void {
  const keep = (line: string) =>
    onLine(line.length > MAX_LINE_CHARS ? `${line.slice(0, MAX_LINE_CHARS)}…` : line);
  let pending = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    const lines = (pending + chunk).split(/\r?\n/);
    pending = lines.pop() ?? '';
    lines.forEach(keep);
    if (pending.length > MAX_LINE_CHARS) {
      keep(pending);
      pending = '';
    }
  });
  stream.on('end', () => {
    if (pending) keep(pending);
  });
}
