import { spawn } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { PermanentActionError, type Action, type ActionContext } from '../action';

/** Each of stdout and stderr keeps its last this many bytes: the end of a script's output says how it went. */
export const MAX_SHELL_OUTPUT_BYTES = 64 * 1024;
/** The lines of stderr a failure's message carries. */
const ERROR_TAIL_LINES = 10;
/** Between SIGTERM and SIGKILL when a command is stopped: time to clean up, not to finish. */
const KILL_GRACE_MS = 2_000;
/**
 * What a command inherits from opsbot's environment: enough to find programs and behave (as the local
 * driver's replicas get). Nothing else: opsbot's tokens and keys are not the command's.
 */
const INHERITED_ENV = ['PATH', 'HOME', 'USER', 'LANG', 'LC_ALL', 'TZ', 'TMPDIR'];

export interface ShellSettings {
  enabled: boolean;
  /** Executables allowed, compared with `command` as written: absolute paths, or names looked up on PATH. */
  allow: readonly string[];
}

export interface ShellInputs {
  command: string;
  args?: string[];
  cwd?: string;
  timeoutSeconds?: number;
}

export interface ShellOutput {
  exitCode: 0;
  stdout: string;
  stderr: string;
  /** Set when either stream was longer than {@link MAX_SHELL_OUTPUT_BYTES} and only its end was kept. */
  truncated?: true;
}

/**
 * Runs an allow-listed program with arguments, never through a shell: an argument is one argv entry,
 * whatever `$(…)`, `;` or `*` it holds. Refused unless orchestrator.shell.enabled is set and the program is
 * in orchestrator.shell.allow. A non-zero exit fails the attempt with the end of stderr. What a command did
 * cannot be known after a crash, so a resumed run never runs it again (`never`): it compensates instead.
 * The command gets OPSBOT_RUN_ID, OPSBOT_STEP_ID and OPSBOT_IDEMPOTENCY_KEY to deduplicate on if it can.
 */
export function createShellAction(settings: ShellSettings): Action<ShellInputs, ShellOutput> {
  return {
    name: 'shell',
    summary:
      'Run an allow-listed program with arguments, without a shell (off unless orchestrator.shell is enabled)',
    inputSchema: {
      type: 'object',
      properties: {
        command: { type: 'string', minLength: 1 },
        args: { type: 'array', items: { type: 'string' } },
        cwd: { type: 'string', minLength: 1 },
        timeoutSeconds: { type: 'number', exclusiveMinimum: 0, maximum: 86_400 },
      },
      required: ['command'],
      additionalProperties: false,
    },
    mutating: true,
    resume: 'never',
    describe(inputs) {
      return { summary: ['run', inputs.command, ...(inputs.args ?? [])].join(' '), services: [] };
    },
    async execute(inputs, ctx) {
      if (!settings.enabled) {
        throw new PermanentActionError(
          'the shell action is disabled: set orchestrator.shell.enabled and list the programs in orchestrator.shell.allow',
        );
      }
      if (!settings.allow.includes(inputs.command)) {
        const allowed = settings.allow.length > 0 ? settings.allow.join(', ') : 'nothing';
        throw new PermanentActionError(
          `${inputs.command} is not in orchestrator.shell.allow (it allows ${allowed})`,
        );
      }
      if (inputs.cwd !== undefined) await checkDirectory(inputs.cwd);
      return run(inputs, ctx);
    },
  };
}

async function checkDirectory(cwd: string): Promise<void> {
  const found = await stat(cwd).catch(() => undefined);
  if (!found?.isDirectory()) throw new PermanentActionError(`the working directory ${cwd} does not exist`);
}

function run(inputs: ShellInputs, ctx: ActionContext): Promise<ShellOutput> {
  ctx.signal.throwIfAborted();
  const env: Record<string, string> = {
    OPSBOT_RUN_ID: ctx.run.id,
    OPSBOT_STEP_ID: ctx.stepId,
    OPSBOT_IDEMPOTENCY_KEY: ctx.idempotencyKey,
  };
  for (const name of INHERITED_ENV) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  const child = spawn(inputs.command, inputs.args ?? [], {
    cwd: inputs.cwd,
    env,
    shell: false,
    stdio: ['ignore', 'pipe', 'pipe'],
    // A group of its own, so stopping it stops what it started too (and their hold on its pipes).
    detached: true,
  });
  const stdout = new OutputTail();
  const stderr = new OutputTail();
  child.stdout.on('data', (chunk: Buffer) => stdout.add(chunk));
  child.stderr.on('data', (chunk: Buffer) => stderr.add(chunk));

  let stopped: 'aborted' | 'timed out' | undefined;
  let killTimer: NodeJS.Timeout | undefined;
  const stop = (why: 'aborted' | 'timed out') => {
    if (stopped || child.pid === undefined) return;
    stopped = why;
    signalGroup(child.pid, 'SIGTERM');
    killTimer = setTimeout(() => signalGroup(child.pid as number, 'SIGKILL'), KILL_GRACE_MS);
  };
  const onAbort = () => stop('aborted');
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  const timeout =
    inputs.timeoutSeconds === undefined
      ? undefined
      : setTimeout(() => stop('timed out'), inputs.timeoutSeconds * 1000);

  return new Promise<ShellOutput>((resolve, reject) => {
    const settle = () => {
      ctx.signal.removeEventListener('abort', onAbort);
      clearTimeout(timeout);
      clearTimeout(killTimer);
    };
    child.once('error', (err: NodeJS.ErrnoException) => {
      settle();
      if (err.code === 'ENOENT') reject(new PermanentActionError(`${inputs.command}: no such program`));
      else if (err.code === 'EACCES') reject(new PermanentActionError(`${inputs.command}: not executable`));
      else reject(err);
    });
    child.once('close', (code, signal) => {
      settle();
      if (stopped === 'aborted') return reject(ctx.signal.reason);
      if (stopped === 'timed out') {
        return reject(
          new Error(`${inputs.command} timed out after ${inputs.timeoutSeconds} s${stderr.lastLines()}`),
        );
      }
      if (code !== 0) {
        const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
        return reject(new Error(`${inputs.command} ${how}${stderr.lastLines()}`));
      }
      const truncated = stdout.truncated || stderr.truncated;
      resolve({
        exitCode: 0,
        stdout: stdout.text(),
        stderr: stderr.text(),
        ...(truncated ? { truncated: true } : {}),
      });
    });
  });
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // The group has already gone.
  }
}

/** The last {@link MAX_SHELL_OUTPUT_BYTES} of a stream. */
class OutputTail {
  private chunks: Buffer[] = [];
  private size = 0;
  truncated = false;

  add(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.byteLength;
    // Trimmed once it holds twice the cap, so a chatty command costs one copy per cap's worth, not per chunk.
    if (this.size > 2 * MAX_SHELL_OUTPUT_BYTES) this.trim();
  }

  text(): string {
    this.trim();
    return Buffer.concat(this.chunks).toString('utf8');
  }

  /** ": <the last lines>", or nothing when the stream was empty. */
  lastLines(): string {
    const lines = this.text().trimEnd().split('\n').slice(-ERROR_TAIL_LINES).join('\n');
    return lines ? `: ${lines}` : '';
  }

  private trim(): void {
    if (this.size <= MAX_SHELL_OUTPUT_BYTES) return;
    const all = Buffer.concat(this.chunks);
    this.chunks = [all.subarray(all.byteLength - MAX_SHELL_OUTPUT_BYTES)];
    this.size = MAX_SHELL_OUTPUT_BYTES;
    this.truncated = true;
  }
}
