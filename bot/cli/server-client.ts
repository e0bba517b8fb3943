import type { Command } from 'commander';
import { InvalidArgumentError, Option } from 'commander';
import { loadConfig } from '../config/load';
import { fail, UsageError } from './exit';

/**
 * The commands that ask a running `opsbot serve` (events, runbooks, sagas) reach it through its REST API: the
 * embedded logs and journals belong to the server process, so these never open them themselves.
 */
const TIMEOUT_MS = 15_000;

interface Server {
  url: string;
  apiKey?: string;
}

export interface Answer {
  /** The body as the server sent it, for --json. */
  text: string;
  json: unknown;
}

function serverUrl(value: string): string {
  if (!URL.canParse(value) || !['http:', 'https:'].includes(new URL(value).protocol))
    throw new InvalidArgumentError('must be an http(s) URL, like http://127.0.0.1:3000');
  return value.replace(/\/+$/, '');
}

/** `--limit`/`-n` values. */
export function limit(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 1000)
    throw new InvalidArgumentError('must be a whole number from 1 to 1000');
  return n;
}

/** `--url` and `--api-key` on a command group, for its commands that ask a running server. */
export function addServerOptions(command: Command): Command {
  return command
    .option(
      '--url <url>',
      'the opsbot server (default: http://<server.host>:<server.port> from the configuration)',
      serverUrl,
    )
    .addOption(
      new Option('--api-key <key>', 'API key with the permissions needed (prefer the environment)').env(
        'OPSBOT_API_KEY',
      ),
    );
}

/** Where `opsbot serve` listens with this configuration. */
function configuredUrl(): string {
  const { host, port } = loadConfig().config.server;
  // A server bound to every address is reached on loopback from its own machine.
  const reachable = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return `http://${reachable.includes(':') ? `[${reachable}]` : reachable}:${port}`;
}

function serverOf(command: Command): Server {
  const { url, apiKey } = command.optsWithGlobals<{ url?: string; apiKey?: string }>();
  // fetch would refuse such a header and look like a network failure; the key itself is never echoed.
  if (apiKey !== undefined && /\s/.test(apiKey))
    throw new UsageError('--api-key (or OPSBOT_API_KEY): an API key has no spaces or line breaks');
  return { url: url ?? configuredUrl(), apiKey };
}

/**
 * One request to the server's REST API. The server's refusal of a request (4xx) is a usage error, exit 2;
 * its own failure (5xx) or no answer at all is exit 1.
 */
export async function callServer(
  command: Command,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
): Promise<Answer> {
  const server = serverOf(command);
  let response: Response;
  let text: string;
  try {
    response = await fetch(`${server.url}${path}`, {
      method,
      headers: {
        accept: 'application/json',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(server.apiKey ? { authorization: `Bearer ${server.apiKey}` } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    text = await response.text();
  } catch (err) {
    if ((err as Error).name === 'TimeoutError')
      fail(`no answer from opsbot at ${server.url} within ${TIMEOUT_MS / 1000} s`, 1);
    fail(`cannot reach opsbot at ${server.url} (is opsbot serve running?)`, 1);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  if (!response.ok) {
    // A proxy or another program on the port answers without opsbot's error body.
    const message =
      (json as { error?: { message?: unknown } } | undefined)?.error?.message ??
      `${server.url} answered HTTP ${response.status} ${response.statusText}`;
    if (response.status >= 500) fail(String(message), 1);
    throw new UsageError(String(message));
  }
  if (json === undefined) fail(`${server.url} did not answer with JSON (is it an opsbot server?)`, 1);
  return { text, json };
}

export function print(lines: string | string[]): void {
  process.stdout.write(`${Array.isArray(lines) ? lines.join('\n') : lines}\n`);
}
