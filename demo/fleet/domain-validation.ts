import { isRecord } from '../../adapters/is-record';
import { HttpError } from './http-json';

/** Longest free-text field accepted; ids, names and addresses are all far shorter. */
const MAX_TEXT_LENGTH = 500;

export function invalid(message: string): HttpError {
  return new HttpError(400, 'invalid_request', message);
}

export function requireObject(value: unknown, what = 'body'): Record<string, unknown> {
  if (!isRecord(value)) throw invalid(`${what} must be a JSON object`);
  return value;
}

export function requireText(
  body: Record<string, unknown>,
  field: string,
  maxLength = MAX_TEXT_LENGTH,
): string {
  const value = body[field];
  if (typeof value !== 'string' || value.trim() === '' || value.length > maxLength) {
    throw invalid(`${field} must be a non-empty string of at most ${maxLength} characters`);
  }
  return value;
}

export function optionalText(body: Record<string, unknown>, field: string): string | undefined {
  return body[field] === undefined ? undefined : requireText(body, field);
}

export function requirePositiveInteger(body: Record<string, unknown>, field: string, max: number): number {
  const value = body[field];
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    throw invalid(`${field} must be a whole number from 1 to ${max}`);
  }
  return value;
}

export function notFound(what: string, id: string): HttpError {
  return new HttpError(404, 'not_found', `no ${what} ${id}`);
}

export function conflict(code: string, message: string): HttpError {
  return new HttpError(409, code, message);
}
