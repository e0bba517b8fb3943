/** What the benches share: the machine line, figures, progress, an opsbot server process. */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { packageRoot } from '../bot/core/package-root';

/** How long a started server may take to answer /readyz. */
const SERVER_READY_TIMEOUT_MS = 10_000;

export function machineLine(): string {
  return `${cpus().length} cores, ${cpus()[0]?.model ?? 'unknown CPU'}, node ${process.version}`;
}

/** Nearest-rank percentile of ascending values. */
export function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;
}

export function median(values: readonly number[]): number {
  return percentile(
    [...values].sort((a, b) => a - b),
    50,
  );
}

export function mean(values: readonly number[]): number {
  return values.length === 0 ? NaN : values.reduce((a, b) => a + b, 0) / values.length;
}

export function elapsedMs(start: number): number {
  return performance.now() - start;
}

/** A fresh folder under the OS temp dir, and the function that removes it. */
export function tempDir(prefix: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** One self-overwriting progress line on stderr, only when stderr is a terminal (never in logs or CI). */
export function progressLine(): { update: (text: string) => void; done: () => void } {
  const tty = process.stderr.isTTY === true;
  let shown = false;
  let last = 0;
  return {
    update: (text) => {
      if (!tty) return;
      const now = performance.now();
      if (now - last < 100) return;
      last = now;
      process.stderr.write(`\r\x1b[K${text}`);
      shown = true;
    },
    done: () => {
      if (shown) process.stderr.write('\r\x1b[K');
      shown = false;
    },
  };
}

/**
 * Peak resident memory: sampled every 50 ms while the event loop turns, and the kernel's own high-water mark
 * (getrusage maxrss), which also sees the peaks inside long synchronous steps.
 */
export class MemoryPeak {
  private peak = 0;
  private readonly timer: NodeJS.Timeout;

  constructor() {
    this.timer = setInterval(() => this.sample(), 50);
    this.timer.unref();
    this.sample();
  }

  sample(): void {
    this.peak = Math.max(this.peak, process.memoryUsage.rss());
  }

  /** Bytes. */
  stop(): number {
    clearInterval(this.timer);
    this.sample();
    return Math.max(this.peak, process.resourceUsage().maxRSS * 1024);
  }
}

export const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(0)} MB`;
export const ms = (value: number, digits = 2): string => `${value.toFixed(digits)} ms`;
export const seconds = (value: number): string => `${value.toFixed(1)} s`;

/** A loopback port nothing listens on: bound, noted, released (tests/support has its own; bench cannot import tests). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** The demo configuration as data: any section may be replaced; policy.users is there to add to. */
export type ServerConfig = Record<string, unknown> & { policy: { users: Record<string, string[]> } };

/** A running `opsbot serve`. */
export interface OpsbotServer {
  url: string;
  /** CPU time (user + system, all threads) the server has used so far, in milliseconds, from its /metrics. */
  cpuMs(): Promise<number>;
  /** Ends the server and then removes its folder: the config with its keys, its state and index. */
  stop(): Promise<void>;
}

/**
 * `opsbot serve` in a process of its own, as users run it, on the shipped demo configuration changed by
 * `adjust`; resolves once /readyz answers. `nodeArgs` go to node itself (e.g. --cpu-prof).
 */
export async function startOpsbotServer(
  adjust: (config: ServerConfig, dir: string) => void,
  nodeArgs: string[] = [],
): Promise<OpsbotServer> {
  const root = packageRoot();
  const config = parse(readFileSync(path.join(root, 'opsbot.config.yaml'), 'utf8')) as ServerConfig;
  const { dir, remove } = tempDir('opsbot-bench-');
  // No demo fleet unless the bench asks for one: its processes and load would share the cores being measured.
  config.demo = { enabled: false };
  adjust(config, dir);
  writeFileSync(path.join(dir, 'opsbot.config.yaml'), stringify(config));
  const port = await freePort();
  const server = spawn(
    process.execPath,
    [...nodeArgs, path.join(root, 'bin', 'opsbot.js'), 'serve', '--port', String(port)],
    {
      env: { ...process.env, OPSBOT_CONFIG: path.join(dir, 'opsbot.config.yaml') },
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  const exited = new Promise<void>((resolve) => server.once('exit', () => resolve()));
  const hasExited = () => server.exitCode !== null || server.signalCode !== null;
  const url = `http://127.0.0.1:${port}`;
  // The folder goes once the server is gone, not at the signal: it still writes its state while stopping.
  const stop = async () => {
    if (!hasExited()) server.kill('SIGTERM');
    await exited;
    remove();
  };
  const deadline = performance.now() + SERVER_READY_TIMEOUT_MS;
  while (
    !(await fetch(`${url}/readyz`).then(
      (r) => r.ok,
      () => false,
    ))
  ) {
    if (hasExited()) {
      await stop();
      throw new Error(
        `the server exited before it was ready (${server.signalCode ?? `code ${server.exitCode}`})`,
      );
    }
    if (performance.now() > deadline) {
      await stop();
      throw new Error(`the server did not become ready in ${SERVER_READY_TIMEOUT_MS / 1000} s`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { url, cpuMs: () => serverCpuMs(url), stop };
}

async function serverCpuMs(url: string): Promise<number> {
  const response = await fetch(`${url}/metrics`);
  const metrics = await response.text();
  const seconds = /^opsbot_process_cpu_seconds_total (\S+)$/m.exec(metrics)?.[1];
  if (!response.ok || seconds === undefined) {
    throw new Error(
      `the server's /metrics has no opsbot_process_cpu_seconds_total (HTTP ${response.status})`,
    );
  }
  return Number(seconds) * 1000;
}
