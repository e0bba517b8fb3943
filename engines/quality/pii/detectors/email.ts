import { clampScore, type Finding } from '../finding';
import { scoreWithContext } from '../context';
import { TextScan } from '../text-scan';

/**
 * An address: local part, @, one or more DNS labels and an alphabetic TLD. It is only tried where it can
 * start: at the beginning of the run of local-part characters before an `@` (found with indexOf), so text
 * without an `@` costs one scan, and long words cost nothing.
 */
const EMAIL =
  /[A-Za-z0-9_%+-](?:[A-Za-z0-9._%+-]{0,62}[A-Za-z0-9_%+-])?@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}(?![A-Za-z0-9-]|@)/y;

/** The longest local part an address may have (RFC 5321). */
const MAX_LOCAL_PART = 64;

/** Local parts of service addresses that are infrastructure, not people (git@github.com:org/repo). */
const SERVICE_LOCAL = /^(?:git|hg|svn)$/;

function isLocalPartCode(c: number): boolean {
  return (
    (c >= 48 && c <= 57) ||
    (c >= 65 && c <= 90) ||
    (c >= 97 && c <= 122) ||
    c === 46 /* . */ ||
    c === 95 /* _ */ ||
    c === 37 /* % */ ||
    c === 43 /* + */ ||
    c === 45 /* - */
  );
}

export function detectEmails(text: string, scan = new TextScan(text)): Finding[] {
  const findings: Finding[] = [];
  for (let at = text.indexOf('@'); at >= 0; at = text.indexOf('@', at + 1)) {
    let start = at;
    while (start > 0 && at - start <= MAX_LOCAL_PART && isLocalPartCode(text.charCodeAt(start - 1))) start--;
    if (start === at || at - start > MAX_LOCAL_PART) continue;
    EMAIL.lastIndex = start;
    const m = EMAIL.exec(text);
    if (m === null) continue;
    const end = start + m[0].length;
    // `user:pass@host` in a URL is a credential (the secret detector's) and a host, not a mailbox.
    if (text.charCodeAt(start - 1) === 58 /* : */ && inUrlUserinfo(text, start - 1)) continue;
    // An scp-style remote (git@github.com:org/repo.git) is an address of a service, not of a person.
    const base = SERVICE_LOCAL.test(text.slice(start, at)) && text.charCodeAt(end) === 58 /* : */ ? 0.2 : 0.9;
    findings.push({
      type: 'email',
      start,
      end,
      score: clampScore(scoreWithContext(text, start, 'email', base, 0.09, 0, scan)),
    });
  }
  return findings;
}

/** Whether the `:` at `colon` sits in the userinfo of a URL: `//` comes before it in the same token. */
function inUrlUserinfo(text: string, colon: number): boolean {
  const limit = colon > 256 ? colon - 256 : 0;
  for (let i = colon - 1; i > limit; i--) {
    const c = text.charCodeAt(i);
    if (c === 47 /* / */) return text.charCodeAt(i - 1) === 47;
    if (c === 32 || c === 9 || c === 10 || c === 13 || c === 64 /* @ */) return false;
  }
  return false;
}
