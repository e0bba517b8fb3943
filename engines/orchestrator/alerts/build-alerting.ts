import { AlertmanagerApi } from '../../../adapters/alerts/alertmanager-api';
import { AlertmanagerFiringAlerts } from '../../../adapters/alerts/alertmanager-firing-alerts';
import { AlertmanagerSilences } from '../../../adapters/alerts/alertmanager-silences';
import type { ServiceCatalog } from '../../../bot/config/catalog';
import type { OpsbotConfig } from '../../../bot/config/schema';
import type { AuditTrail } from '../../../bot/core/audit-trail';
import type { RecordStore } from '../../../bot/core/record-store';
import { MaintenanceWindows, type MaintenanceWindow } from '../../maintenance/maintenance-windows';
import type { Alert } from './alert';
import { AlertLedger, type LedgerEntry } from './alert-ledger';
import type { FiringAlerts } from './firing-alerts';
import { OpsbotSilences, type SilenceRecord } from './opsbot-silences';
import type { Silences } from './silences';

/** Where firing alerts are read and silences kept: Alertmanager's API when configured, opsbot's own otherwise. */
export interface Alerting {
  /** "alertmanager http://am:9093" or "opsbot's own alert list and silences". */
  description: string;
  silences: Silences;
  firing: FiringAlerts;
  /** Every alert the router sees, for opsbot's own list; nothing to do when Alertmanager keeps the list. */
  record(alerts: readonly Alert[]): Promise<void>;
  /**
   * The silence matching an alert, for the router: only opsbot's own silences, since Alertmanager applies its
   * own before it notifies.
   */
  silencedBy?: (alert: Alert) => Promise<string | undefined>;
  windows: MaintenanceWindows;
}

export function buildAlerting(
  config: OpsbotConfig,
  deps: {
    records: <T>(name: string) => RecordStore<T>;
    catalog: ServiceCatalog;
    audit: AuditTrail;
  },
): Alerting {
  const am = config.alerts.alertmanager;
  const api = am.url
    ? new AlertmanagerApi({ url: am.url, timeoutMs: am.timeoutMs, bearerToken: am.bearerToken })
    : undefined;
  const own = api ? undefined : new OpsbotSilences({ store: deps.records<SilenceRecord>('silences') });
  const silences: Silences = api ? new AlertmanagerSilences(api) : (own as OpsbotSilences);
  const ledger = api
    ? undefined
    : new AlertLedger({
        store: deps.records<LedgerEntry>('alert-ledger'),
        silencedBy: (alert) => (own as OpsbotSilences).silencedBy(alert),
      });
  return {
    description: api ? api.description : "opsbot's own alert list and silences",
    silences,
    firing: api ? new AlertmanagerFiringAlerts(api) : (ledger as AlertLedger),
    record: async (alerts) => {
      await ledger?.record(alerts);
    },
    ...(own ? { silencedBy: (alert: Alert) => own.silencedBy(alert) } : {}),
    windows: new MaintenanceWindows({
      store: deps.records<MaintenanceWindow>('maintenance-windows'),
      catalog: deps.catalog,
      silences,
      audit: deps.audit,
    }),
  };
}
