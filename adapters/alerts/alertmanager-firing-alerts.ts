import type { FiringAlert, FiringAlerts } from '../../engines/orchestrator/alerts/firing-alerts';
import type { AlertmanagerApi } from './alertmanager-api';

/**
 * The alerts Alertmanager holds now, silenced and inhibited ones included so a reply can say which are
 * quiet and why. Alertmanager leaves resolved alerts out of its list.
 */
export class AlertmanagerFiringAlerts implements FiringAlerts {
  readonly description: string;

  constructor(private readonly api: AlertmanagerApi) {
    this.description = api.description;
  }

  async firing(): Promise<FiringAlert[]> {
    const alerts = await this.api.listAlerts({
      active: true,
      silenced: true,
      inhibited: true,
      unprocessed: true,
    });
    return alerts.map((a) => ({
      fingerprint: a.fingerprint,
      labels: a.labels,
      annotations: a.annotations,
      startsAt: a.startsAt,
      ...(a.generatorURL ? { generatorURL: a.generatorURL } : {}),
      silencedBy: a.silencedBy,
      inhibited: a.inhibitedBy.length > 0,
    }));
  }
}
