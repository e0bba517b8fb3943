/** Coded errors: adapters map a code to their surface (HTTP status, CLI exit code, a chat reply). */
export enum ErrorCode {
  ConfigInvalid = 'config_invalid',
  RuleInvalid = 'rule_invalid',
  InvalidRequest = 'invalid_request',
  InvalidJson = 'invalid_json',
  PayloadTooLarge = 'payload_too_large',
  UnsupportedMediaType = 'unsupported_media_type',
  TextTooLong = 'text_too_long',
  NotFound = 'not_found',
  Unauthorized = 'unauthorized',
  IdentityMismatch = 'identity_mismatch',
  SessionStoreUnavailable = 'session_store_unavailable',
  IndexMissing = 'index_missing',
  IndexCorrupt = 'index_corrupt',
  IndexVersionMismatch = 'index_version_mismatch',
  Forbidden = 'forbidden',
  NotifyTargetUnknown = 'notify_target_unknown',
  ChannelNotConfigured = 'channel_not_configured',
  ChannelDeliveryFailed = 'channel_delivery_failed',
  DriverFailed = 'driver_failed',
  DriverTimeout = 'driver_timeout',
  SchemaInvalid = 'schema_invalid',
  SchemaIncompatible = 'schema_incompatible',
  RuleExists = 'rule_exists',
  AuditLogCorrupt = 'audit_log_corrupt',
  Internal = 'internal_error',
}

export class OpsbotError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'OpsbotError';
  }
}

export class ConfigError extends OpsbotError {
  constructor(
    message: string,
    readonly issues: string[] = [],
  ) {
    super(ErrorCode.ConfigInvalid, message);
    this.name = 'ConfigError';
  }
}

export class RequestError extends OpsbotError {
  constructor(code: ErrorCode, message: string) {
    super(code, message);
    this.name = 'RequestError';
  }
}

export function isOpsbotError(err: unknown): err is OpsbotError {
  return err instanceof OpsbotError;
}
