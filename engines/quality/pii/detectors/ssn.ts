import { clampScore, type Finding } from '../finding';
import { scoreWithContext } from '../context';
import { validUsSsn } from '../validators';
import { TextScan } from '../text-scan';
import { forEachMatchInRun } from './runs';

/** 3-2-4 digits with the same separator (dash or space) twice, or none, not inside a longer number. */
const SSN_CANDIDATE = /(?<![\w.\-+/:])\d{3}([- ]?)\d{2}\1\d{4}(?![\w/:]|[.-]\d)/g;
const SSN_DIGITS = 9;

const BASE_DASHED = 0.75;
const BASE_SPACED = 0.5;
const BASE_BARE = 0.25;

/**
 * US Social Security numbers held to the area/group/serial rules. The dashed form scores as an SSN on its
 * own; spaced and bare forms need an "ssn"/"social security" word near to be reported.
 */
export function detectSsns(text: string, scan = new TextScan(text)): Finding[] {
  const findings: Finding[] = [];
  const onMatch = (m: RegExpExecArray, start: number) => {
    if (!validUsSsn(m[0])) return;
    const sep = m[1];
    const base = sep === '-' ? BASE_DASHED : sep === ' ' ? BASE_SPACED : BASE_BARE;
    const score = scoreWithContext(text, start, 'us_ssn', base, 0.3, 0.35, scan);
    findings.push({ type: 'us_ssn', start, end: start + m[0].length, score: clampScore(score) });
  };
  for (const run of scan.numberRuns())
    if (run.digits >= SSN_DIGITS) forEachMatchInRun(text, run.start, run.end, SSN_CANDIDATE, onMatch);
  return findings;
}
