import type { ErrorRequestHandler, Response } from 'express';
import type { Logger } from '../core/logger';
import { ErrorCode, isOpsbotError } from '../core/errors';

const STATUS: Partial<Record<ErrorCode, number>> = {
  [ErrorCode.InvalidRequest]: 400,
  [ErrorCode.InvalidJson]: 400,
  [ErrorCode.Unauthorized]: 401,
  [ErrorCode.IdentityMismatch]: 403,
  [ErrorCode.Forbidden]: 403,
  [ErrorCode.NotifyTargetUnknown]: 404,
  [ErrorCode.ChannelNotConfigured]: 409,
  [ErrorCode.ChannelDeliveryFailed]: 502,
  [ErrorCode.NotFound]: 404,
  [ErrorCode.PayloadTooLarge]: 413,
  [ErrorCode.UnsupportedMediaType]: 415,
  [ErrorCode.TextTooLong]: 422,
  [ErrorCode.SessionStoreUnavailable]: 503,
  [ErrorCode.RuleInvalid]: 400,
  [ErrorCode.RuleExists]: 409,
  [ErrorCode.SchemaInvalid]: 400,
  [ErrorCode.SchemaIncompatible]: 409,
};

export function sendError(res: Response, status: number, code: ErrorCode | string, message: string): void {
  res.status(status).json({ error: { code, message } });
}

/** Every error leaves as `{"error":{"code","message"}}`; internal details stay in the log. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    if (isOpsbotError(err)) {
      const status = STATUS[err.code] ?? 500;
      if (status >= 500) logger.error({ err, code: err.code, path: req.path }, 'request failed');
      return sendError(res, status, err.code, err.message);
    }
    logger.error({ err, path: req.path }, 'unexpected error');
    return sendError(res, 500, ErrorCode.Internal, 'internal error');
  };
}
