import { parse as parseQuery } from 'node:querystring';
import {
  type App,
  HTTPResponseAck,
  isValidSlackRequest,
  type Logger as BoltLogger,
  type Receiver,
} from '@slack/bolt';
import { Router, type Request, type Response } from 'express';
import { ErrorCode } from '../../bot/core/errors';
import { sendError } from '../../bot/server/http-errors';
import { readBodyText } from '../../bot/server/json-body';
import { isRecord } from '../is-record';

export const SLACK_EVENTS_PATH = '/slack/events';
/** Slack's payloads are small; a generous bound still refuses a body meant to exhaust memory. */
const SLACK_BODY_LIMIT_BYTES = 1024 * 1024;
/** Slack gives up on a request after 3 s; bolt answers for a listener that has not acked just after that. */
const UNHANDLED_REQUEST_TIMEOUT_MS = 3001;

/**
 * Bolt's receiver inside opsbot's own Express app: one URL for slash commands, events and interactivity.
 * The raw body is verified against the signing secret with bolt's own check before anything is parsed;
 * an unsigned, wrongly signed or stale (over 5 minutes) request gets 401 and never reaches a listener.
 */
export class SlackHttpReceiver implements Receiver {
  readonly router = Router();
  private bolt?: App;

  constructor(
    private readonly signingSecret: string,
    private readonly logger: BoltLogger,
  ) {
    this.router.post(SLACK_EVENTS_PATH, (req, res, next) => {
      this.handle(req, res).catch(next);
    });
  }

  init(app: App): void {
    this.bolt = app;
  }

  // Nothing to start or stop: opsbot's own HTTP server carries the endpoint.
  async start(): Promise<void> {}
  async stop(): Promise<void> {}

  private async handle(req: Request, res: Response): Promise<void> {
    const raw = await readBodyText(req, SLACK_BODY_LIMIT_BYTES);
    const signature = req.get('x-slack-signature');
    const timestamp = Number(req.get('x-slack-request-timestamp'));
    const valid =
      signature !== undefined &&
      Number.isFinite(timestamp) &&
      isValidSlackRequest({
        signingSecret: this.signingSecret,
        body: raw,
        headers: { 'x-slack-signature': signature, 'x-slack-request-timestamp': timestamp },
      });
    if (!valid) {
      return sendError(
        res,
        401,
        ErrorCode.Unauthorized,
        'Slack request verification failed: unsigned, signed with another secret, or older than 5 minutes',
      );
    }

    const body = parseSlackBody(raw, req.get('content-type'));
    if (!body) return sendError(res, 400, ErrorCode.InvalidRequest, 'not a Slack payload');
    if (body.ssl_check) {
      res.status(200).end();
      return;
    }
    if (body.type === 'url_verification') {
      res.json({ challenge: body.challenge });
      return;
    }

    const ack = new HTTPResponseAck({
      logger: this.logger,
      processBeforeResponse: false,
      unhandledRequestTimeoutMillis: UNHANDLED_REQUEST_TIMEOUT_MS,
      httpRequest: req,
      httpRequestBody: body,
      httpResponse: res,
    });
    const retry = req.get('x-slack-retry-num');
    try {
      await this.bolt?.processEvent({
        body,
        ack: ack.bind(),
        retryNum: retry === undefined ? undefined : Number(retry),
        retryReason: req.get('x-slack-retry-reason'),
      });
      if (ack.storedResponse !== undefined && !res.headersSent) {
        res.json(ack.storedResponse);
      }
    } catch (err) {
      this.logger.error(`Slack listener failed: ${(err as Error).message}`);
      if (!res.headersSent) sendError(res, 500, ErrorCode.Internal, 'internal error');
    }
  }
}

/** Slash commands and interactivity arrive form-encoded (interactivity as a JSON `payload` field); events as JSON. */
function parseSlackBody(raw: string, contentType: string | undefined): Record<string, unknown> | undefined {
  try {
    if (contentType?.startsWith('application/x-www-form-urlencoded')) {
      const form = parseQuery(raw);
      if (typeof form.payload === 'string') return asObject(JSON.parse(form.payload));
      return form as Record<string, unknown>;
    }
    return asObject(JSON.parse(raw));
  } catch {
    return undefined;
  }
}

function asObject(value: unknown): Record<string, unknown> | undefined {
  return isRecord(value) ? value : undefined;
}
