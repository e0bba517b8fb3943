import type { ErrorRequestHandler, Response } from 'express';
import type { Logger } from '../core/logger';
import { ErrorCode, isOpsbotError } from '../core/errors';

const STATUS: Partial<Record<ErrorCode, number>> = {
  [ErrorCode.InvalidRequest]: 400,
  [ErrorCode.InvalidJson]: 400,
  [ErrorCode.Unauthorized]: 401,
  [ErrorCode.IdentityMismatch]: 403,
  [ErrorCode.NotFound]: 404,
  [ErrorCode.PayloadTooLarge]: 413,
  [ErrorCode.UnsupportedMediaType]: 415,
  [ErrorCode.TextTooLong]: 422,
  [ErrorCode.SessionStoreUnavailable]: 503,
};

export function sendError(res: Response, status: number, code: ErrorCode | string, message: string): void {
  res.status(status).json({ error: { code, message } });
}

/** body-parser's own failures, mapped to opsbot's error codes. */
const BODY_PARSER_ERRORS: Record<string, [number, ErrorCode, string]> = {
  'entity.parse.failed': [400, ErrorCode.InvalidJson, 'the request body is not valid JSON'],
  'entity.too.large': [413, ErrorCode.PayloadTooLarge, 'the request body is larger than 64 KB'],
  'encoding.unsupported': [415, ErrorCode.UnsupportedMediaType, 'unsupported content encoding'],
  'charset.unsupported': [415, ErrorCode.UnsupportedMediaType, 'unsupported charset'],
  'request.aborted': [400, ErrorCode.InvalidRequest, 'the request was aborted'],
};

/** Every error leaves as `{"error":{"code","message"}}`; internal details stay in the log. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    const type = (err as { type?: string }).type;
    const parserError = type ? BODY_PARSER_ERRORS[type] : undefined;
    if (parserError) return sendError(res, ...parserError);
    if (isOpsbotError(err)) {
      const status = STATUS[err.code] ?? 500;
      if (status >= 500) logger.error({ err, code: err.code, path: req.path }, 'request failed');
      return sendError(res, status, err.code, err.message);
    }
    logger.error({ err, path: req.path }, 'unexpected error');
    return sendError(res, 500, ErrorCode.Internal, 'internal error');
  };
}
