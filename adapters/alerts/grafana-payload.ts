import { ErrorCode, RequestError } from '../../bot/core/errors';
import type { Alert } from '../../engines/orchestrator/alerts/alert';
import { isRecord } from '../is-record';
import { webhookAlerts } from './alertmanager-payload';

/**
 * The alerts of a Grafana unified alerting webhook (payload version 1). Its alerts are Alertmanager's, plus
 * Grafana's links (silenceURL, dashboardURL, panelURL) and `values`, which opsbot does not use; the message
 * fields (title, state, message) are rendered for people, not routed on. Legacy (pre-8) Grafana alerting
 * sent another shape altogether and is refused by the version check.
 */
export function grafanaAlerts(body: unknown): Alert[] {
  if (!isRecord(body)) {
    throw invalid('the body must be a JSON object (a Grafana unified alerting webhook payload)');
  }
  if (body.version !== '1') {
    const got = body.version === undefined ? 'nothing' : JSON.stringify(body.version).slice(0, 40);
    throw invalid(`version: expected "1" (Grafana unified alerting webhook), got ${got}`);
  }
  return webhookAlerts(body.alerts, 'grafana');
}

function invalid(message: string): RequestError {
  return new RequestError(ErrorCode.InvalidRequest, message);
}
