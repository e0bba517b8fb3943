import { clampScore, type Finding } from '../finding';
import { scoreWithContext } from '../context';
import { validUsSsn } from '../validators';

/** 3-2-4 digits with the same separator (dash or space) twice, or none, not inside a longer number. */
const SSN_CANDIDATE = /(?<![\w.\-+/:])\d{3}([- ]?)\d{2}\1\d{4}(?![\w/:]|[.-]\d)/g;

const BASE_DASHED = 0.75;
const BASE_SPACED = 0.5;
const BASE_BARE = 0.25;

/**
 * US Social Security numbers held to the area/group/serial rules. The dashed form scores as an SSN on its
 * own; spaced and bare forms need an "ssn"/"social security" word near to be reported.
 */
export function detectSsns(text: string): Finding[] {
  const findings: Finding[] = [];
  SSN_CANDIDATE.lastIndex = 0;
  for (let m = SSN_CANDIDATE.exec(text); m !== null; m = SSN_CANDIDATE.exec(text)) {
    if (!validUsSsn(m[0])) continue;
    const sep = m[1];
    const base = sep === '-' ? BASE_DASHED : sep === ' ' ? BASE_SPACED : BASE_BARE;
    const score = scoreWithContext(text, m.index, 'us_ssn', base, 0.3, 0.35);
    findings.push({ type: 'us_ssn', start: m.index, end: m.index + m[0].length, score: clampScore(score) });
  }
  return findings;
}
