import { clampScore, type Finding } from '../finding';
import { scoreWithContext } from '../context';
import { TextScan } from '../text-scan';
import { forEachMatchInRun } from './runs';

/**
 * A phone-shaped candidate: optional +country code, optional (area) group, then digit groups joined by single
 * spaces, dots or dashes. Look-arounds keep it out of words, longer digit runs, identifiers (ORD-88213,
 * v2.3.14, #1234), URLs, hosts with ports and times (10:22:33). Which candidates are phones is decided by shape
 * and context below.
 */
const PHONE_CANDIDATE =
  /(?<![\w+@#/:.-])(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,5}\)[ .-]?)?\d+(?:[ .-]\d+){0,6}(?![\w@/:]|[.-]\d)/g;

const MIN_PHONE_DIGITS = 7;

/** North American numbers: (415) 555-0132, 415-555-0132, 415.555.0132, +1 415 555 0132. */
const NANP = /^(?:\+?1[ .-]?)?(?:\([2-9]\d{2}\)[ .-]?|[2-9]\d{2}[ .-])[2-9]\d{2}[ .-]\d{4}$/;
/** International with a + country code (E.164 written out): +44 20 7946 0958, +49 30 12345678, +14155550132. */
const E164 = /^\+[1-9]\d*(?:(?:[ .-]|[ .-]?\(\d{1,4}\)[ .-]?)\d+)*$/;
/** International with a 00 prefix: 0044 20 7946 0958. */
const INTL_00 = /^00[1-9]\d{0,2}(?:[ .-]\d{1,8}){1,5}$/;
/** National with a trunk 0: 020 7946 0958, 030 12345678, 07911 123456, (030) 1234567. */
const NATIONAL = /^(?:\(0\d{1,4}\)[ -]?|0\d{1,4}[ -])\d{2,8}(?:[ -]\d{2,4}){0,3}$/;
/**
 * Groupings that are never phone numbers, tested before any phone shape: dates written with digits only
 * (2024-05-01, 01.05.2024), which have too few digits for any known shape anyway, and 3-2-4, the US SSN's
 * grouping and no country's phone grouping (the SSN detector judges it).
 */
const NOT_A_PHONE =
  /^(?:\d{4}[-./ ]\d{1,2}[-./ ]\d{1,2}|\d{1,2}[-./ ]\d{1,2}[-./ ]\d{4}|\d{3}[ -]\d{2}[ -]\d{4})$/;

const BASE = { e164: 0.85, nanp: 0.8, national: 0.7, other: 0.35, bare: 0.3 } as const;
/** Phone words near a candidate ("call", "tel", "mobile") lift a bare or odd-looking number above threshold. */
const CONTEXT_BOOST = 0.3;
const NEGATIVE_PENALTY = 0.4;

type Shape = keyof typeof BASE;

function countDigits(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) n++;
  }
  return n;
}

function knownShape(s: string, digits: number): Shape | undefined {
  if (s.charCodeAt(0) === 43 /* + */) return digits >= 8 && digits <= 15 && E164.test(s) ? 'e164' : undefined;
  if (digits === 10 || digits === 11) {
    if (NANP.test(s)) return 'nanp';
  }
  if (digits >= 9 && digits <= 15 && s.startsWith('00') && INTL_00.test(s)) return 'e164';
  if (digits >= 9 && digits <= 12 && NATIONAL.test(s)) return 'national';
  return undefined;
}

/** The longest prefix of the candidate (whole groups) that has a known phone shape, and that shape. */
function bestPrefix(candidate: string): { length: number; shape: Shape } | undefined {
  let s = candidate;
  for (;;) {
    const digits = countDigits(s);
    if (digits < 7) return undefined;
    const shape = knownShape(s, digits);
    if (shape) return { length: s.length, shape };
    const cut = Math.max(s.lastIndexOf(' '), s.lastIndexOf('-'), s.lastIndexOf('.'));
    if (cut <= 0) return undefined;
    s = s.slice(0, cut);
  }
}

/**
 * Phone numbers: international (+ or 00 prefix), North American and national trunk-0 formats score as phones
 * on their shape; bare digit runs and other groupings score low unless a phone word is near.
 */
export function detectPhones(text: string, scan = new TextScan(text)): Finding[] {
  const findings: Finding[] = [];
  const onMatch = (m: RegExpExecArray, start: number) => {
    const candidate = m[0];
    if (candidate.length < MIN_PHONE_DIGITS) return;
    const digits = countDigits(candidate);
    if (digits < MIN_PHONE_DIGITS || NOT_A_PHONE.test(candidate)) return;
    let length = candidate.length;
    let shape: Shape;
    const best = bestPrefix(candidate);
    if (best) {
      length = best.length;
      shape = best.shape;
    } else {
      if (digits > 15) return;
      const hasSeparator = /[ .\-()]/.test(candidate);
      // Only-dot groupings are versions or addresses (10.0.12.144, 1.20.3), not phones, unless NANP.
      if (hasSeparator && !/[ \-()]/.test(candidate)) return;
      shape = hasSeparator ? 'other' : 'bare';
      if (shape === 'bare' && digits !== 10 && digits !== 11) {
        // Seven to nine or twelve+ bare digits are rarely written phones; keep them only with a phone word.
        shape = 'other';
      }
    }
    const score = scoreWithContext(text, start, 'phone', BASE[shape], CONTEXT_BOOST, NEGATIVE_PENALTY, scan);
    findings.push({ type: 'phone', start, end: start + length, score: clampScore(score) });
  };
  for (const run of scan.numberRuns())
    if (run.digits >= MIN_PHONE_DIGITS) forEachMatchInRun(text, run.start, run.end, PHONE_CANDIDATE, onMatch);
  return findings;
}
