/**
 * Context scoring shared by the detectors: the ~40 characters before a candidate are searched for words that
 * make the type likely ("card", "ssn", "token") or unlikely ("order", "version", "commit"). When both kinds
 * are there, the one nearer the candidate decides, as a reader would read it: in "note from the call: SSN
 * 536 22 8745" the number is an SSN. A value in a CSV column is read in the light of its column's header
 * instead, since the cells before it on its row are other values, not words about it. Only candidates are
 * scored, so this costs one short slice and a few small regex runs per candidate.
 */
import { csvColumnHeader } from './csv-header';
import { clampScore, type PiiType } from './finding';
import type { TextScan } from './text-scan';

/** How many UTF-16 code units before a candidate are read for context. */
export const CONTEXT_WINDOW = 40;

/**
 * Keywords of one kind for one type: alternatives read as whole words, where an underscore also separates
 * words, so that snake_case keys (card_number, tax_id, order_id) are read as their words; and symbols, matched
 * anywhere.
 */
interface Keywords {
  words: string;
  symbols?: string;
}

function keywordRegExp(k: Keywords): RegExp {
  return new RegExp(`(?<![A-Za-z0-9])(?:${k.words})(?![A-Za-z0-9])${k.symbols ? `|${k.symbols}` : ''}`, 'i');
}

/**
 * Words near a candidate that raise its score. Phone words include French, Spanish, German, Italian and
 * Japanese ones, because on-call chat quotes customers in their own language.
 */
const POSITIVE: Readonly<Record<PiiType, Keywords>> = {
  email: { words: 'e-?mail|mail(?:to)?|contact|reach|address|send|cc|from|to' },
  phone: {
    words:
      'phone|tel(?:ephone)?|mob(?:ile)?|cell|call(?:ed|ing)?|ring|dial|sms|whats ?app|fax|contact|reach|number|' +
      't[ée]l[ée]phone|telefon(?:o|nummer)?|rufnummer|handy|portable|num[ée]ro|n[úu]mero|m[óo]vil|cellulare',
    symbols: '電話|📞|☎',
  },
  credit_card: {
    words:
      'cards?|visa|master ?card|amex|american express|discover|cc|cvv|credit|debit|pan|payment|paid|charged?',
  },
  iban: { words: 'iban|bank|account|acct|sepa|transfer|wire|bic|swift|payee|beneficiary' },
  us_ssn: { words: 'ssn|ss#|social security|social sec|soc\\.? ?sec|taxpayer|tax[ _-]?id|tin|itin' },
  ip_address: {
    words:
      'ip|ipv[46]|host|addr(?:ess)?|server|client|from|src|dst|source|peer|remote|connect(?:ed|ion)?|node|gateway|' +
      'dns|subnet|ping',
  },
  secret: { words: 'secret|token|key|password|passwd|pwd|credentials?|api|auth|bearer|private|aws|signing' },
  person_name: { words: 'name|mr|mrs|ms|dr|dear' },
};

/**
 * Words near a candidate that lower its score: identifiers that merely look like the type. A number right
 * after an SSN or tax-id word is not a phone number.
 */
const NEGATIVE: Readonly<Partial<Record<PiiType, Keywords>>> = {
  phone: {
    words:
      'order|ord|invoice|inv|ticket|case|ref(?:erence)?|tracking|shipment|account|acct|build|job|run|pid|port|issue|' +
      'pr|incident|txn|transaction|request|req|id|version|ver|release|serial|sku|part|epoch|timestamp|ts|bytes|size|' +
      'count|ssn|social security|taxpayer|tax[ _-]?id',
  },
  credit_card: {
    words:
      'order|ord|invoice|inv|ticket|tracking|shipment|ref(?:erence)?|txn|transaction|request|req|id|build|job|run|' +
      'epoch|timestamp|ts|serial|sku|imei|account number',
  },
  us_ssn: {
    words: 'order|ord|invoice|ticket|tracking|ref(?:erence)?|build|job|run|phone|tel|call|zip|routing|id',
  },
  ip_address: {
    words: 'version|ver|release|build|firmware|v|sdk|chart|image|tag|semver|oid|section|chapter|clause',
  },
};

/** Words near a candidate that raise its score, per type. */
export const CONTEXT_KEYWORDS: Readonly<Record<PiiType, RegExp>> = Object.fromEntries(
  Object.entries(POSITIVE).map(([type, k]) => [type, keywordRegExp(k)]),
) as Record<PiiType, RegExp>;

/** Words near a candidate that lower its score, per type. */
export const NEGATIVE_CONTEXT: Readonly<Partial<Record<PiiType, RegExp>>> = Object.fromEntries(
  Object.entries(NEGATIVE).map(([type, k]) => [type, keywordRegExp(k as Keywords)]),
);

/**
 * Per type, the positive and negative keywords in one global regex, so that a window is searched once; a match
 * of group 1 is a negative word, any other match a positive one. Where a positive and a negative word start at
 * the same place, the positive one is taken.
 */
const EITHER_KEYWORD: Readonly<Record<PiiType, RegExp>> = Object.fromEntries(
  Object.entries(POSITIVE).map(([type, positive]) => {
    const negative = NEGATIVE[type as PiiType];
    const words = negative ? `${positive.words}|(${negative.words})` : positive.words;
    const symbols = positive.symbols ? `|${positive.symbols}` : '';
    return [type, new RegExp(`(?<![A-Za-z0-9])(?:${words})(?![A-Za-z0-9])${symbols}`, 'gi')];
  }),
) as Record<PiiType, RegExp>;

/** How far the window may be widened to take in the whole of a word it cuts ("sup|port" is not "port"). */
const WORD_EXTENSION = 24;

function isWordCode(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
}

/** The start of the context window before `start`, moved back to the beginning of a word it would cut. */
function windowStart(text: string, start: number, window: number): number {
  let from = start > window ? start - window : 0;
  const limit = from > WORD_EXTENSION ? from - WORD_EXTENSION : 0;
  while (from > limit && isWordCode(text.charCodeAt(from - 1)) && isWordCode(text.charCodeAt(from))) from--;
  return from;
}

/** Whether `re` matches in the window of text before `start`. */
export function hasContextBefore(text: string, start: number, re: RegExp, window = CONTEXT_WINDOW): boolean {
  const from = windowStart(text, start, window);
  return re.test(text.slice(from, start));
}

interface Span {
  start: number;
  end: number;
}

/** The last positive and the last negative keyword in `s`. */
function lastKeywords(type: PiiType, s: string): { positive?: Span; negative?: Span } {
  const re = EITHER_KEYWORD[type];
  let positive: Span | undefined;
  let negative: Span | undefined;
  re.lastIndex = 0;
  for (let m = re.exec(s); m !== null; m = re.exec(s)) {
    const span = { start: m.index, end: m.index + m[0].length };
    if (m[1] !== undefined) negative = span;
    else positive = span;
  }
  return { positive, negative };
}

function isCompoundCode(c: number): boolean {
  return isWordCode(c) || c === 45; /* - */
}

/**
 * Which of a positive and a negative keyword match counts: both when they are words of one compound
 * (tracking_number: a number, but a tracking one), the containing one when one is inside the other (tax_id
 * holds id), otherwise the nearer one to the candidate.
 */
function deciding(s: string, positive: Span, negative: Span): 'positive' | 'negative' | 'both' {
  if (negative.start >= positive.start && negative.end <= positive.end) return 'positive';
  if (positive.start >= negative.start && positive.end <= negative.end) return 'negative';
  const [first, second] = positive.start < negative.start ? [positive, negative] : [negative, positive];
  let joined = true;
  for (let i = first.end; i < second.start && joined; i++) joined = isCompoundCode(s.charCodeAt(i));
  if (joined) return 'both';
  return positive.end > negative.end ? 'positive' : 'negative';
}

/**
 * A base score moved by context: `boost` added when a keyword of the type is near, `penalty` taken off when a
 * negative keyword is near; when both are, the nearer one counts, or both when they form one compound word. A
 * value at the start of a CSV cell is judged by its column's header when there is one. `scan`, when given,
 * remembers the CSV layout between the candidates of one text.
 */
export function scoreWithContext(
  text: string,
  start: number,
  type: PiiType,
  base: number,
  boost = 0.25,
  penalty = 0.35,
  scan?: TextScan,
): number {
  if (start === 0) return clampScore(base);
  const header = scan ? scan.csvHeaders().cellAbove(start) : csvColumnHeader(text, start);
  const before = header ?? text.slice(windowStart(text, start, CONTEXT_WINDOW), start);
  const { positive, negative } = lastKeywords(type, before);
  const decision =
    positive && negative ? deciding(before, positive, negative) : positive ? 'positive' : 'negative';
  let score = base;
  if (positive && decision !== 'negative') score += boost;
  if (negative && decision !== 'positive') score -= penalty;
  return clampScore(score);
}
