import { Router, type Request, type Response } from 'express';
import type { AuditTrail } from '../core/audit-trail';
import { ErrorCode, isOpsbotError, RequestError } from '../core/errors';
import type { Logger } from '../core/logger';
import type { Policy } from '../policy/policy';
import {
  MAINTENANCE_SCHEDULE,
  type MaintenanceWindows,
  type WindowRequest,
} from '../../engines/maintenance/maintenance-windows';
import type { MaintenanceController, WatchStatus } from '../../engines/maintenance/maintenance-controller';
import type { FiringAlerts } from '../../engines/orchestrator/alerts/firing-alerts';
import type { SilenceMatcher, Silences } from '../../engines/orchestrator/alerts/silences';
import { parseMatchers } from '../../engines/orchestrator/runbooks/label-matchers';
import { authorisedCaller, type Authenticator } from './authenticator';
import { sendError } from './http-errors';
import { readJsonBody } from './json-body';

/** A window or a silence is a few fields; the chat message bound keeps one request from exhausting memory. */
export const MAX_MAINTENANCE_BODY_BYTES = 64 * 1024;
export const ALERTS_READ = 'alerts.read';
export const ALERT_SILENCE = 'alert.silence';
/** The health watch is read with failure prediction's permission: both are the controller's view of the fleet. */
export const FAILURES_READ = 'failures.read';
/** Audited apart from creating one; the same permission allows it. */
const ALERT_SILENCE_EXPIRE = 'alert.silence.expire';
const MAX_COMMENT_CHARS = 500;
/** Alertmanager (or the silence store behind the port) failed: the gateway's answer, not the caller's fault. */
const UPSTREAM_STATUS: Partial<Record<ErrorCode, number>> = {
  [ErrorCode.DriverFailed]: 502,
  [ErrorCode.DriverTimeout]: 504,
};
const WINDOW_FIELDS = ['service', 'environment', 'startsAt', 'endsAt', 'durationSeconds', 'reason'] as const;
const SILENCE_FIELDS = ['matchers', 'startsAt', 'endsAt', 'durationSeconds', 'comment'] as const;

/**
 * Maintenance windows, alerts and silences over HTTP:
 *
 * - `GET /api/v1/maintenance/windows[?service=&environment=]`: open and upcoming windows;
 *   `GET /api/v1/maintenance/windows/:id`: one window, cancelled and ended ones included;
 *   `POST /api/v1/maintenance/windows` `{service, environment?, startsAt?, endsAt | durationSeconds, reason?}`:
 *   201 with the window; `DELETE /api/v1/maintenance/windows/:id`: cancels it. All need maintenance.schedule.
 * - `GET /api/v1/maintenance/health` (failures.read): the controller's watch of each service — state since when,
 *   the latest round's checks, the heal runs of the current failure and why it is not being healed (a window, a
 *   silence, the hourly limit) — or 404 when the controller is off in this process.
 * - `GET /api/v1/alerts` (alerts.read): the firing alerts, from Alertmanager or opsbot's own list.
 * - `GET /api/v1/silences` (alerts.read); `POST /api/v1/silences` (alert.silence)
 *   `{matchers, startsAt?, endsAt | durationSeconds, comment}`, matchers as in runbook triggers (a map of
 *   labels, a list of matcher strings, or a selector): 201 with the silence id; `DELETE /api/v1/silences/:id`
 *   (alert.silence) expires one.
 *
 * Who creates a window or a silence comes from the credential, never from the body; unknown body fields are
 * refused. When Alertmanager fails, the answer is 502 (504 when it timed out) with its error, and nothing was
 * changed.
 */
export function maintenanceApi(deps: {
  windows: MaintenanceWindows;
  silences: Silences;
  alerts: FiringAlerts;
  /** Absent when maintenance.enabled is false or no orchestrator runs here. */
  controller?: MaintenanceController;
  authenticator: Authenticator;
  policy: Policy;
  audit: AuditTrail;
  logger: Logger;
}): Router {
  const router = Router();
  const authorise = (req: Request, permission: string) =>
    authorisedCaller(deps.authenticator, deps.policy, req.get('authorization'), permission, 'api');
  const requester = (req: Request, permission: string) => {
    const user = authorise(req, permission);
    return { id: user.id, roles: deps.policy.rolesFor(user), correlationId: req.correlationId ?? '' };
  };

  router.get('/api/v1/maintenance/windows', async (req, res) => {
    authorise(req, MAINTENANCE_SCHEDULE);
    const service = queryString(req, 'service');
    const environment = queryString(req, 'environment');
    res.json({
      windows: await deps.windows.list({
        ...(service === undefined ? {} : { service }),
        ...(environment === undefined ? {} : { environment }),
      }),
    });
  });

  router.get('/api/v1/maintenance/windows/:id', async (req, res) => {
    authorise(req, MAINTENANCE_SCHEDULE);
    const window = await deps.windows.get(String(req.params.id));
    if (!window)
      throw new RequestError(ErrorCode.NotFound, `there is no maintenance window ${req.params.id}`);
    res.json(window);
  });

  router.post('/api/v1/maintenance/windows', async (req, res) => {
    const by = requester(req, MAINTENANCE_SCHEDULE);
    const body = fieldsOf(await readJsonBody(req, MAX_MAINTENANCE_BODY_BYTES), WINDOW_FIELDS);
    await upstream(res, async () => {
      const window = await deps.windows.create(windowRequestOf(body), by);
      deps.logger.info(
        { event: 'maintenance.scheduled', user: by.id, window: window.id, correlationId: by.correlationId },
        'maintenance window scheduled',
      );
      res.status(201).json(window);
    });
  });

  router.delete('/api/v1/maintenance/windows/:id', async (req, res) => {
    const by = requester(req, MAINTENANCE_SCHEDULE);
    await upstream(res, async () => {
      res.json(await deps.windows.cancel(String(req.params.id), by));
    });
  });

  router.get('/api/v1/maintenance/health', (req, res) => {
    authorise(req, FAILURES_READ);
    if (!deps.controller) {
      throw new RequestError(
        ErrorCode.NotFound,
        'the maintenance controller is off in this process (maintenance.enabled: false, or no orchestrator)',
      );
    }
    res.json({
      summary: deps.controller.describe(),
      services: deps.controller.status().map(watchStatusJson),
    });
  });

  router.get('/api/v1/alerts', async (req, res) => {
    authorise(req, ALERTS_READ);
    await upstream(res, async () => {
      res.json({ source: deps.alerts.description, alerts: await deps.alerts.firing() });
    });
  });

  router.get('/api/v1/silences', async (req, res) => {
    authorise(req, ALERTS_READ);
    await upstream(res, async () => {
      res.json({ source: deps.silences.description, silences: await deps.silences.list() });
    });
  });

  router.post('/api/v1/silences', async (req, res) => {
    const by = requester(req, ALERT_SILENCE);
    const body = fieldsOf(await readJsonBody(req, MAX_MAINTENANCE_BODY_BYTES), SILENCE_FIELDS);
    const silence = {
      ...silenceTimesOf(body),
      matchers: matchersOf(body.matchers),
      comment: commentOf(body),
    };
    const audit = (phase: 'succeeded' | 'failed', details: Record<string, unknown>) =>
      deps.audit.record({
        action: ALERT_SILENCE,
        phase,
        actor: by.id,
        roles: by.roles,
        details: { ...silence, silences: deps.silences.description, ...details },
        correlationId: by.correlationId,
      });
    await upstream(res, async () => {
      let id: string;
      try {
        id = await deps.silences.create({ ...silence, createdBy: by.id });
      } catch (err) {
        audit('failed', { error: (err as Error).message });
        throw err;
      }
      audit('succeeded', { silenceId: id });
      res.status(201).json({ silenceId: id, ...silence, createdBy: by.id });
    });
  });

  router.delete('/api/v1/silences/:id', async (req, res) => {
    const by = requester(req, ALERT_SILENCE);
    await upstream(res, async () => {
      const id = String(req.params.id);
      await deps.silences.expire(id);
      deps.audit.record({
        action: ALERT_SILENCE_EXPIRE,
        phase: 'succeeded',
        actor: by.id,
        roles: by.roles,
        details: { silenceId: id, silences: deps.silences.description },
        correlationId: by.correlationId,
      });
      res.json({ expired: id });
    });
  });

  return router;
}

/** Runs `act`, answering an upstream failure (Alertmanager) as 502/504 rather than as opsbot's own 500. */
async function upstream(res: Response, act: () => Promise<void>): Promise<void> {
  try {
    await act();
  } catch (err) {
    const status = isOpsbotError(err) ? UPSTREAM_STATUS[err.code] : undefined;
    if (status === undefined || !isOpsbotError(err)) throw err;
    sendError(res, status, err.code, err.message);
  }
}

function windowRequestOf(body: Record<string, unknown>): WindowRequest {
  if (typeof body.service !== 'string' || body.service === '')
    throw invalid('service: the catalog name of the service, e.g. "payments"');
  return {
    service: body.service,
    ...optionalString(body, 'environment'),
    ...optionalString(body, 'startsAt'),
    ...optionalString(body, 'endsAt'),
    ...optionalString(body, 'reason'),
    ...(body.durationSeconds === undefined ? {} : { durationSeconds: secondsOf(body.durationSeconds) }),
  };
}

function silenceTimesOf(body: Record<string, unknown>): { startsAt: string; endsAt: string } {
  const startsAt = body.startsAt === undefined ? Date.now() : Date.parse(String(body.startsAt));
  if (Number.isNaN(startsAt) || (body.startsAt !== undefined && typeof body.startsAt !== 'string'))
    throw invalid('startsAt: an ISO 8601 time such as 2026-03-01T22:00:00Z');
  if ((body.endsAt === undefined) === (body.durationSeconds === undefined))
    throw invalid('give the silence an end: either endsAt or durationSeconds');
  const endsAt =
    body.endsAt === undefined
      ? startsAt + secondsOf(body.durationSeconds) * 1000
      : typeof body.endsAt === 'string'
        ? Date.parse(body.endsAt)
        : Number.NaN;
  if (Number.isNaN(endsAt)) throw invalid('endsAt: an ISO 8601 time such as 2026-03-01T23:00:00Z');
  return { startsAt: new Date(startsAt).toISOString(), endsAt: new Date(endsAt).toISOString() };
}

/** Matchers as runbook triggers write them, checked the same way, in Alertmanager's form. */
function matchersOf(value: unknown): SilenceMatcher[] {
  if (value === undefined)
    throw invalid('matchers: e.g. {"alertname": "ServiceDown", "service": "payments"}');
  let parsed;
  try {
    parsed = parseMatchers(value);
  } catch (err) {
    throw invalid(`matchers: ${(err as Error).message}`);
  }
  if (parsed.length === 0) throw invalid('matchers: at least one, or the silence would quiet every alert');
  return parsed.map((m) => ({
    name: m.name,
    value: m.value,
    isRegex: m.op === '=~' || m.op === '!~',
    isEqual: m.op === '=' || m.op === '=~',
  }));
}

function commentOf(body: Record<string, unknown>): string {
  if (typeof body.comment !== 'string' || body.comment.trim() === '')
    throw invalid('comment: why the alerts are silenced, for whoever sees the silence');
  if (body.comment.length > MAX_COMMENT_CHARS)
    throw invalid(`comment: at most ${MAX_COMMENT_CHARS} characters`);
  return body.comment.trim();
}

function secondsOf(value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0)
    throw invalid('durationSeconds: a positive number of seconds');
  return value;
}

function optionalString<K extends string>(
  body: Record<string, unknown>,
  field: K,
): Partial<Record<K, string>> {
  const value = body[field];
  if (value === undefined) return {};
  if (typeof value !== 'string') throw invalid(`${field}: must be a string`);
  return { [field]: value } as Partial<Record<K, string>>;
}

function queryString(req: Request, name: string): string | undefined {
  const value = req.query[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function fieldsOf(body: unknown, allowed: readonly string[]): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw invalid(`the body must be a JSON object with ${allowed.join(', ')}`);
  const unknown = Object.keys(body).filter((field) => !allowed.includes(field));
  if (unknown.length > 0)
    throw invalid(
      `unknown field${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} (known: ${allowed.join(', ')})`,
    );
  return body as Record<string, unknown>;
}

function invalid(message: string): RequestError {
  return new RequestError(ErrorCode.InvalidRequest, message);
}

/** A watch's status with its instants as ISO 8601, as the rest of the API writes times. */
function watchStatusJson(status: WatchStatus) {
  const iso = (ms: number) => new Date(ms).toISOString();
  return {
    ...status,
    since: iso(status.since),
    lastRound: status.lastRound.map((record) => ({ ...record, t: iso(record.t) })),
    ...(status.streak ? { streak: { ...status.streak, since: iso(status.streak.since) } } : {}),
    ...(status.skipped ? { skipped: { ...status.skipped, at: iso(status.skipped.at) } } : {}),
  };
}
