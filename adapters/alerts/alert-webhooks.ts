import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import { Router, type Request, type Response } from 'express';
import { ErrorCode, RequestError } from '../../bot/core/errors';
import type { Logger } from '../../bot/core/logger';
import { bearerCredential } from '../../bot/server/authenticator';
import { sendError } from '../../bot/server/http-errors';
import { readJsonBody } from '../../bot/server/json-body';
import type { Alert, AlertSource } from '../../engines/orchestrator/alerts/alert';
import type { AlertRouter } from '../../engines/orchestrator/alerts/alert-router';
import { alertmanagerAlerts } from './alertmanager-payload';
import { grafanaAlerts } from './grafana-payload';

/** A large Alertmanager group (hundreds of alerts with long annotations) still fits; one request cannot exhaust memory. */
export const MAX_ALERTS_BODY_BYTES = 1024 * 1024;

/** The answer when an endpoint needs a token and none is configured: the server, not the caller, must change. */
export const NOT_CONFIGURED = 'not_configured';

export interface AlertWebhooksDeps {
  router: AlertRouter;
  /** config `orchestrator.webhookToken` (OPSBOT_WEBHOOK_TOKEN). */
  token?: string;
  logger: Logger;
}

/**
 * The alert webhooks: `POST /webhooks/alertmanager` (Alertmanager webhook v4) and `POST /webhooks/grafana`
 * (Grafana unified alerting). Each answers 202 with what became of every alert.
 *
 * Who may call:
 * - With `orchestrator.webhookToken` set, both require `Authorization: Bearer <token>` (Alertmanager sends it
 *   with `http_config.authorization.credentials`, Grafana with the contact point's "Authorization header").
 * - Without a token, Alertmanager is accepted from loopback only (an Alertmanager on the same host or in the
 *   same pod), since it sends no credential by default. A request carrying Forwarded or X-Forwarded-For
 *   came through a proxy, and a proxy on the same host makes every caller look local, so it is refused too.
 * - Without a token, the Grafana endpoint answers 503 `not_configured`: Grafana always can send a bearer, so
 *   there is no reason to accept it unauthenticated, and 503 tells the operator (not the caller) to act.
 * Tokens are compared as SHA-256 digests with timingSafeEqual, so neither content nor length leaks by timing.
 */
export function alertWebhooks(deps: AlertWebhooksDeps): Router {
  const router = Router();
  const tokenDigest = deps.token ? sha256(deps.token) : undefined;

  const requireToken = (req: Request, res: Response, expected: Buffer) => {
    // Set before anything can refuse the request, so every 401 names its scheme (RFC 9110); removed on success.
    res.setHeader('www-authenticate', 'Bearer realm="opsbot"');
    const credential = bearerCredential(req.get('authorization'));
    if (credential === undefined) {
      throw new RequestError(
        ErrorCode.Unauthorized,
        'send the webhook token as "Authorization: Bearer <token>"',
      );
    }
    if (!timingSafeEqual(sha256(credential), expected)) {
      throw new RequestError(ErrorCode.Unauthorized, 'the webhook token is not the one configured');
    }
    res.removeHeader('www-authenticate');
  };

  const answer = async (req: Request, res: Response, source: AlertSource, alerts: Alert[]) => {
    const runs = await deps.router.route(alerts);
    deps.logger.info(
      {
        event: 'alerts.received',
        source,
        alerts: alerts.length,
        runs: runs.length,
        correlationId: req.correlationId,
      },
      'alert webhook handled',
    );
    res.status(202).json({ accepted: alerts.length, runs });
  };

  router.post('/webhooks/alertmanager', async (req, res) => {
    if (tokenDigest) requireToken(req, res, tokenDigest);
    else requireLocalCaller(req);
    const alerts = alertmanagerAlerts(await readJsonBody(req, MAX_ALERTS_BODY_BYTES));
    await answer(req, res, 'alertmanager', alerts);
  });

  router.post('/webhooks/grafana', async (req, res) => {
    if (!tokenDigest) {
      return sendError(
        res,
        503,
        NOT_CONFIGURED,
        'the Grafana webhook needs a token: set orchestrator.webhookToken (OPSBOT_WEBHOOK_TOKEN) and send it as a bearer',
      );
    }
    requireToken(req, res, tokenDigest);
    const alerts = grafanaAlerts(await readJsonBody(req, MAX_ALERTS_BODY_BYTES));
    await answer(req, res, 'grafana', alerts);
  });

  return router;
}

function requireLocalCaller(req: Request): void {
  const proxied = req.get('forwarded') !== undefined || req.get('x-forwarded-for') !== undefined;
  if (!proxied && isLoopback(req.socket.remoteAddress)) return;
  throw new RequestError(
    ErrorCode.Forbidden,
    'without orchestrator.webhookToken (OPSBOT_WEBHOOK_TOKEN) only an Alertmanager on this host may post alerts; ' +
      'set a token and send it as a bearer',
  );
}

function isLoopback(address: string | undefined): boolean {
  if (address === undefined) return false;
  const v4 = address.startsWith('::ffff:') ? address.slice('::ffff:'.length) : address;
  if (isIP(v4) === 4) return v4.startsWith('127.');
  return address === '::1';
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}
