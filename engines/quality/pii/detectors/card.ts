import { clampScore, type Finding } from '../finding';
import { scoreWithContext } from '../context';
import { luhn } from '../validators';
import { TextScan } from '../text-scan';
import { forEachMatchInRun } from './runs';

/**
 * 12 to 19 digits, optionally grouped by single spaces or dashes, not inside a longer run of digits or an
 * identifier. The group layout and the Luhn check decide below.
 */
const CARD_CANDIDATE = /(?<![\w.\-+])\d(?:[ -]?\d){11,18}(?![\w]|[.-]\d)/g;
const MIN_CARD_DIGITS = 12;

/**
 * Whether the digits start with a known issuer prefix at a length that issuer uses: Visa, Mastercard, Amex,
 * Discover, Diners, JCB, UnionPay, Maestro.
 */
export function knownIssuer(d: string): boolean {
  const n = d.length;
  const p2 = Number(d.slice(0, 2));
  const p4 = Number(d.slice(0, 4));
  if (d.charCodeAt(0) === 52 /* 4 */) return n === 13 || n === 16 || n === 19;
  if ((p2 >= 51 && p2 <= 55) || (p4 >= 2221 && p4 <= 2720)) return n === 16;
  if (p2 === 34 || p2 === 37) return n === 15;
  if (p4 === 6011 || p2 === 65 || (p4 >= 6440 && p4 <= 6499)) return n >= 16 && n <= 19;
  if (p2 === 36 || p2 === 38 || (p4 >= 3000 && p4 <= 3059)) return n >= 14 && n <= 19;
  if (p4 >= 3528 && p4 <= 3589) return n >= 16 && n <= 19;
  if (p2 === 62) return n >= 16 && n <= 19;
  if (p2 === 50 || (p2 >= 56 && p2 <= 69)) return n >= 12 && n <= 19;
  return false;
}

/** Groups as printed on cards: 4-4-4-4(-1..3), 4-4-4-1..4, Amex 4-6-5, Diners 4-6-4. */
function plausibleGrouping(candidate: string): boolean {
  const sep = candidate.includes(' ') ? ' ' : candidate.includes('-') ? '-' : '';
  if (sep === '') return true;
  if (sep === ' ' && candidate.includes('-')) return false;
  const groups = candidate.split(sep).map((g) => g.length);
  if (groups.length === 3 && groups[0] === 4 && groups[1] === 6) return groups[2] === 5 || groups[2] === 4;
  for (let i = 0; i < groups.length - 1; i++) if (groups[i] !== 4) return false;
  const last = groups[groups.length - 1] ?? 0;
  return groups.length >= 4 && last >= 1 && last <= 4;
}

/**
 * Payment card numbers. Luhn is required; a known issuer prefix and card-like grouping raise the score,
 * card words near it raise it further, order/transaction/ticket words lower it.
 */
export function detectCards(text: string, scan = new TextScan(text)): Finding[] {
  const findings: Finding[] = [];
  const onMatch = (m: RegExpExecArray, start: number) => {
    const candidate = m[0];
    if (!plausibleGrouping(candidate)) return;
    const digits = candidate.replace(/[ -]/g, '');
    if (!luhn(digits)) return;
    const grouped = digits.length !== candidate.length;
    const base = knownIssuer(digits) ? (grouped ? 0.9 : 0.75) : 0.3;
    const score = scoreWithContext(text, start, 'credit_card', base, 0.25, 0.35, scan);
    findings.push({ type: 'credit_card', start, end: start + candidate.length, score: clampScore(score) });
  };
  for (const run of scan.numberRuns())
    if (run.digits >= MIN_CARD_DIGITS) forEachMatchInRun(text, run.start, run.end, CARD_CANDIDATE, onMatch);
  return findings;
}
