import { ErrorCode, OpsbotError } from '../../bot/core/errors';
import { describeFetchFailure } from '../http/describe-fetch-failure';
import { isRecord } from '../is-record';

const DEFAULT_TIMEOUT_MS = 5_000;
/** How much of an error body a message quotes: Alertmanager's own words, not a whole HTML page. */
const ERROR_BODY_CHARS = 200;

/** Alertmanager's label matcher, as its v2 API spells it: `isEqual: false` negates (`!=`, `!~`). */
export interface AlertmanagerMatcher {
  name: string;
  value: string;
  isRegex: boolean;
  isEqual: boolean;
}

/** `active`: notified; `suppressed`: silenced or inhibited; `unprocessed`: received, not yet routed. */
export type AlertmanagerAlertState = 'active' | 'suppressed' | 'unprocessed';

/** One alert as `GET /api/v2/alerts` returns it. */
export interface AlertmanagerAlert {
  fingerprint: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt?: string;
  generatorURL?: string;
  state: AlertmanagerAlertState;
  /** Ids of the silences that match it. */
  silencedBy: string[];
  /** Fingerprints of the alerts that inhibit it. */
  inhibitedBy: string[];
}

export type AlertmanagerSilenceState = 'active' | 'pending' | 'expired';

export interface AlertmanagerSilence {
  id: string;
  matchers: AlertmanagerMatcher[];
  startsAt: string;
  endsAt: string;
  createdBy: string;
  comment: string;
  state: AlertmanagerSilenceState;
}

export interface NewAlertmanagerSilence {
  matchers: AlertmanagerMatcher[];
  /** ISO 8601. */
  startsAt: string;
  endsAt: string;
  createdBy: string;
  comment: string;
}

/** Which alerts `GET /api/v2/alerts` returns; Alertmanager's defaults include every kind. */
export interface AlertmanagerAlertFilter {
  active?: boolean;
  silenced?: boolean;
  inhibited?: boolean;
  unprocessed?: boolean;
  /** Matcher strings such as `service="payments"`, all of which must hold. */
  matchers?: string[];
}

export interface AlertmanagerApiOptions {
  /** Alertmanager's base URL, e.g. http://alertmanager:9093, or with a path prefix (…/alertmanager). */
  url: string;
  timeoutMs?: number;
  /** Sent as `Authorization: Bearer …`; user:password@ in `url` is sent as basic auth instead. */
  bearerToken?: string;
  fetch?: typeof fetch;
}

/**
 * Alertmanager could not be reached, timed out, refused the request or answered something that is not its
 * API. The message names the endpoint (without credentials) and the HTTP status; `status` is absent when no
 * answer came. Alertmanager is driven like a platform, so its failures carry the driver codes.
 */
export class AlertmanagerError extends OpsbotError {
  constructor(
    code: ErrorCode.DriverFailed | ErrorCode.DriverTimeout,
    message: string,
    readonly status?: number,
  ) {
    super(code, message);
    this.name = 'AlertmanagerError';
  }
}

/**
 * A small client of Alertmanager's v2 API: alerts, and silences (create, list, expire). Every request has a
 * timeout; every failure is an AlertmanagerError.
 */
export class AlertmanagerApi {
  /** "Alertmanager at http://alertmanager:9093/", credentials left out: for replies and logs. */
  readonly description: string;
  private readonly base: URL;
  private readonly timeoutMs: number;
  private readonly headers: Record<string, string>;
  private readonly fetch: typeof fetch;

  constructor(options: AlertmanagerApiOptions) {
    const base = new URL(options.url);
    if (base.protocol !== 'http:' && base.protocol !== 'https:') {
      throw new OpsbotError(
        ErrorCode.ConfigInvalid,
        `the Alertmanager URL must be http or https, not ${base.protocol}`,
      );
    }
    // Relative API paths must resolve under a path prefix, not replace its last segment.
    if (!base.pathname.endsWith('/')) base.pathname += '/';
    // fetch refuses URLs with credentials; user:password@ in the URL means basic auth.
    const basic = base.username
      ? `${decodeURIComponent(base.username)}:${decodeURIComponent(base.password)}`
      : undefined;
    base.username = '';
    base.password = '';
    this.base = base;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.headers = {
      accept: 'application/json',
      ...(options.bearerToken ? { authorization: `Bearer ${options.bearerToken}` } : {}),
      ...(!options.bearerToken && basic
        ? { authorization: `Basic ${Buffer.from(basic, 'utf8').toString('base64')}` }
        : {}),
    };
    // Wrapped, not stored bare: a platform fetch may insist on being called with its own `this`.
    this.fetch = options.fetch ?? ((input, init) => fetch(input, init));
    this.description = `Alertmanager at ${base.href}`;
  }

  /** `GET /api/v2/alerts`. */
  async listAlerts(filter: AlertmanagerAlertFilter = {}): Promise<AlertmanagerAlert[]> {
    const params = new URLSearchParams();
    for (const flag of ['active', 'silenced', 'inhibited', 'unprocessed'] as const) {
      const value = filter[flag];
      if (value !== undefined) params.set(flag, String(value));
    }
    for (const matcher of filter.matchers ?? []) params.append('filter', matcher);
    const body = await this.request('GET', 'api/v2/alerts', params);
    if (!Array.isArray(body)) throw this.notTheApi('api/v2/alerts');
    return body.filter(isRecord).map(alertOf);
  }

  /** `POST /api/v2/silences`: the new silence's id. */
  async createSilence(silence: NewAlertmanagerSilence): Promise<string> {
    const body = await this.request('POST', 'api/v2/silences', undefined, silence);
    if (!isRecord(body) || typeof body.silenceID !== 'string') throw this.notTheApi('api/v2/silences');
    return body.silenceID;
  }

  /** `GET /api/v2/silences`, expired ones included (Alertmanager keeps them for its retention). */
  async listSilences(matchers: string[] = []): Promise<AlertmanagerSilence[]> {
    const params = new URLSearchParams();
    for (const matcher of matchers) params.append('filter', matcher);
    const body = await this.request('GET', 'api/v2/silences', params);
    if (!Array.isArray(body)) throw this.notTheApi('api/v2/silences');
    return body.filter(isRecord).map(silenceOf);
  }

  /** `GET /api/v2/silence/{id}`; undefined when Alertmanager does not know it. */
  async getSilence(id: string): Promise<AlertmanagerSilence | undefined> {
    try {
      const body = await this.request('GET', `api/v2/silence/${encodeURIComponent(id)}`);
      if (!isRecord(body)) throw this.notTheApi('api/v2/silence');
      return silenceOf(body);
    } catch (err) {
      if (err instanceof AlertmanagerError && err.status === 404) return undefined;
      throw err;
    }
  }

  /** `DELETE /api/v2/silence/{id}`: ends the silence now. */
  async expireSilence(id: string): Promise<void> {
    await this.request('DELETE', `api/v2/silence/${encodeURIComponent(id)}`);
  }

  private async request(
    method: string,
    path: string,
    params?: URLSearchParams,
    json?: unknown,
  ): Promise<unknown> {
    const url = new URL(path, this.base);
    if (params) url.search = params.toString();
    const endpoint = `Alertmanager ${method} ${url.origin}${url.pathname}`;
    let status: number;
    let text: string;
    try {
      const res = await this.fetch(url, {
        method,
        headers: json === undefined ? this.headers : { ...this.headers, 'content-type': 'application/json' },
        body: json === undefined ? undefined : JSON.stringify(json),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      status = res.status;
      text = await res.text();
    } catch (err) {
      const why = describeFetchFailure(err, this.timeoutMs);
      const timedOut = (err as Error).name === 'TimeoutError' || (err as Error).name === 'AbortError';
      throw new AlertmanagerError(
        timedOut ? ErrorCode.DriverTimeout : ErrorCode.DriverFailed,
        `${endpoint}: ${why}`,
      );
    }
    if (status < 200 || status >= 300) {
      const said = errorText(text);
      throw new AlertmanagerError(
        ErrorCode.DriverFailed,
        `${endpoint} answered HTTP ${status}${said ? `: ${said}` : ''}`,
        status,
      );
    }
    if (text.trim() === '') return undefined;
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw this.notTheApi(path);
    }
  }

  private notTheApi(path: string): AlertmanagerError {
    return new AlertmanagerError(
      ErrorCode.DriverFailed,
      `${this.description.replace(/\/$/, '')} did not answer ${path} like Alertmanager's v2 API; is the URL right?`,
    );
  }
}

/** Alertmanager answers errors as a JSON string, a JSON object with `message`, or plain text. */
function errorText(text: string): string {
  let said: unknown = text;
  try {
    said = JSON.parse(text);
  } catch {
    // plain text
  }
  const message = isRecord(said) ? said.message : said;
  const line = (typeof message === 'string' ? message : text).trim().replace(/\s+/g, ' ');
  return line.length > ERROR_BODY_CHARS ? `${line.slice(0, ERROR_BODY_CHARS - 1)}…` : line;
}

function alertOf(raw: Record<string, unknown>): AlertmanagerAlert {
  const status = isRecord(raw.status) ? raw.status : {};
  const state = status.state;
  return {
    fingerprint: String(raw.fingerprint ?? ''),
    labels: stringsOf(raw.labels),
    annotations: stringsOf(raw.annotations),
    startsAt: String(raw.startsAt ?? ''),
    ...(typeof raw.endsAt === 'string' ? { endsAt: raw.endsAt } : {}),
    ...(typeof raw.generatorURL === 'string' && raw.generatorURL !== ''
      ? { generatorURL: raw.generatorURL }
      : {}),
    state: state === 'suppressed' || state === 'unprocessed' ? state : 'active',
    silencedBy: listOf(status.silencedBy),
    inhibitedBy: listOf(status.inhibitedBy),
  };
}

function silenceOf(raw: Record<string, unknown>): AlertmanagerSilence {
  const state = isRecord(raw.status) ? raw.status.state : undefined;
  return {
    id: String(raw.id ?? ''),
    matchers: (Array.isArray(raw.matchers) ? raw.matchers : []).filter(isRecord).map((m) => ({
      name: String(m.name ?? ''),
      value: String(m.value ?? ''),
      isRegex: m.isRegex === true,
      // Absent means equal: Alertmanager before 0.22 had no isEqual.
      isEqual: m.isEqual !== false,
    })),
    startsAt: String(raw.startsAt ?? ''),
    endsAt: String(raw.endsAt ?? ''),
    createdBy: String(raw.createdBy ?? ''),
    comment: String(raw.comment ?? ''),
    state: state === 'pending' || state === 'expired' ? state : 'active',
  };
}

function stringsOf(value: unknown): Record<string, string> {
  if (!isRecord(value)) return {};
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, String(v)]));
}

function listOf(value: unknown): string[] {
  return Array.isArray(value) ? value.map(String) : [];
}
