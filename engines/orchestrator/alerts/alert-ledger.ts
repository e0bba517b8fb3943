import type { RecordStore } from '../../../bot/core/record-store';
import type { Alert } from './alert';
import type { FiringAlert, FiringAlerts } from './firing-alerts';

/** Enough for a bad day across a fleet; one alert storm cannot grow the store without end. */
export const DEFAULT_MAX_LEDGER_ALERTS = 1_000;
/** A resolved alert is still worth seeing for a while ("what fired overnight?"), then it is forgotten. */
export const RESOLVED_ALERT_RETENTION_MS = 24 * 3_600_000;

/** The latest state of one alert, by fingerprint. */
export interface LedgerEntry extends Alert {
  /** ISO 8601: when opsbot last heard of it. */
  receivedAt: string;
}

export interface AlertLedgerDeps {
  store: RecordStore<LedgerEntry>;
  /** opsbot's own silences (OpsbotSilences.silencedBy), to mark the firing alerts they quiet. */
  silencedBy?: (alert: Alert) => Promise<string | undefined>;
  maxAlerts?: number;
  now?: () => number;
}

/**
 * opsbot's own alert list, for when no Alertmanager can be asked: the latest state of every alert that came
 * in on the webhooks (firing or resolved), one record per fingerprint in a durable store. Bounded: resolved
 * alerts are forgotten after RESOLVED_ALERT_RETENTION_MS, and beyond `maxAlerts` the longest-quiet go first,
 * resolved before firing.
 */
export class AlertLedger implements FiringAlerts {
  readonly description = 'the alerts opsbot received on its webhooks';
  private readonly maxAlerts: number;
  private readonly now: () => number;

  constructor(private readonly deps: AlertLedgerDeps) {
    this.maxAlerts = deps.maxAlerts ?? DEFAULT_MAX_LEDGER_ALERTS;
    this.now = deps.now ?? Date.now;
  }

  /** Remembers each alert's latest state; later notifications of a fingerprint replace earlier ones. */
  async record(alerts: readonly Alert[]): Promise<void> {
    if (alerts.length === 0) return;
    const receivedAt = new Date(this.now()).toISOString();
    for (const alert of alerts) await this.deps.store.put(alert.fingerprint, { ...alert, receivedAt });
    await this.trim();
  }

  /** Every alert remembered, newest news first. */
  async latest(): Promise<LedgerEntry[]> {
    return (await this.deps.store.list())
      .map(({ value }) => value)
      .sort((a, b) => Date.parse(b.receivedAt) - Date.parse(a.receivedAt));
  }

  async firing(): Promise<FiringAlert[]> {
    const firing = (await this.latest()).filter((a) => a.status === 'firing');
    const result: FiringAlert[] = [];
    for (const alert of firing) {
      const silence = await this.deps.silencedBy?.(alert);
      result.push({
        fingerprint: alert.fingerprint,
        labels: alert.labels,
        annotations: alert.annotations,
        startsAt: alert.startsAt,
        ...(alert.generatorURL ? { generatorURL: alert.generatorURL } : {}),
        silencedBy: silence === undefined ? [] : [silence],
        // opsbot has no inhibition rules; only Alertmanager inhibits.
        inhibited: false,
      });
    }
    return result;
  }

  private async trim(): Promise<void> {
    const now = this.now();
    const entries = await this.latest();
    const forget = entries.filter(
      (a) => a.status === 'resolved' && Date.parse(a.receivedAt) + RESOLVED_ALERT_RETENTION_MS <= now,
    );
    const kept = entries.filter((a) => !forget.includes(a));
    if (kept.length > this.maxAlerts) {
      // Oldest news last in `kept`; resolved ones are dropped before any firing one.
      const byPriority = [
        ...kept.filter((a) => a.status === 'firing'),
        ...kept.filter((a) => a.status === 'resolved'),
      ];
      const overflow = byPriority.slice(this.maxAlerts);
      forget.push(...overflow);
    }
    for (const alert of forget) await this.deps.store.delete(alert.fingerprint);
  }
}
