/**
 * An alert as the orchestrator sees it, whatever sent it: the Alertmanager and Grafana adapters translate
 * their webhook payloads into this shape, and nothing past an adapter reads a platform payload. opsbot's own
 * maintenance controller raises alerts in it too, for a service its health checks see failing.
 */
export type AlertSource = 'alertmanager' | 'grafana' | 'opsbot-maintenance';

export interface Alert {
  source: AlertSource;
  /** Identifies one alert across notifications: the same labels give the same fingerprint. */
  fingerprint: string;
  status: 'firing' | 'resolved';
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** ISO 8601. */
  startsAt: string;
  /** ISO 8601; absent while the alert has no known end. */
  endsAt?: string;
  /** The rule or graph that produced it. */
  generatorURL?: string;
}

const FNV_OFFSET_64 = 14695981039346656037n;
const FNV_PRIME_64 = 1099511628211n;
/** A byte that never occurs in UTF-8, so "a"+"bc" and "ab"+"c" hash differently. */
const SEPARATOR_BYTE = 0xff;

/**
 * The fingerprint Alertmanager (and Grafana, which reuses its code) gives a label set: FNV-1a 64 over the
 * label names in sorted order, each name and value followed by the byte 0xff, printed as 16 hex digits
 * (prometheus/common `model.LabelSet.Fingerprint`). Computing the very same value means an alert whose
 * sender left the fingerprint out still deduplicates with one that carried it.
 */
export function labelsFingerprint(labels: Record<string, string>): string {
  let hash = FNV_OFFSET_64;
  const add = (byte: number) => {
    hash = BigInt.asUintN(64, (hash ^ BigInt(byte)) * FNV_PRIME_64);
  };
  // Label names are ASCII (Prometheus' name syntax), so sorting by UTF-16 units is sorting by bytes, as Go does.
  for (const name of Object.keys(labels).sort()) {
    for (const byte of Buffer.from(name, 'utf8')) add(byte);
    add(SEPARATOR_BYTE);
    for (const byte of Buffer.from(labels[name] ?? '', 'utf8')) add(byte);
    add(SEPARATOR_BYTE);
  }
  return hash.toString(16).padStart(16, '0');
}
