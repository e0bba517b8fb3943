import { detectCards } from './detectors/card';
import { detectEmails } from './detectors/email';
import { detectIbans } from './detectors/iban';
import { detectIps } from './detectors/ip';
import { detectPhones } from './detectors/phone';
import { detectSecrets } from './detectors/secret';
import { detectSsns } from './detectors/ssn';
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
  for (const detect of detectors)
    for (const finding of detect(text)) if (finding.score >= threshold) candidates.push(finding);
  return resolveOverlaps(candidates);
}

/**
 * Keeps the best of overlapping findings (score, then length, then earlier start) and sorts by start. The kept
 * findings never overlap, so each candidate is checked against its two neighbours by start: O(n log n).
 */
export function resolveOverlaps(findings: readonly Finding[]): Finding[] {
  if (findings.length <= 1) return findings.slice();
  const ranked = findings
    .slice()
    .sort((a, b) => b.score - a.score || b.end - b.start - (a.end - a.start) || a.start - b.start);
  const kept: Finding[] = [];
  for (const f of ranked) {
    // The first kept finding starting at or after f.start.
    let lo = 0;
    let hi = kept.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (kept[mid]!.start < f.start) lo = mid + 1;
      else hi = mid;
    }
    const before = kept[lo - 1];
    const after = kept[lo];
    if ((before && before.end > f.start) || (after && after.start < f.end)) continue;
    kept.splice(lo, 0, f);
  }
  return kept;
}
