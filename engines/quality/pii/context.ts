/**
 * Context scoring shared by the detectors: the ~40 characters before a candidate are searched for words that
 * make the type likely ("card", "ssn", "token") or unlikely ("order", "version", "commit"). Only candidates are
 * scored, so this costs one short slice and one or two small regex tests per candidate.
 */
import { clampScore, type PiiType } from './finding';

/** How many UTF-16 code units before a candidate are read for context. */
export const CONTEXT_WINDOW = 40;

/** Words near a candidate that raise its score. */
export const CONTEXT_KEYWORDS: Readonly<Record<PiiType, RegExp>> = {
  email: /\b(?:e-?mail|mail(?:to)?|contact|reach|address|send|cc|from|to)\b/i,
  phone:
    /\b(?:phone|tel(?:ephone)?|mob(?:ile)?|cell|call(?:ed|ing)?|ring|dial|sms|whats ?app|fax|contact|reach|number)\b|📞|☎/i,
  credit_card:
    /\b(?:cards?|visa|master ?card|amex|american express|discover|cc|cvv|credit|debit|pan|payment|paid|charged?)\b/i,
  iban: /\b(?:iban|bank|account|acct|sepa|transfer|wire|bic|swift|payee|beneficiary)\b/i,
  us_ssn: /\b(?:ssn|ss#|social security|social sec|soc\.? ?sec|taxpayer|tin|itin)\b/i,
  ip_address:
    /\b(?:ip|ipv[46]|host|addr(?:ess)?|server|client|from|src|dst|source|peer|remote|connect(?:ed|ion)?|node|gateway|dns|subnet|ping)\b/i,
  secret: /\b(?:secret|token|key|password|passwd|pwd|credentials?|api|auth|bearer|private|aws|signing)\b/i,
  person_name: /\b(?:name|mr|mrs|ms|dr|dear)\b/i,
};

/** Words near a candidate that lower its score: identifiers that merely look like the type. */
export const NEGATIVE_CONTEXT: Readonly<Partial<Record<PiiType, RegExp>>> = {
  phone:
    /\b(?:order|ord|invoice|inv|ticket|case|ref(?:erence)?|tracking|shipment|account|acct|build|job|run|pid|port|issue|pr|incident|txn|transaction|request|req|id|version|ver|release|serial|sku|part|epoch|timestamp|ts|bytes|size|count)\b/i,
  credit_card:
    /\b(?:order|ord|invoice|inv|ticket|tracking|shipment|ref(?:erence)?|txn|transaction|request|req|id|build|job|run|epoch|timestamp|ts|serial|sku|imei|account number)\b/i,
  us_ssn:
    /\b(?:order|ord|invoice|ticket|tracking|ref(?:erence)?|build|job|run|phone|tel|call|zip|routing|id)\b/i,
  ip_address: /\b(?:version|ver|release|build|firmware|v|sdk|chart|image|tag|semver|oid)\b/i,
};

/** Whether `re` matches in the window of text before `start`. */
export function hasContextBefore(text: string, start: number, re: RegExp, window = CONTEXT_WINDOW): boolean {
  const from = start > window ? start - window : 0;
  return re.test(text.slice(from, start));
}

/**
 * A base score moved by context: `boost` added when a keyword of the type is near, `penalty` taken off when a
 * negative keyword is near (both may apply).
 */
export function scoreWithContext(
  text: string,
  start: number,
  type: PiiType,
  base: number,
  boost = 0.25,
  penalty = 0.35,
): number {
  const from = start > CONTEXT_WINDOW ? start - CONTEXT_WINDOW : 0;
  if (from === start) return clampScore(base);
  const before = text.slice(from, start);
  let score = base;
  if (CONTEXT_KEYWORDS[type].test(before)) score += boost;
  const negative = NEGATIVE_CONTEXT[type];
  if (negative?.test(before)) score -= penalty;
  return clampScore(score);
}
