/**
 * What the PII and secrets firewall (issue 9) reports: a typed span of the scanned text with a confidence.
 * Offsets are JavaScript string indices, i.e. UTF-16 code units of the text, so an emoji before a finding
 * counts as two; `end` is exclusive (`text.slice(start, end)` is the finding).
 */
import type { TextScan } from './text-scan';

/**
 * Every type the firewall knows, by the names the issue fixes. `person_name` is reserved: no detector finds
 * names yet (no well-kept offline library does it reliably enough), but policies may already name it.
 */
export const PII_TYPES = [
  'email',
  'phone',
  'credit_card',
  'iban',
  'us_ssn',
  'ip_address',
  'secret',
  'person_name',
] as const;

export type PiiType = (typeof PII_TYPES)[number];

export interface Finding {
  readonly type: PiiType;
  /** First UTF-16 code unit of the finding in the scanned text. */
  readonly start: number;
  /** One past the last UTF-16 code unit (exclusive). */
  readonly end: number;
  /** Confidence in 0..1; candidates below the threshold are not reported. */
  readonly score: number;
}

/** A candidate scoring below this is not reported by `detectPii` unless the caller picks another threshold. */
export const DEFAULT_THRESHOLD = 0.5;

/**
 * A detector for one family: every candidate it sees, scored, possibly below the threshold. `scan` holds what
 * the detectors of one text share (found once); a detector called alone makes its own.
 */
export type Detector = (text: string, scan?: TextScan) => Finding[];

export function isPiiType(value: string): value is PiiType {
  return (PII_TYPES as readonly string[]).includes(value);
}

/** Keeps a score inside 0..1 and to three decimals, so equal evidence compares equal. */
export function clampScore(score: number): number {
  if (score <= 0) return 0;
  if (score >= 1) return 1;
  return Math.round(score * 1000) / 1000;
}
