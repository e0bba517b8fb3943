import { clampScore, type Finding } from '../finding';
import { scoreWithContext } from '../context';
import { isIPv4, isIPv6 } from '../validators';

/** Dotted quad not inside a longer dotted or word sequence (1.2.3.4.5, v1.2.3.4); a :port after is fine. */
const IPV4_CANDIDATE = /(?<![\w.])\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}(?![\w]|\.\d)/g;
/**
 * Hex groups with at least two colons, optionally ending in an embedded IPv4, not preceded by a word
 * character or colon (std::vector is not an address). `net.isIP` decides.
 */
const IPV6_CANDIDATE =
  /(?<![\w:.])(?:[0-9A-Fa-f]{1,4}|:)?(?::[0-9A-Fa-f]{0,4}){2,7}(?:\.\d{1,3}\.\d{1,3}\.\d{1,3})?(?![\w:]|\.\d)/g;

/** IPv4 and IPv6 addresses; the span is the address alone, without a port or brackets. */
export function detectIps(text: string): Finding[] {
  const findings: Finding[] = [];
  if (text.indexOf('.') >= 0) {
    IPV4_CANDIDATE.lastIndex = 0;
    for (let m = IPV4_CANDIDATE.exec(text); m !== null; m = IPV4_CANDIDATE.exec(text)) {
      if (!isIPv4(m[0])) continue;
      const score = scoreWithContext(text, m.index, 'ip_address', 0.85, 0.1, 0.5);
      findings.push({
        type: 'ip_address',
        start: m.index,
        end: m.index + m[0].length,
        score: clampScore(score),
      });
    }
  }
  if (text.indexOf(':') >= 0) {
    IPV6_CANDIDATE.lastIndex = 0;
    for (let m = IPV6_CANDIDATE.exec(text); m !== null; m = IPV6_CANDIDATE.exec(text)) {
      const candidate = m[0];
      if (candidate.length < 3 || !/[0-9A-Fa-f]/.test(candidate) || !isIPv6(candidate)) continue;
      // Eight plain decimal groups without :: (1:2:3:4:5:6:7:8) are more likely a list or a ratio.
      const base = candidate.includes('::') || /[A-Fa-f]/.test(candidate) ? 0.85 : 0.4;
      const score = scoreWithContext(text, m.index, 'ip_address', base, 0.1, 0.5);
      findings.push({
        type: 'ip_address',
        start: m.index,
        end: m.index + candidate.length,
        score: clampScore(score),
      });
    }
  }
  return findings;
}
