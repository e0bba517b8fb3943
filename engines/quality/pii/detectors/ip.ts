import { clampScore, type Finding } from '../finding';
import { scoreWithContext } from '../context';
import { isInfrastructureAddress, isIPv4, isIPv6 } from '../validators';
import { TextScan } from '../text-scan';
import { forEachMatchInRun } from './runs';

/** Dotted quad not inside a longer dotted or word sequence (1.2.3.4.5, v1.2.3.4); a :port after is fine. */
const IPV4_CANDIDATE = /(?<![\w.])\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}(?![\w]|\.\d)/g;
const MIN_IPV4_DIGITS = 4;
/**
 * Hex groups with at least two colons, optionally ending in an embedded IPv4, not preceded by a word
 * character or colon (std::vector is not an address). `net.isIP` decides. Only tried where an address can
 * start: at the first colon of a run, or at the one to four hex digits before it, so the colons of times and
 * `key: value` text cost a character test each.
 */
const IPV6_CANDIDATE =
  /(?:[0-9A-Fa-f]{1,4}|:)?(?::[0-9A-Fa-f]{0,4}){2,7}(?:\.\d{1,3}\.\d{1,3}\.\d{1,3})?(?![\w:]|\.\d)/y;

function isHexCode(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
}

/** Letters, digits, `_`, `:` and `.`: what may not come right before an address. */
function joinsBefore(c: number): boolean {
  return (
    (c >= 48 && c <= 57) ||
    (c >= 65 && c <= 90) ||
    (c >= 97 && c <= 122) ||
    c === 95 /* _ */ ||
    c === 58 /* : */ ||
    c === 46 /* . */
  );
}

/**
 * Public IPv4 and IPv6 addresses (infrastructure ones are not personal data: see isInfrastructureAddress); the
 * span is the address alone, without a port or brackets.
 */
export function detectIps(text: string, scan = new TextScan(text)): Finding[] {
  const findings: Finding[] = [];
  const onIpv4 = (m: RegExpExecArray, start: number) => {
    if (!isIPv4(m[0]) || isInfrastructureAddress(m[0])) return;
    const score = scoreWithContext(text, start, 'ip_address', 0.85, 0.1, 0.5, scan);
    findings.push({ type: 'ip_address', start, end: start + m[0].length, score: clampScore(score) });
  };
  for (const run of scan.numberRuns())
    if (run.digits >= MIN_IPV4_DIGITS && run.dots >= 3)
      forEachMatchInRun(text, run.start, run.end, IPV4_CANDIDATE, onIpv4);
  for (let colon = text.indexOf(':'); colon >= 0; colon = text.indexOf(':', colon + 1)) {
    // An address has another colon within five characters: `::` or `:` hex digits `:`.
    let next = colon + 1;
    while (next < colon + 5 && isHexCode(text.charCodeAt(next))) next++;
    if (text.charCodeAt(next) !== 58 /* : */) continue;
    let start = colon;
    while (start > 0 && colon - start <= 4 && isHexCode(text.charCodeAt(start - 1))) start--;
    if (colon - start > 4 || (start > 0 && joinsBefore(text.charCodeAt(start - 1)))) continue;
    IPV6_CANDIDATE.lastIndex = start;
    const m = IPV6_CANDIDATE.exec(text);
    if (m === null) continue;
    const candidate = m[0];
    // The next address can only start after this candidate.
    colon = start + candidate.length - 1;
    if (candidate.length < 3 || !/[0-9A-Fa-f]/.test(candidate) || !isIPv6(candidate)) continue;
    if (isInfrastructureAddress(candidate)) continue;
    // Eight plain decimal groups without :: (1:2:3:4:5:6:7:8) are more likely a list or a ratio.
    const base = candidate.includes('::') || /[A-Fa-f]/.test(candidate) ? 0.85 : 0.4;
    const score = scoreWithContext(text, start, 'ip_address', base, 0.1, 0.5, scan);
    findings.push({ type: 'ip_address', start, end: start + candidate.length, score: clampScore(score) });
  }
  return findings;
}
