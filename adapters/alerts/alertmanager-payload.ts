import { ErrorCode, RequestError } from '../../bot/core/errors';
import { type Alert, type AlertSource, labelsFingerprint } from '../../engines/orchestrator/alerts/alert';
import { isRecord } from '../is-record';

/** Go's zero time: Alertmanager and Grafana send it as `endsAt` of an alert with no known end. */
const ZERO_TIME_MS = Date.parse('0001-01-01T00:00:00Z');
/** Ends up in run dedup keys and record keys: Alertmanager's are 16 hex digits; anything odd is refused. */
const FINGERPRINT = /^[A-Za-z0-9_.-]{1,128}$/;

/**
 * The alerts of an Alertmanager webhook (payload version 4). Only what opsbot uses is checked: the group
 * fields (groupKey, receiver, commonLabels…) describe Alertmanager's grouping, and opsbot routes each alert on
 * its own. A bad payload is a RequestError naming the field.
 */
export function alertmanagerAlerts(body: unknown): Alert[] {
  if (!isRecord(body)) throw invalid('the body must be a JSON object (an Alertmanager webhook payload)');
  if (body.version !== '4') {
    throw invalid(`version: expected "4" (Alertmanager webhook v4), got ${shown(body.version)}`);
  }
  return webhookAlerts(body.alerts, 'alertmanager');
}

/**
 * The `alerts` list of a webhook in Alertmanager's format, which Grafana's unified alerting copies. An alert
 * without a fingerprint gets the one Alertmanager would compute from its labels.
 */
export function webhookAlerts(value: unknown, source: AlertSource): Alert[] {
  if (!Array.isArray(value)) throw invalid(`alerts: must be a list, got ${shown(value)}`);
  if (value.length === 0) throw invalid('alerts: must list at least one alert');
  return value.map((item, i) => webhookAlert(item, `alerts[${i}]`, source));
}

function webhookAlert(value: unknown, field: string, source: AlertSource): Alert {
  if (!isRecord(value)) throw invalid(`${field}: must be an object`);
  const { status } = value;
  if (status !== 'firing' && status !== 'resolved') {
    throw invalid(`${field}.status: must be "firing" or "resolved", got ${shown(status)}`);
  }
  const labels = stringMap(value.labels, `${field}.labels`);
  if (Object.keys(labels).length === 0) throw invalid(`${field}.labels: must have at least one label`);
  // An alert with no annotations comes as {} from Alertmanager, as null from some Grafana versions.
  const annotations = value.annotations == null ? {} : stringMap(value.annotations, `${field}.annotations`);
  const alert: Alert = {
    source,
    fingerprint: fingerprintOf(value.fingerprint, labels, `${field}.fingerprint`),
    status,
    labels,
    annotations,
    startsAt: timestamp(value.startsAt, `${field}.startsAt`),
  };
  if (value.endsAt !== undefined && value.endsAt !== null) {
    const endsAt = timestamp(value.endsAt, `${field}.endsAt`);
    if (Date.parse(endsAt) !== ZERO_TIME_MS) alert.endsAt = endsAt;
  }
  if (value.generatorURL !== undefined && value.generatorURL !== null) {
    if (typeof value.generatorURL !== 'string') throw invalid(`${field}.generatorURL: must be a string`);
    if (value.generatorURL !== '') alert.generatorURL = value.generatorURL;
  }
  return alert;
}

function fingerprintOf(value: unknown, labels: Record<string, string>, field: string): string {
  if (value === undefined || value === null || value === '') return labelsFingerprint(labels);
  if (typeof value !== 'string' || !FINGERPRINT.test(value)) {
    throw invalid(`${field}: must be 1-128 letters, digits, dot, dash or underscore, got ${shown(value)}`);
  }
  return value;
}

function stringMap(value: unknown, field: string): Record<string, string> {
  if (!isRecord(value)) throw invalid(`${field}: must be an object of strings, got ${shown(value)}`);
  for (const [name, item] of Object.entries(value)) {
    if (name === '') throw invalid(`${field}: has an empty name`);
    if (typeof item !== 'string') throw invalid(`${field}.${name}: must be a string, got ${shown(item)}`);
  }
  return value as Record<string, string>;
}

/** RFC 3339 in, ISO 8601 (milliseconds, UTC) out: Go's nanoseconds and zone offsets are normalised. */
function timestamp(value: unknown, field: string): string {
  const ms = typeof value === 'string' ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(ms)) throw invalid(`${field}: must be an RFC 3339 timestamp, got ${shown(value)}`);
  return new Date(ms).toISOString();
}

/** A short rendering of a bad value for an error message; payloads can be large. */
function shown(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

function invalid(message: string): RequestError {
  return new RequestError(ErrorCode.InvalidRequest, message);
}
