import { detectCards } from './detectors/card';
import { detectEmails } from './detectors/email';
import { detectIbans } from './detectors/iban';
import { detectIps } from './detectors/ip';
import { detectPhones } from './detectors/phone';
import { detectSecrets } from './detectors/secret';
import { detectSsns } from './detectors/ssn';
import { TextScan } from './text-scan';
import { DEFAULT_THRESHOLD, type Detector, type Finding, type PiiType } from './finding';

export interface DetectOptions {
  /** Candidates scoring below this are dropped; `DEFAULT_THRESHOLD` (0.5) unless given. */
  threshold?: number;
  /** Only these types are looked for; all detectable types unless given. */
  types?: readonly PiiType[];
}

/** The detector of each detectable type. `person_name` has none yet. */
export const DETECTORS: Readonly<Partial<Record<PiiType, Detector>>> = {
  secret: detectSecrets,
  email: detectEmails,
  credit_card: detectCards,
  iban: detectIbans,
  us_ssn: detectSsns,
  phone: detectPhones,
  ip_address: detectIps,
};

const ALL_DETECTORS: readonly Detector[] = Object.values(DETECTORS);

/**
 * Every PII and secret finding in `text` scoring at least the threshold, without overlaps, sorted by start.
 * Where candidates overlap the higher score wins, then the longer span, then the earlier one.
 */
export function detectPii(text: string, options: DetectOptions = {}): Finding[] {
  if (text.length === 0) return [];
  const threshold = options.threshold ?? DEFAULT_THRESHOLD;
  const detectors = options.types
    ? options.types.map((t) => DETECTORS[t]).filter((d): d is Detector => d !== undefined)
    : ALL_DETECTORS;
  const candidates: Finding[] = [];
  const scan = new TextScan(text);
  for (const detect of detectors)
    for (const finding of detect(text, scan)) if (finding.score >= threshold) candidates.push(finding);
  return resolveOverlaps(candidates);
}

/**
 * Keeps the best of overlapping findings (score, then length, then earlier start) and sorts by start. Findings
 * can only displace findings they overlap, directly or through others, so the text is cut into clusters of
 * overlapping findings (one sort by start) and the ranking is applied within each cluster; most clusters are a
 * single finding.
 */
export function resolveOverlaps(findings: readonly Finding[]): Finding[] {
  const byStart = findings.slice().sort((a, b) => a.start - b.start || a.end - b.end);
  const kept: Finding[] = [];
  let i = 0;
  while (i < byStart.length) {
    let j = i + 1;
    let clusterEnd = (byStart[i] as Finding).end;
    while (j < byStart.length && (byStart[j] as Finding).start < clusterEnd) {
      clusterEnd = Math.max(clusterEnd, (byStart[j] as Finding).end);
      j++;
    }
    if (j === i + 1) kept.push(byStart[i] as Finding);
    else for (const f of bestOfCluster(byStart.slice(i, j))) kept.push(f);
    i = j;
  }
  return kept;
}

/** The findings of one cluster that no better-ranked kept finding overlaps, by start. */
function bestOfCluster(cluster: Finding[]): Finding[] {
  cluster.sort((a, b) => b.score - a.score || b.end - b.start - (a.end - a.start) || a.start - b.start);
  const kept: Finding[] = [];
  for (const f of cluster) if (kept.every((k) => k.end <= f.start || k.start >= f.end)) kept.push(f);
  return kept.sort((a, b) => a.start - b.start);
}
