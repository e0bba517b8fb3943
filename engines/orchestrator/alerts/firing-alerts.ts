/** An alert that fires now, as alert_status and GET /api/v1/alerts show it, whoever keeps the list. */
export interface FiringAlert {
  fingerprint: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** ISO 8601. */
  startsAt: string;
  generatorURL?: string;
  /** Ids of the silences that match it; empty when none does. */
  silencedBy: string[];
  /** Another alert inhibits it (Alertmanager's inhibition rules). */
  inhibited: boolean;
}

/**
 * The alerts firing now: Alertmanager's list when one is configured, otherwise the alerts opsbot received on
 * its webhooks (AlertLedger). Throws when the list cannot be read, so a reply can say so rather than "none".
 */
export interface FiringAlerts {
  /** "Alertmanager at http://alertmanager:9093/", "the alerts opsbot received": for replies. */
  readonly description: string;
  firing(): Promise<FiringAlert[]>;
}
