import { findDurations } from './durations';

/** A lexicon word found in text: the canonical value it maps to and where it was. */
export interface LexiconMention {
  value: string;
  start: number;
  end: number;
}

/**
 * Catalog aliases that are also everyday English words. They only count as a mention when the words around
 * them do not read as ordinary usage ("order me a pizza", "search the docs for", "this stage").
 */
const ORDINARY_WORDS = new Set([
  'account',
  'accounts',
  'api',
  'app',
  'auth',
  'basket',
  'billing',
  'cache',
  'cart',
  'catalog',
  'checkout',
  'core',
  'data',
  'dev',
  'development',
  'edge',
  'email',
  'ingress',
  'login',
  'mail',
  'notification',
  'order',
  'ordering',
  'pay',
  'profile',
  'queue',
  'search',
  'shipping',
  'stage',
  'stock',
  'user',
  'warehouse',
  'web',
]);

/** Words after an alias that make it a verb or a plain noun: "order me", "search for", "pay my", "stage 2". */
const ORDINARY_NEXT_WORDS = new Set([
  'a',
  'an',
  'about',
  'anything',
  'case',
  'cases',
  'docs',
  'documentation',
  'everything',
  'for',
  'her',
  'him',
  'it',
  'me',
  'my',
  'our',
  'some',
  'something',
  'that',
  'them',
  'these',
  'this',
  'those',
  'through',
  'us',
  'wiki',
  'you',
  'your',
]);

/** "for" and what follows it: a length there ("checkout for 30 minutes") makes the alias what is held that long. */
const FOR_THEN = /^[^\p{L}\p{N}]*for\s+/u;

/** Words before an alias that make it a plain noun ("an order", "my cart", "this stage", "a dev"). */
const ORDINARY_PREVIOUS_WORDS = new Set([
  'a',
  'an',
  'any',
  'each',
  'every',
  'her',
  'his',
  'my',
  'next',
  'our',
  'their',
  'this',
  'that',
  'which',
  'your',
]);

/** Words before an imperative verb: "search the docs", "please order the parts", "can you search the logs". */
const IMPERATIVE_LEAD_WORDS = new Set([
  'please',
  'pls',
  'you',
  'to',
  'and',
  'then',
  'lets',
  "let's",
  'just',
  'i',
  'we',
]);

/** Nouns after an alias that confirm it names a system, overriding the previous-word check ("a search service"). */
const SYSTEM_NOUNS = /^(?:service|svc|api|app|deployment|pods?|replicas?|cluster|env|environment|namespace)$/;

/** An id after an alias makes it a business object ("order 1234", "user #42"); a small count does not ("search 3"). */
const BUSINESS_ID = /^(?:#\d|\d{3,}$)/;

/** Idioms that contain alias words but never name a service or environment. */
const IDIOMS =
  /\b(?:in order to|order fulfil+ment|user onboarding|out of order|out of stock|in stock|edge cases?|pay attention|stage \d+)\b/g;

const PREVIOUS_WORD = /([\p{L}\p{N}'#]+)[^\p{L}\p{N}'#]*$/u;
const NEXT_WORD = /^[^\p{L}\p{N}#]*(#?[\p{L}\p{N}']+)/u;
const LOOKAROUND_CHARS = 40;

/** Typo tolerance is limited to long words, where one edit rarely turns one real word into another. */
const FUZZY_MIN_LENGTH = 6;
const FUZZY_TOKEN = /[\p{L}]{6,}/gu;
/** Inflected words ("notified", "ordering") are real words one edit away from aliases, not typos. */
const INFLECTED = /(?:ed|ing|ly)$/;

function escapeRegExp(word: string): string {
  return word.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Finds whole-word mentions of a lexicon (names and aliases → canonical value), longest alias first so
 * "payment-service" wins over "payment". Optionally accepts one-edit typos of long aliases ("paymnets").
 */
export class LexiconMatcher {
  private readonly pattern: RegExp;
  private readonly fuzzyTargets: string[];

  constructor(
    private readonly lexicon: ReadonlyMap<string, string>,
    options: { fuzzy: boolean },
  ) {
    const words = [...lexicon.keys()].sort((a, b) => b.length - a.length).map(escapeRegExp);
    this.pattern = new RegExp(
      `(?<![\\p{L}\\p{N}_])(?:${words.join('|') || '(?!)'})(?![\\p{L}\\p{N}_])`,
      'giu',
    );
    this.fuzzyTargets = options.fuzzy ? [...lexicon.keys()].filter((w) => w.length >= FUZZY_MIN_LENGTH) : [];
  }

  /**
   * Mentions in order of position. `lower` is `text` lower-cased with the same length. With `strict`, ordinary
   * words are checked against their context; a bare dialogue answer ("order") is trusted without it.
   */
  find(lower: string, strict: boolean): LexiconMention[] {
    const mentions: LexiconMention[] = [];
    const idiomSpans = strict ? spansOf(IDIOMS, lower) : [];
    this.pattern.lastIndex = 0;
    for (let match = this.pattern.exec(lower); match; match = this.pattern.exec(lower)) {
      const start = match.index;
      const end = start + match[0].length;
      if (strict && this.readsAsOrdinaryWord(lower, match[0], start, end, idiomSpans)) continue;
      mentions.push({ value: this.lexicon.get(match[0]) ?? match[0], start, end });
    }
    if (this.fuzzyTargets.length > 0) this.addTypoMentions(lower, strict, mentions, idiomSpans);
    return mentions.sort((a, b) => a.start - b.start);
  }

  private addTypoMentions(
    lower: string,
    strict: boolean,
    mentions: LexiconMention[],
    idiomSpans: Array<[number, number]>,
  ): void {
    FUZZY_TOKEN.lastIndex = 0;
    for (let token = FUZZY_TOKEN.exec(lower); token; token = FUZZY_TOKEN.exec(lower)) {
      const word = token[0];
      const start = token.index;
      const end = start + word.length;
      if (this.lexicon.has(word) || INFLECTED.test(word)) continue;
      if (mentions.some((m) => m.start < end && start < m.end)) continue;
      const target = this.fuzzyTargets.find(
        (t) => Math.abs(t.length - word.length) <= 1 && withinOneEdit(word, t),
      );
      if (target === undefined) continue;
      if (strict && this.readsAsOrdinaryWord(lower, target, start, end, idiomSpans)) continue;
      mentions.push({ value: this.lexicon.get(target) ?? target, start, end });
    }
  }

  private readsAsOrdinaryWord(
    lower: string,
    word: string,
    start: number,
    end: number,
    idiomSpans: Array<[number, number]>,
  ): boolean {
    if (idiomSpans.some(([s, e]) => s <= start && end <= e)) return true;
    if (!ORDINARY_WORDS.has(word)) return false;
    const previous = PREVIOUS_WORD.exec(lower.slice(Math.max(0, start - LOOKAROUND_CHARS), start))?.[1];
    const next = NEXT_WORD.exec(lower.slice(end, end + LOOKAROUND_CHARS))?.[1];
    if (next !== undefined && SYSTEM_NOUNS.test(next)) return false;
    // After another word: at the start, or after "please", it stays a verb ("search for 30 minutes of logs").
    if (
      next === 'for' &&
      previous !== undefined &&
      !IMPERATIVE_LEAD_WORDS.has(previous) &&
      startsWithLength(lower.slice(end, end + LOOKAROUND_CHARS))
    )
      return false;
    if (next !== undefined && (ORDINARY_NEXT_WORDS.has(next) || BUSINESS_ID.test(next))) return true;
    if (next === 'the' && (previous === undefined || IMPERATIVE_LEAD_WORDS.has(previous))) return true;
    return previous !== undefined && ORDINARY_PREVIOUS_WORDS.has(previous);
  }
}

/** Whether the text is "for" and then a length: "for 30 minutes", "for an hour", "for 2h". */
function startsWithLength(text: string): boolean {
  const lead = FOR_THEN.exec(text)?.[0].length;
  return lead !== undefined && findDurations(text).some((duration) => duration.start === lead);
}

function spansOf(pattern: RegExp, text: string): Array<[number, number]> {
  const spans: Array<[number, number]> = [];
  pattern.lastIndex = 0;
  for (let match = pattern.exec(text); match; match = pattern.exec(text)) {
    spans.push([match.index, match.index + match[0].length]);
  }
  return spans;
}

/** True when one insertion, deletion, substitution or adjacent transposition turns `a` into `b`. */
function withinOneEdit(a: string, b: string): boolean {
  if (a === b) return true;
  if (Math.abs(a.length - b.length) > 1) return false;
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  if (a.length === b.length) {
    if (a.slice(i + 1) === b.slice(i + 1)) return true;
    return a[i] === b[i + 1] && a[i + 1] === b[i] && a.slice(i + 2) === b.slice(i + 2);
  }
  return a.length > b.length ? a.slice(i + 1) === b.slice(i) : a.slice(i) === b.slice(i + 1);
}
