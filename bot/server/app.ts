import { randomUUID } from 'node:crypto';
import path from 'node:path';
import express, { type NextFunction, type Request, type Response } from 'express';
import { ErrorCode, RequestError } from '../core/errors';
import { checkComponent } from '../core/health';
import { textReply } from '../core/message';
import type { Logger } from '../core/logger';
import { packageRoot } from '../core/package-root';
import type { Runtime } from '../runtime';
import { authorisedCaller, Authenticator, bearerCredential } from './authenticator';
import type { ChannelAdapter } from './channel-adapter';
import { parseChatRequest } from './chat-request';
import { errorHandler, sendError } from './http-errors';
import { readJsonBody } from './json-body';
import { NOTIFY_PERMISSION, parseNotifyRequest } from './notify-request';
import { eventsApi } from './events-api';
import { orchestratorApi } from './orchestrator-api';
import { qualityApi } from './quality-api';
import { scalerApi } from './scaler-api';
import { maintenanceApi } from './maintenance-api';
import { alertWebhooks } from '../../adapters/alerts/alert-webhooks';
import type { ServerMetrics } from './metrics';

/** The request body limit the API promises: larger bodies get 413 before any of them is parsed. */
export const MAX_BODY_BYTES = 64 * 1024;

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;
export const WIDGET_DIR = path.join(packageRoot(), 'adapters', 'web', 'public');

/** The widget connects back over WebSocket; pages may use inline styles (the widget's shadow DOM) but no inline script. */
const PAGE_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; connect-src 'self' ws: wss:; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'";

export interface AppDeps {
  runtime: Runtime;
  authenticator: Authenticator;
  metrics: ServerMetrics;
  logger: Logger;
  /** Chat platforms (Slack, Teams) whose endpoints live on this app. */
  channels?: readonly ChannelAdapter[];
}

declare module 'express-serve-static-core' {
  interface Request {
    correlationId: string;
  }
}

export function createApp({
  runtime,
  authenticator,
  metrics,
  logger,
  channels = [],
}: AppDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  app.use((req: Request, res: Response, next: NextFunction) => {
    const given = req.get('x-request-id');
    req.correlationId = given && REQUEST_ID.test(given) ? given : randomUUID();
    res.setHeader('x-request-id', req.correlationId);
    res.setHeader('x-content-type-options', 'nosniff');
    const stop = metrics.httpDuration.startTimer();
    res.on('finish', () => {
      const route = req.route?.path ?? (res.statusCode === 404 ? 'unmatched' : 'static');
      stop({ route: String(route), method: req.method, status: String(res.statusCode) });
    });
    next();
  });

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok', uptimeSeconds: Math.round(process.uptime()) });
  });

  app.get('/readyz', async (_req, res) => {
    const components = await Promise.all(
      runtime.components.map(async (c) => ({
        name: c.name,
        required: c.requiredForReadiness,
        ...(await checkComponent(c)),
      })),
    );
    const ready = components.every((c) => !c.required || c.state === 'ok');
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not ready', components });
  });

  app.get('/metrics', async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });

  for (const channel of channels) if (channel.router) app.use(channel.router);
  if (runtime.eventBus) {
    app.use(
      eventsApi({
        bus: runtime.eventBus.bus,
        rules: runtime.eventBus.rules,
        authenticator,
        policy: runtime.policy,
        logger,
        audit: runtime.audit,
      }),
    );
  }

  if (runtime.orchestrator) {
    app.use(
      orchestratorApi({
        orchestrator: runtime.orchestrator.service,
        authenticator,
        policy: runtime.policy,
        logger,
      }),
    );
  }
  if (runtime.quality) {
    app.use(
      qualityApi({
        monitor: runtime.quality,
        firewall: runtime.firewall,
        authenticator,
        policy: runtime.policy,
      }),
    );
  }
  if (runtime.alerting) {
    app.use(
      maintenanceApi({
        windows: runtime.alerting.windows,
        silences: runtime.alerting.silences,
        alerts: runtime.alerting.firing,
        ...(runtime.maintenance ? { controller: runtime.maintenance } : {}),
        authenticator,
        policy: runtime.policy,
        audit: runtime.audit,
        logger,
      }),
    );
  }
  if (runtime.scaler) {
    app.use(scalerApi({ scaler: runtime.scaler.scaler, authenticator, policy: runtime.policy }));
  }
  if (runtime.alerts) {
    app.use(
      alertWebhooks({ router: runtime.alerts, token: runtime.config.orchestrator.webhookToken, logger }),
    );
  }

  app.post('/api/chat', async (req, res) => {
    const credential = bearerCredential(req.get('authorization'));
    const body = parseChatRequest(await readJsonBody(req, MAX_BODY_BYTES));
    const user = authenticator.authenticate(credential, body.user?.id ?? body.conversation);
    if (user.authenticated && body.user && `${user.id.split(':')[0]}:${body.user.id}` !== user.id) {
      throw new RequestError(
        ErrorCode.IdentityMismatch,
        'user.id does not match the authenticated caller; omit "user" or send your own id',
      );
    }
    const result = await runtime.assistant.handle(
      {
        channel: 'api',
        user,
        conversationId: `${user.id}/${body.conversation}`,
        text: body.text,
        action: body.action,
      },
      req.correlationId,
    );
    // Written directly rather than through res.json: this is the hot path and the body is plain JSON.
    res.setHeader('content-type', 'application/json; charset=utf-8');
    res.end(JSON.stringify({ reply: result.reply, nlu: result.nlu }));
  });

  app.post('/api/notify', async (req, res) => {
    const user = authorisedCaller(
      authenticator,
      runtime.policy,
      req.get('authorization'),
      NOTIFY_PERMISSION,
      'notify',
    );
    const request = parseNotifyRequest(await readJsonBody(req, MAX_BODY_BYTES));
    const receipt = await runtime.notifier.notify(request.target, textReply(request.text));
    logger.info(
      { event: 'notify', user: user.id, target: receipt.channel, correlationId: req.correlationId },
      'notification sent',
    );
    res.json({ receipt });
  });

  app.use(
    express.static(WIDGET_DIR, {
      index: 'index.html',
      setHeaders(res, file) {
        if (file.endsWith('.html')) res.setHeader('content-security-policy', PAGE_CSP);
        // The widget changes with the server it talks to, so browsers must revalidate it.
        res.setHeader('cache-control', 'no-cache');
      },
    }),
  );

  app.use((req, res) => sendError(res, 404, ErrorCode.NotFound, `no route for ${req.method} ${req.path}`));
  app.use(errorHandler(logger));
  return app;
}
