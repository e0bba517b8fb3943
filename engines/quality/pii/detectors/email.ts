import { clampScore, type Finding } from '../finding';
import { scoreWithContext } from '../context';

/**
 * An address: local part, @, one or more DNS labels and an alphabetic TLD. The look-behind pins the start to
 * the beginning of the local-part run, so long words cost linear time.
 */
const EMAIL =
  /(?<![A-Za-z0-9._%+-])[A-Za-z0-9_%+-](?:[A-Za-z0-9._%+-]{0,62}[A-Za-z0-9_%+-])?@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}(?![A-Za-z0-9-]|@)/g;

/** Local parts of service addresses that are infrastructure, not people (git@github.com:org/repo). */
const SERVICE_LOCAL = /^(?:git|hg|svn)$/;

export function detectEmails(text: string): Finding[] {
  if (text.indexOf('@') < 0) return [];
  const findings: Finding[] = [];
  EMAIL.lastIndex = 0;
  for (let m = EMAIL.exec(text); m !== null; m = EMAIL.exec(text)) {
    const start = m.index;
    const end = start + m[0].length;
    // `user:pass@host` in a URL is a credential (the secret detector's) and a host, not a mailbox.
    if (text.charCodeAt(start - 1) === 58 /* : */ && inUrlUserinfo(text, start - 1)) continue;
    const at = m[0].indexOf('@');
    // An scp-style remote (git@github.com:org/repo.git) is an address of a service, not of a person.
    const base = SERVICE_LOCAL.test(m[0].slice(0, at)) && text.charCodeAt(end) === 58 /* : */ ? 0.2 : 0.9;
    findings.push({
      type: 'email',
      start,
      end,
      score: clampScore(scoreWithContext(text, start, 'email', base, 0.09, 0)),
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
