import { spawn } from 'node:child_process';
import { ConfigError, ErrorCode } from '../../bot/core/errors';
import {
  DriverError,
  type PlatformDriver,
  type PlatformEvent,
  type ServiceStatus,
} from '../../bot/platform/platform-driver';

/** A restart or a status check that takes longer than this is reported as stuck, and the command killed. */
const COMMAND_TIMEOUT_MS = 30_000;
/**
 * Output kept per stream: a command that prints a log dump keeps running, only its last bytes are kept (a
 * status line, an error), so a chatty deploy script is never stopped for what it prints.
 */
const KEPT_OUTPUT_BYTES = 64 * 1024;
/**
 * After the command itself exits, how long to wait for the rest of its output: a process it left running
 * in the background may hold the pipes open for good.
 */
const OUTPUT_DRAIN_MS = 100;
/** How much of a failed command's output reaches the user. */
const OUTPUT_TAIL = 500;

/**
 * One operation as the user configured it: the program and its arguments, with `{service}` and
 * `{replicas}` filled in per call. Each argument is passed to the program as is, never through a shell, so
 * nothing in a value can become a second command.
 */
export interface CommandSpec {
  argv: readonly [string, ...string[]];
  timeoutMs?: number;
}

export interface CommandDriverConfig {
  list?: CommandSpec;
  status?: CommandSpec;
  restart?: CommandSpec;
  scale?: CommandSpec;
  events?: CommandSpec;
  logs?: CommandSpec;
}

/** The placeholders each operation fills; any other `{name}` is a typo that would reach the program as is. */
const PLACEHOLDERS: Record<keyof CommandDriverConfig, readonly string[]> = {
  list: [],
  status: ['service'],
  restart: ['service'],
  scale: ['service', 'replicas'],
  events: ['service', 'limit'],
  logs: ['service', 'lines'],
};
const PLACEHOLDER = /\{(\w+)\}/g;

/** A command that ran to its end, whatever its exit; stdout and stderr are the kept tails. */
interface FinishedCommand {
  program: string;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Drives a platform through commands the team already uses (systemctl, nomad, a deploy script). The status
 * command either prints JSON `{"state", "desired", "ready", "detail"}`, which is believed whatever the exit
 * code (monitoring plugins print their finding and exit 2), or is judged by its exit code: 0 is running, any
 * other down. A status command that could not be started or was killed by a signal says nothing about the
 * service, so that is a DriverFailed error rather than "down".
 */
export class CommandDriver implements PlatformDriver {
  readonly kind = 'command';

  constructor(private readonly commands: CommandDriverConfig) {
    for (const [operation, allowed] of Object.entries(PLACEHOLDERS)) {
      for (const arg of commands[operation as keyof CommandDriverConfig]?.argv ?? []) {
        for (const [, name] of arg.matchAll(PLACEHOLDER)) {
          if (!allowed.includes(name as string)) {
            const fills =
              allowed.length === 0 ? 'fills none' : `fills ${allowed.map((a) => `{${a}}`).join(' and ')}`;
            throw new ConfigError(
              `the ${operation} command uses {${name}}, which is not a placeholder; ${operation} ${fills}`,
            );
          }
        }
      }
    }
  }

  /** Service names one per line, or a JSON array of them. */
  async list(): Promise<string[]> {
    const finished = await run(this.spec('list'), {});
    succeeded(finished);
    const stdout = finished.stdout.trim();
    if (stdout.startsWith('[')) {
      try {
        const parsed: unknown = JSON.parse(stdout);
        if (Array.isArray(parsed)) return parsed.filter((n): n is string => typeof n === 'string').sort();
      } catch {
        // Not JSON after all ("[warn] …"): it is read as lines.
      }
    }
    return lines(stdout).sort();
  }

  async status(service: string): Promise<ServiceStatus> {
    const finished = await run(this.spec('status'), { service });
    const stdout = finished.stdout.trim();
    if (stdout.startsWith('{')) return parseJsonStatus(service, stdout);
    if (finished.signal) throw failure(finished);
    if (finished.exitCode !== 0) {
      return { service, state: 'down', detail: outputTail(finished) || failure(finished).message };
    }
    return { service, state: 'running', ...(stdout ? { detail: tail(stdout) } : {}) };
  }

  async restart(service: string): Promise<void> {
    succeeded(await run(this.spec('restart'), { service }));
  }

  async scale(service: string, replicas: number): Promise<void> {
    if (!Number.isInteger(replicas) || replicas < 0) {
      throw new DriverError(ErrorCode.DriverFailed, `replicas must be a whole number, not ${replicas}`);
    }
    succeeded(await run(this.spec('scale'), { service, replicas: String(replicas) }));
  }

  /**
   * One event per line: JSON lines `{"time","type","reason","message"}`, or plain text lines, which become
   * events stamped with the time they were read.
   */
  async events(service: string, limit: number): Promise<PlatformEvent[]> {
    const finished = await run(this.spec('events'), { service, limit: String(limit) });
    succeeded(finished);
    const readAt = new Date().toISOString();
    return lastOf(lines(finished.stdout), limit).map((line) => parseEventLine(line, readAt));
  }

  async logs(service: string, count: number): Promise<string[]> {
    const finished = await run(this.spec('logs'), { service, lines: String(count) });
    succeeded(finished);
    return lastOf(lines(finished.stdout), count);
  }

  private spec(operation: keyof CommandDriverConfig): CommandSpec {
    const spec = this.commands[operation];
    if (!spec) {
      throw new DriverError(
        ErrorCode.DriverFailed,
        `no ${operation} command is configured for this platform`,
      );
    }
    return spec;
  }
}

/**
 * Runs the command in a process group of its own, so a timeout kills what it started too (a script's
 * children would otherwise go on restarting things after opsbot reported it stuck). Rejects with
 * DriverTimeout on timeout and DriverFailed when the program cannot be started; any exit resolves.
 */
function run(spec: CommandSpec, values: Record<string, string>): Promise<FinishedCommand> {
  const [program, ...args] = spec.argv.map((arg) =>
    arg.replace(PLACEHOLDER, (_, name: string) => values[name] as string),
  ) as [string, ...string[]];
  const timeout = spec.timeoutMs ?? COMMAND_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, {
      shell: false,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      windowsHide: true,
    });
    const stdout = new OutputTail();
    const stderr = new OutputTail();
    child.stdout.on('data', (chunk: Buffer) => stdout.add(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.add(chunk));

    let settled = false;
    let drainTimer: NodeJS.Timeout | undefined;
    const settle = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timeoutTimer);
      clearTimeout(drainTimer);
      child.stdout.destroy();
      child.stderr.destroy();
      outcome();
    };
    const timeoutTimer = setTimeout(() => {
      killGroup(child.pid);
      settle(() =>
        reject(
          new DriverError(
            ErrorCode.DriverTimeout,
            `${program} did not finish in ${timeout} ms`,
            outputTail({ stdout: stdout.text(), stderr: stderr.text() }),
          ),
        ),
      );
    }, timeout);

    child.on('error', (err: NodeJS.ErrnoException) => {
      const why =
        err.code === 'ENOENT' ? 'was not found' : `could not be started (${err.code ?? err.message})`;
      settle(() => reject(new DriverError(ErrorCode.DriverFailed, `${program} ${why}`)));
    });
    child.on('exit', (exitCode, signal) => {
      // What it left running in the background is no longer this command's: no timeout kills it now.
      clearTimeout(timeoutTimer);
      const finish = () =>
        settle(() => resolve({ program, exitCode, signal, stdout: stdout.text(), stderr: stderr.text() }));
      child.on('close', finish);
      drainTimer = setTimeout(finish, OUTPUT_DRAIN_MS);
    });
  });
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // The group is already gone: nothing left to stop.
  }
}

/** The last KEPT_OUTPUT_BYTES of a stream. */
class OutputTail {
  private kept = Buffer.alloc(0);

  add(chunk: Buffer): void {
    const joined = Buffer.concat([this.kept, chunk]);
    this.kept = joined.length > KEPT_OUTPUT_BYTES ? joined.subarray(-KEPT_OUTPUT_BYTES) : joined;
  }

  text(): string {
    return this.kept.toString('utf8');
  }
}

function succeeded(finished: FinishedCommand): void {
  if (finished.exitCode !== 0) throw failure(finished);
}

function failure(finished: FinishedCommand): DriverError {
  const why = finished.signal ? `was killed by ${finished.signal}` : `exited with code ${finished.exitCode}`;
  return new DriverError(ErrorCode.DriverFailed, `${finished.program} ${why}`, outputTail(finished));
}

/** Stderr last, so the error a command ends on is what a long stdout cannot push out of the tail. */
function outputTail({ stdout, stderr }: { stdout: string; stderr: string }): string {
  return tail([stdout.trim(), stderr.trim()].filter(Boolean).join('\n'));
}

function parseJsonStatus(service: string, text: string): ServiceStatus {
  let parsed: { state?: unknown; desired?: unknown; ready?: unknown; detail?: unknown };
  try {
    parsed = JSON.parse(text) as typeof parsed;
  } catch {
    return { service, state: 'unknown', detail: 'the status command printed JSON that does not parse' };
  }
  const states = ['running', 'degraded', 'down', 'unknown'] as const;
  const state = states.find((s) => s === parsed.state) ?? 'unknown';
  const status: ServiceStatus = { service, state };
  if (Number.isInteger(parsed.desired) && Number.isInteger(parsed.ready)) {
    status.replicas = { desired: parsed.desired as number, ready: parsed.ready as number };
  }
  if (typeof parsed.detail === 'string') status.detail = tail(parsed.detail);
  return status;
}

function parseEventLine(line: string, readAt: string): PlatformEvent {
  if (line.startsWith('{')) {
    try {
      const parsed = JSON.parse(line) as Record<string, unknown>;
      return {
        time: typeof parsed.time === 'string' ? parsed.time : readAt,
        type: parsed.type === 'warning' || parsed.type === 'Warning' ? 'warning' : 'normal',
        reason: typeof parsed.reason === 'string' ? parsed.reason : 'Output',
        message: typeof parsed.message === 'string' ? tail(parsed.message) : tail(line),
      };
    } catch {
      // Not JSON after all: it is reported as the text it is.
    }
  }
  return { time: readAt, type: 'normal', reason: 'Output', message: tail(line) };
}

function lines(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.trimEnd())
    .filter((l) => l.trim() !== '');
}

/** The last `count` items; none for 0, where `slice(-0)` would give them all. */
function lastOf<T>(items: readonly T[], count: number): T[] {
  return count > 0 ? items.slice(-count) : [];
}

const tail = (text: string) => (text.length > OUTPUT_TAIL ? `…${text.slice(-OUTPUT_TAIL)}` : text);
