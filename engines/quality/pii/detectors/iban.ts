import { clampScore, type Finding } from '../finding';
import { scoreWithContext } from '../context';
import { TextScan } from '../text-scan';
import { IBAN_LENGTHS, ibanMod97 } from '../validators';

/**
 * Country code, check digits, then alphanumerics optionally grouped by single spaces (as printed, in fours).
 * The country's length decides where the IBAN ends, so a trailing word ("… 00 EUR") is not swallowed.
 */
const IBAN_CANDIDATE = /(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]){10,30}/g;

function isAlnum(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

/** IBANs of any registry country, held to that country's length and the mod-97 check. */
export function detectIbans(text: string, scan = new TextScan(text)): Finding[] {
  const findings: Finding[] = [];
  IBAN_CANDIDATE.lastIndex = 0;
  for (let m = IBAN_CANDIDATE.exec(text); m !== null; m = IBAN_CANDIDATE.exec(text)) {
    const start = m.index;
    const expected = IBAN_LENGTHS[m[0].slice(0, 2)];
    if (expected === undefined) {
      IBAN_CANDIDATE.lastIndex = start + 1;
      continue;
    }
    // Walk the candidate until the country's length of alphanumerics is collected.
    let compact = '';
    let i = start;
    const limit = start + m[0].length;
    while (i < limit && compact.length < expected) {
      const c = text.charCodeAt(i);
      if (c !== 32) compact += text[i];
      i++;
    }
    IBAN_CANDIDATE.lastIndex = i > start ? i : start + 1;
    if (compact.length !== expected || isAlnum(text.charCodeAt(i))) continue;
    if (ibanMod97(compact) !== 1) continue;
    const score = scoreWithContext(text, start, 'iban', 0.85, 0.14, 0, scan);
    findings.push({ type: 'iban', start, end: i, score: clampScore(score) });
  }
  return findings;
}
