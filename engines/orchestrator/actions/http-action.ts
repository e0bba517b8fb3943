import type { ServiceCatalog } from '../../../bot/config/catalog';
import { describeFetchFailure } from '../../../adapters/http/describe-fetch-failure';
import { PermanentActionError, type Action, type ActionContext } from '../action';
import { describeServiceTarget, resolveServiceTarget } from './service-target';

export const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];

/** A response body beyond this is cut: outputs are stored with the run and shown in chat. */
export const MAX_RESPONSE_BYTES = 64 * 1024;
/** Client errors that say "not now" rather than "never": a retry may succeed. */
const RETRYABLE_CLIENT_STATUSES = new Set([408, 425, 429]);
const STATUS_SCHEMA = { type: 'integer', minimum: 100, maximum: 599 };
/** Enough of an unexpected answer's body to see why, in the step's error. */
const ERROR_BODY_CHARS = 300;

export interface HttpInputs {
  method?: HttpMethod;
  /** A catalog service: the request goes to `path` on the origin of its health URL in `environment`. */
  service?: string;
  environment?: string;
  path?: string;
  /** Instead of service and path. */
  url?: string;
  /** A string is sent as it is (text/plain unless a content-type header says otherwise); anything else as JSON. */
  body?: unknown;
  headers?: Record<string, string>;
  /** The status, or statuses, that count as success; any 2xx when left out. */
  expectStatus?: number | number[];
}

export interface HttpOutput {
  status: number;
  /** Parsed when the response says it is JSON, text otherwise (and always text when cut). */
  body: unknown;
  /** Set when the body was longer than {@link MAX_RESPONSE_BYTES} and cut there. */
  truncated?: true;
}

/**
 * Sends one HTTP request. Every request but a GET carries `Idempotency-Key: <the step's key>` (it replaces
 * one given in `headers`), the same on every attempt and after a resume, so a target that deduplicates on it
 * (the demo fleet does) charges once however often the request is sent. That is why it resumes `by-key`.
 * A 4xx other than 408/425/429 fails the step for good; 5xx, those three and network errors are retried.
 *
 * It counts as mutating whatever the method: an action has one default, and a step may only raise it, so
 * a default of false would leave every POST relying on its author remembering `mutating: true`. Reads are
 * better done with the query and wait actions.
 */
export function createHttpAction(deps: {
  catalog: ServiceCatalog;
  fetch?: typeof fetch;
}): Action<HttpInputs, HttpOutput> {
  const send = deps.fetch ?? fetch;

  function targetUrl(inputs: HttpInputs): URL {
    if (inputs.url !== undefined) {
      const url = URL.canParse(inputs.url) ? new URL(inputs.url) : undefined;
      if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:'))
        throw new PermanentActionError(`${inputs.url} is not an http(s) URL`);
      return url;
    }
    if (inputs.service === undefined || inputs.path === undefined)
      throw new PermanentActionError('an http step needs a url, or a service and a path');
    // "//host/x" would replace the service's host: the path must stay on the service.
    if (!inputs.path.startsWith('/') || inputs.path.startsWith('//'))
      throw new PermanentActionError(`the path ${inputs.path} must start with a single /`);
    const { service, environment } = resolveServiceTarget(deps.catalog, inputs.service, inputs.environment);
    const endpoints = service.environments[environment];
    const known = endpoints?.healthUrl ?? endpoints?.metricsUrl;
    if (!known)
      throw new PermanentActionError(
        `the catalog has no URL for ${service.name} in ${environment} (no health URL)`,
      );
    return new URL(inputs.path, new URL(known).origin);
  }

  return {
    name: 'http',
    summary: "Send an HTTP request to a URL or a catalog service's path, with the step's Idempotency-Key",
    inputSchema: {
      type: 'object',
      properties: {
        method: { type: 'string', enum: [...HTTP_METHODS] },
        service: { type: 'string', minLength: 1 },
        environment: { type: 'string', minLength: 1 },
        path: { type: 'string', pattern: '^/(?!/)' },
        url: { type: 'string', pattern: '^https?://' },
        body: true,
        headers: {
          type: 'object',
          propertyNames: { pattern: "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$" },
          additionalProperties: { type: 'string' },
        },
        expectStatus: {
          oneOf: [STATUS_SCHEMA, { type: 'array', items: STATUS_SCHEMA, minItems: 1 }],
        },
      },
      // Each branch names its properties again: ajv's strict mode wants a required property defined beside it.
      oneOf: [
        { required: ['url'], properties: { url: true } },
        { required: ['service', 'path'], properties: { service: true, path: true } },
      ],
      dependentRequired: { path: ['service'], service: ['path'], environment: ['service'] },
      additionalProperties: false,
    },
    mutating: true,
    resume: 'by-key',
    describe(inputs) {
      const method = inputs.method ?? 'GET';
      if (inputs.service === undefined) {
        return { summary: `${method} ${withoutSecrets(inputs.url)}`, services: [] };
      }
      const target = describeServiceTarget(deps.catalog, inputs.service, inputs.environment);
      return {
        summary: `${method} ${target.name} ${inputs.path}`,
        services: [target.name],
        environment: target.environment,
      };
    },
    async execute(inputs, ctx) {
      const method = inputs.method ?? 'GET';
      const url = targetUrl(inputs);
      const shown = `${method} ${withoutSecrets(url.href)}`;
      const { headers, body } = request(inputs, method, ctx);
      let response: Response;
      try {
        response = await send(url, { method, headers, body, signal: ctx.signal });
      } catch (err) {
        ctx.signal.throwIfAborted();
        throw new Error(`${shown}: ${describeFetchFailure(err, 0)}`, { cause: err });
      }
      const read = await readCapped(response, ctx.signal);
      const output = outputOf(response, read);
      const expected =
        inputs.expectStatus === undefined
          ? response.status >= 200 && response.status < 300
          : [inputs.expectStatus].flat().includes(response.status);
      if (expected) return output;
      const detail = `${shown} answered ${response.status}${read.text ? `: ${read.text.slice(0, ERROR_BODY_CHARS)}` : ''}`;
      if (response.status >= 500 || RETRYABLE_CLIENT_STATUSES.has(response.status)) throw new Error(detail);
      throw new PermanentActionError(detail);
    },
  };
}

function request(
  inputs: HttpInputs,
  method: HttpMethod,
  ctx: ActionContext,
): { headers: Headers; body: string | undefined } {
  let headers: Headers;
  try {
    headers = new Headers(inputs.headers);
  } catch (err) {
    throw new PermanentActionError(`invalid headers: ${(err as Error).message}`);
  }
  if (!headers.has('accept')) headers.set('accept', 'application/json, text/plain;q=0.9, */*;q=0.1');
  if (method !== 'GET') headers.set('idempotency-key', ctx.idempotencyKey);
  if (inputs.body === undefined) return { headers, body: undefined };
  if (method === 'GET') throw new PermanentActionError('a GET request cannot have a body');
  if (typeof inputs.body === 'string') {
    if (!headers.has('content-type')) headers.set('content-type', 'text/plain; charset=utf-8');
    return { headers, body: inputs.body };
  }
  if (!headers.has('content-type')) headers.set('content-type', 'application/json');
  return { headers, body: JSON.stringify(inputs.body) };
}

/** Reads the body up to {@link MAX_RESPONSE_BYTES}, then stops the download. */
async function readCapped(
  response: Response,
  signal: AbortSignal,
): Promise<{ text: string; truncated: boolean }> {
  if (!response.body) return { text: '', truncated: false };
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size <= MAX_RESPONSE_BYTES) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } catch (err) {
    signal.throwIfAborted();
    throw new Error(`the response broke off after ${size} bytes: ${(err as Error).message}`, { cause: err });
  }
  const truncated = size > MAX_RESPONSE_BYTES;
  if (truncated) await reader.cancel().catch(() => {});
  const bytes = Buffer.concat(chunks);
  return { text: bytes.toString('utf8', 0, Math.min(size, MAX_RESPONSE_BYTES)), truncated };
}

function outputOf(response: Response, read: { text: string; truncated: boolean }): HttpOutput {
  if (read.truncated) return { status: response.status, body: read.text, truncated: true };
  const type = response.headers.get('content-type') ?? '';
  if (/[/+]json\b/i.test(type) && read.text !== '') {
    try {
      return { status: response.status, body: JSON.parse(read.text) as unknown };
    } catch {
      // Says JSON, is not: the text is still worth keeping.
    }
  }
  return { status: response.status, body: read.text };
}

/** A URL as errors and plans show it: no credentials, no query string (tokens travel there). */
function withoutSecrets(url: string | undefined): string {
  if (url === undefined || !URL.canParse(url)) return String(url);
  const parsed = new URL(url);
  return `${parsed.origin}${parsed.pathname}`;
}
