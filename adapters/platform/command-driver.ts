import { execFile } from 'node:child_process';
import { ErrorCode } from '../../bot/core/errors';
import { DriverError, type PlatformDriver, type ServiceStatus } from '../../bot/platform/platform-driver';

/** A restart or a status check that takes longer than this is reported as stuck, and the command killed. */
export const COMMAND_TIMEOUT_MS = 30_000;
/** Enough for a status line or an error; a command that prints a log dump is cut, not buffered whole. */
const MAX_OUTPUT_BYTES = 64 * 1024;
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
  status?: CommandSpec;
  restart?: CommandSpec;
  scale?: CommandSpec;
}

/**
 * Drives a platform through commands the team already uses (systemctl, nomad, a deploy script). The status
 * command either prints JSON `{"state", "desired", "ready", "detail"}` or is judged by its exit code: 0 is
 * running, anything else down.
 */
export class CommandDriver implements PlatformDriver {
  readonly kind = 'command';

  constructor(private readonly commands: CommandDriverConfig) {}

  async status(service: string): Promise<ServiceStatus> {
    const spec = this.spec('status');
    try {
      const stdout = await run(spec, { service });
      return parseStatus(service, stdout);
    } catch (err) {
      if (err instanceof DriverError && err.code === ErrorCode.DriverFailed) {
        return { service, state: 'down', detail: err.output || err.message };
      }
      throw err;
    }
  }

  async restart(service: string): Promise<void> {
    await run(this.spec('restart'), { service });
  }

  async scale(service: string, replicas: number): Promise<void> {
    if (!Number.isInteger(replicas) || replicas < 0) {
      throw new DriverError(ErrorCode.DriverFailed, `replicas must be a whole number, not ${replicas}`);
    }
    await run(this.spec('scale'), { service, replicas: String(replicas) });
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

function run(spec: CommandSpec, values: Record<string, string>): Promise<string> {
  const [program, ...args] = spec.argv.map((arg) =>
    arg.replace(/\{(\w+)\}/g, (whole, name: string) => values[name] ?? whole),
  ) as [string, ...string[]];
  const timeout = spec.timeoutMs ?? COMMAND_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    execFile(
      program,
      args,
      { shell: false, timeout, killSignal: 'SIGKILL', maxBuffer: MAX_OUTPUT_BYTES, windowsHide: true },
      (err, stdout, stderr) => {
        if (!err) return resolve(stdout);
        const output = tail(`${stderr}${stdout}`.trim());
        const e = err as NodeJS.ErrnoException & { killed?: boolean; code?: number | string };
        if (e.killed && e.code !== 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER') {
          return reject(
            new DriverError(ErrorCode.DriverTimeout, `${program} did not finish in ${timeout} ms`, output),
          );
        }
        const why =
          typeof e.code === 'number'
            ? `exited with code ${e.code}`
            : e.code === 'ENOENT'
              ? 'was not found'
              : (e.code ?? e.message);
        reject(new DriverError(ErrorCode.DriverFailed, `${program} ${why}`, output));
      },
    );
  });
}

function parseStatus(service: string, stdout: string): ServiceStatus {
  const text = stdout.trim();
  if (!text.startsWith('{')) return { service, state: 'running', ...(text ? { detail: tail(text) } : {}) };
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

const tail = (text: string) => (text.length > OUTPUT_TAIL ? `…${text.slice(-OUTPUT_TAIL)}` : text);
